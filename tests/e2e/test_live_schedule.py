"""The live schedule (SPEC §23) in Debian's Chromium on a real server polling every second: two
people on one schedule; one edits a task, a signed GitHub delivery merges a pull request, a task
is removed, and the other page shows all three without losing focus or an unsaved drawer form."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from ppm.links import services as link_services
from ppm.projects import services as project_services
from tests.conftest import client_for
from tests.e2e.test_foundation import login_with_keyboard, without_script
from tests.webhooks.conftest import EXAMPLE_PR, Hook, Sender, github_example

INTERVAL = 1  # seconds between polls here (LIVE_INTERVAL)
WITHIN = 6_000  # ms: an interval, a request and a swap, on a busy shared machine


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "LIVE_INTERVAL": INTERVAL}


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def _project(make: Any, owner: Any) -> dict[str, Any]:
    pid = make.project(owner, "Apollo launch")
    mate = make.member(owner, pid, "member", user=make.user(name="Ravi Patel"))
    build = make.task(owner, pid, name="Build", start_date=_day(-3), finish_date=_day(0))
    design = make.task(owner, pid, name="Design", parent_id=build.id, start_date=_day(-3), finish_date=_day(2))
    code = make.task(owner, pid, name="Code", parent_id=build.id, start_date=_day(1), finish_date=_day(9))
    launch = make.task(owner, pid, name="Launch", start_date=_day(12), finish_date=_day(12), is_milestone=True)
    link = link_services.add_link(owner, pid, code.id, {"url": EXAMPLE_PR})
    return {
        "id": pid,
        "build": build.id,
        "design": design.id,
        "code": code.id,
        "launch": launch.id,
        "mate": mate,
        "link": link.id,
    }


def _receiver(app: Flask, owner: Any, project_id: str) -> Hook:
    response = client_for(app, owner).api(
        "POST", f"/api/v1/projects/{project_id}/webhooks/", json={"provider": "github"}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return Hook(body["id"], body["provider"], body["secret"], body["url"])


def _merged_delivery() -> dict[str, Any]:
    payload = github_example("pull_request.closed")
    payload["pull_request"].update(merged=True, merged_at="2019-05-15T15:21:18Z", merge_commit_sha="c4295bd74fb0")
    return payload


def _focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_another_persons_edit_a_merge_and_a_removal_arrive_without_losing_focus_or_input(
    app: Flask,
    page: Page,
    browser: Browser,
    live_server: str,
    user: Any,
    make: Any,
    assert_accessible: Any,
    console_errors: list[str],
) -> None:
    project = _project(make, user)
    hook = _receiver(app, user, project["id"])
    schedule = f"{live_server}/projects/{project['id']}/schedule"

    # Ravi has the schedule open with the drawer on Code (its links section shows the PR).
    login_with_keyboard(page, live_server, project["mate"].email)
    page.goto(f"{schedule}?task={project['code']}")
    expect(page.locator("#drawer-title")).to_have_text("Code")
    design_row = page.locator(f"#task-{project['design']}")
    design_link = design_row.locator(".task-link")
    # He is on Design's row (keyboard focus) when Olive renames it in her own browser.
    design_link.focus()
    other = browser.new_context()
    olive = other.new_page()
    try:
        login_with_keyboard(olive, live_server, user.email)
        olive.goto(f"{schedule}?task={project['design']}")
        olive.locator("#edit-name").fill("Design review")
        olive.get_by_role("button", name="Save changes").click()
        expect(olive.locator("#live-region")).to_have_text("Saved “Design review”.")
        # Her own write is not announced again by her page's next polls.
        olive.wait_for_timeout(3 * INTERVAL * 1000)
        expect(olive.locator("#live-region")).to_have_text("Saved “Design review”.")
        expect(olive.locator(f"#task-{project['design']} .task-link")).to_contain_text("Design review")
    finally:
        other.close()

    # Ravi's focused row is not replaced under him: it changes once focus leaves it.
    page.wait_for_timeout(3 * INTERVAL * 1000)
    expect(design_link).to_be_focused()
    expect(design_link).to_contain_text("Design")
    assert "Design review" not in design_link.inner_text()
    url_field = page.locator("#link-url")
    url_field.focus()
    expect(design_row.locator(".task-link")).to_contain_text("Design review", timeout=WITHIN)

    # He starts typing a link (unsaved) when GitHub reports the pull request merged.
    url_field.type("https://github.com/acme/api/pull/9")
    code_indicator = page.locator(f"#task-{project['code']} .link-indicator")
    expect(code_indicator).not_to_have_attribute("aria-label", re.compile("merged"))
    delivered = Sender(app.test_client()).github(hook, "pull_request", _merged_delivery())
    assert delivered.status_code in (200, 202), delivered.get_data(as_text=True)
    expect(code_indicator).to_have_attribute("aria-label", re.compile("worst status: merged"), timeout=WITHIN)
    expect(page.locator("#live-region")).to_have_text("1 task updated.")
    # His words and his place in the drawer's form are kept; the section waits for him.
    expect(url_field).to_be_focused()
    expect(url_field).to_have_value("https://github.com/acme/api/pull/9")

    # Olive removes Launch (a script, through the API).
    project_services.delete_task(user, project["id"], project["launch"])
    expect(page.locator(f"#task-{project['launch']}")).to_have_count(0, timeout=WITHIN)
    expect(page.locator("#schedule-count")).to_have_text("(3)")
    expect(page.locator("#live-region")).to_have_text("1 task removed.")
    expect(url_field).to_be_focused()
    expect(url_field).to_have_value("https://github.com/acme/api/pull/9")

    # He thinks better of the link: once the form holds nothing unsaved and he moves on, the
    # drawer's links section shows the merge too.
    url_field.fill("")
    page.locator("#drawer-title").focus()
    expect(page.locator("#task-links")).to_contain_text(re.compile("merged", re.I), timeout=WITHIN)
    # Collapse state and the open drawer survived every update.
    expect(page.locator("#drawer-title")).to_have_text("Code")
    expect(page.locator(f"#task-{project['code']}")).to_have_class(re.compile("is-open"))
    assert_accessible(page, "schedule-live")
    assert console_errors == []


def test_a_collapsed_branch_stays_collapsed_and_a_new_task_lands_in_place(
    page: Page, live_server: str, user: Any, make: Any, console_errors: list[str]
) -> None:
    project = _project(make, user)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule")
    page.get_by_role("button", name="Subtasks of Build").click()
    expect(page.locator(f"#task-{project['design']}")).to_be_hidden()
    added = make.task(
        user, project["id"], name="Test", parent_id=project["build"], start_date=_day(2), finish_date=_day(3)
    )
    last = make.task(user, project["id"], name="Wrap-up", start_date=_day(-9), finish_date=_day(-9))
    expect(page.locator(f"#task-{added.id}")).to_have_count(1, timeout=WITHIN)
    # In its place (after Code, the last of Build's subtasks) and hidden with its branch.
    assert page.evaluate(f"document.getElementById('task-{added.id}').previousElementSibling.id") == (
        f"task-{project['code']}"
    )
    expect(page.locator(f"#task-{added.id}")).to_be_hidden()
    expect(page.get_by_role("button", name="Subtasks of Build")).to_have_attribute("aria-expanded", "false")
    # A task added at the end of the top level goes last.
    rows = page.locator("#schedule-rows > tr")
    expect(rows.last).to_have_id(f"task-{last.id}", timeout=WITHIN)
    expect(page.locator("#live-region")).to_have_text(re.compile(r"tasks? added"))
    assert console_errors == []


def test_a_gantt_whose_scale_moves_reloads_itself(
    page: Page, live_server: str, user: Any, make: Any, console_errors: list[str]
) -> None:
    project = _project(make, user)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule?view=gantt&zoom=week")
    scale = page.locator("#schedule-live").get_attribute("data-scale")
    project_services.update_task(user, project["id"], project["launch"], {"start_date": _day(60)})
    expect(page.locator("#schedule-live")).not_to_have_attribute("data-scale", scale or "", timeout=WITHIN)
    expect(page.locator(f"#task-{project['launch']} time").first).to_have_attribute("datetime", _day(60))
    assert console_errors == []


def test_without_javascript_nothing_polls(browser: Browser, live_server: str, user: Any, make: Any) -> None:
    project = _project(make, user)
    requests: list[str] = []
    with without_script(browser, live_server, user.email, f"/projects/{project['id']}/schedule") as page:
        page.on("request", lambda request: requests.append(request.url))
        expect(page.locator("#task-" + project["code"])).to_be_visible()
        page.wait_for_timeout(3 * INTERVAL * 1000)
    assert not [url for url in requests if "/schedule/changes" in url]
