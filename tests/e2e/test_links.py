"""Task links in Chromium, keyboard only: add a GitHub pull request, refresh it and watch the
badge and the schedule row change, edit its title and labels, remove it with the inline
confirm; a viewer sees no add/edit/remove; file links show their cards. axe-core throughout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import responses
from playwright.sync_api import Page, expect

from ppm.extensions import db
from tests.e2e.test_foundation import confirm_by_keyboard, login_with_keyboard, tab_to
from tests.links.conftest import give_credential
from tests.support.netguard import NetGuard, installed_netguard

PR = "https://github.com/acme/api/pull/7"


@pytest.fixture(autouse=True)
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    with installed_netguard(monkeypatch) as guard:
        for name in ("api.github.com", "drive.google.com", "www.dropbox.com"):
            guard.resolver.add(name, "140.82.112.5")
        yield guard


@pytest.fixture
def github() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            "https://api.github.com/repos/acme/api/pulls/7",
            json={"state": "closed", "merged": True, "draft": False, "title": "Fix login redirect"},
        )
        yield mock


def _project(make: Any, owner: Any) -> dict[str, Any]:
    pid = make.project(owner, "Apollo")
    viewer = make.member(owner, pid, "viewer", user=make.user(name="Vera Viewer"))
    today = date.today()
    task = make.task(
        owner, pid, name="Login", start_date=today.isoformat(), finish_date=(today + timedelta(days=3)).isoformat()
    )
    give_credential(owner, "github", "ghp_owner")
    return {"id": pid, "task": task.id, "viewer": viewer}


def test_add_refresh_edit_remove_with_the_keyboard(
    page: Page,
    live_server: str,
    user: Any,
    make: Any,
    github: responses.RequestsMock,
    assert_accessible: Any,
    console_errors: list[str],
) -> None:
    project = _project(make, user)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule?task={project['task']}")
    section = page.locator("#task-links")
    row_glyph = page.locator(f"#task-{project['task']} .link-indicator")
    expect(row_glyph).to_have_count(0)

    # Paste a pull request: the live hint names the provider; Enter adds it.
    tab_to(page, page.get_by_label("Link", exact=True))
    page.keyboard.type(PR)
    expect(page.locator("#link-hint")).to_have_text("GitHub detected — refresh fetches live status.")
    assert_accessible(page, "links-hint")
    page.keyboard.press("Enter")
    expect(section.locator(".link-row")).to_have_count(1)
    expect(page.get_by_label("Link", exact=True)).to_be_focused()
    expect(page.locator("#live-region")).to_contain_text("Link added:")
    expect(section.locator(".status")).to_have_text(re.compile("Unknown"))
    expect(row_glyph).to_have_attribute("aria-label", "1 external link, worst status: unknown")
    assert_accessible(page, "links-added")

    # Refresh: the badge says Merged in words, and the schedule row follows without a reload.
    refresh = section.get_by_role("button", name=re.compile("^Refresh"))
    tab_to(page, refresh)
    page.keyboard.press("Enter")
    expect(section.locator(".status")).to_have_text(re.compile("Merged"))
    expect(section.locator("a.link-title")).to_have_text("Fix login redirect (opens in a new tab)")
    expect(section.locator("a.link-title")).to_have_attribute("rel", "noopener noreferrer")
    expect(section.get_by_role("button", name=re.compile("^Refresh"))).to_be_focused()
    expect(page.locator("#live-region")).to_have_text("Link refreshed: merged.")
    expect(row_glyph).to_have_attribute("aria-label", "1 external link, worst status: merged")
    assert_accessible(page, "links-refreshed")

    # Edit the title and labels in place; focus comes back to the Edit control.
    tab_to(page, section.get_by_role("link", name=re.compile("^✎ Edit|^Edit")))
    page.keyboard.press("Enter")
    title = section.locator(".link-row").get_by_label("Title (optional)")
    expect(title).to_be_focused()
    assert_accessible(page, "links-edit")
    page.keyboard.type("Login fix")
    page.keyboard.press("Tab")
    page.keyboard.type("backend, urgent")
    page.keyboard.press("Enter")
    expect(section.locator(".link-title")).to_contain_text("Login fix")
    expect(section.locator(".label")).to_have_text(["backend", "urgent"])
    expect(section.get_by_role("link", name=re.compile("Edit link Login fix"))).to_be_focused()

    # Remove asks inline with Cancel focused; Escape-free keyboard path: Tab to Remove, Enter.
    tab_to(page, section.get_by_role("link", name=re.compile("^Remove link")))
    page.keyboard.press("Enter")
    confirm_by_keyboard(page, section, "Remove this link?", "Remove", assert_accessible, "links-confirm-remove")
    expect(section).to_contain_text("No links yet.")
    expect(page.locator("#task-links-heading")).to_be_focused()
    expect(page.locator("#live-region")).to_contain_text("Link removed: Login fix.")
    expect(row_glyph).to_have_count(0)
    assert console_errors == []


def test_viewer_sees_links_without_write_controls(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any
) -> None:
    project = _project(make, user)
    from ppm.links import services

    services.add_link(user, project["id"], project["task"], {"url": PR, "labels": ["api"]})
    login_with_keyboard(page, live_server, project["viewer"].email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule?task={project['task']}")
    section = page.locator("#task-links")
    expect(section.locator(".link-row")).to_have_count(1)
    expect(section.get_by_role("button", name=re.compile("^Refresh"))).to_be_visible()
    expect(section.get_by_label("Link", exact=True)).to_have_count(0)
    expect(section.get_by_role("link", name=re.compile("Edit"))).to_have_count(0)
    expect(section.get_by_role("link", name=re.compile("Remove"))).to_have_count(0)
    # Refresh without a GitHub token of their own: a prompt to connect, not a silent failure.
    tab_to(page, section.get_by_role("button", name=re.compile("^Refresh")))
    page.keyboard.press("Enter")
    connect = section.get_by_role("link", name="Connect GitHub to see status")
    expect(connect).to_have_attribute("href", "/me/settings/connected-accounts#github")
    assert_accessible(page, "links-viewer")


def test_file_links_show_cards_and_type_chips(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any
) -> None:
    project = _project(make, user)
    from ppm.links import services

    sheet = services.add_link(
        user, project["id"], project["task"], {"url": "https://docs.google.com/spreadsheets/d/abc/edit"}
    )
    services.add_link(user, project["id"], project["task"], {"url": "https://www.dropbox.com/scl/fo/abc/xyz"})
    sheet.title, sheet.description = "Budget 2026", "Numbers for the launch."
    sheet.thumbnail_url = "https://127.0.0.1:9/thumb.png"  # refused locally: no packet leaves
    db.session.commit()
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule?task={project['task']}")
    section = page.locator("#task-links")
    expect(section.locator(".chip")).to_have_text(["File type: Spreadsheet", "File type: Folder"])
    expect(section).to_contain_text("Numbers for the launch.")
    expect(section.locator(".status")).to_have_count(0)  # no status badge for files
    expect(section.locator(".file-thumb img")).to_have_attribute("alt", "")
    assert_accessible(page, "links-file-cards")
