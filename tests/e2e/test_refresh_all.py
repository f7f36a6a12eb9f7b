"""Refresh all links in Chromium, keyboard only (SPEC §14): press the button, watch the progress
bar reach the end while a real worker runs the job, see the rows' glyphs change; axe-core
finds nothing before, during and after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import redis
import responses
from flask import Flask
from playwright.sync_api import Page, expect

from ppm.links import services as links
from tests.e2e.test_foundation import login_with_keyboard, tab_to, without_script
from tests.links.conftest import give_credential
from tests.support.settings import TEST_REDIS_URL

pytestmark = [
    pytest.mark.usefixtures("github_net"),
    pytest.mark.redis,
    pytest.mark.skipif(not TEST_REDIS_URL, reason="needs the Redis server that scripts/test.sh starts"),
]
GH = "https://api.github.com/repos/acme/api"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> Iterator[dict[str, Any]]:
    conn = redis.Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    yield {**app_config, "REDIS_URL": TEST_REDIS_URL}
    conn.flushdb()
    conn.close()


@pytest.fixture
def github() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{GH}/pulls/7", json={"state": "closed", "merged": True, "draft": False, "title": "Fix login"})
        mock.get(f"{GH}/pulls/8", json={"state": "open", "merged": False, "draft": False, "title": "Dark mode"})
        yield mock


def _project(make: Any, owner: Any) -> dict[str, Any]:
    pid = make.project(owner, "Apollo")
    today = date.today()
    span = {"start_date": today.isoformat(), "finish_date": (today + timedelta(days=3)).isoformat()}
    login = make.task(owner, pid, name="Login", **span)
    theme = make.task(owner, pid, name="Theme", **span)
    links.add_link(owner, pid, login.id, {"url": "https://github.com/acme/api/pull/7"})
    links.add_link(owner, pid, theme.id, {"url": "https://github.com/acme/api/pull/8"})
    give_credential(owner, "github", "ghp_owner")
    return {"id": pid, "login": login.id, "theme": theme.id}


def test_refresh_all_with_the_keyboard(
    page: Page,
    live_server: str,
    app: Flask,
    user: Any,
    make: Any,
    github: responses.RequestsMock,
    assert_accessible: Any,
    console_errors: list[str],
) -> None:
    project = _project(make, user)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule")
    login_glyph = page.locator(f"#task-{project['login']} .link-indicator")
    expect(login_glyph).to_have_attribute("aria-label", "1 external link, worst status: unknown")
    assert_accessible(page, "refresh-all-ready")

    button = page.get_by_role("button", name="Refresh all links")
    tab_to(page, button)
    page.keyboard.press("Enter")
    status = page.locator("#refresh-all-status")
    expect(status).to_contain_text("0 of 2 links refreshed")
    expect(page.locator("#live-region")).to_have_text("Refreshing 2 links…")
    expect(button).to_be_focused()  # the button stays where it was
    assert_accessible(page, "refresh-all-running")

    result = app.test_cli_runner().invoke(args=["ppm", "worker", "--burst"])  # a real worker, in process
    assert result.exit_code == 0, result.output

    expect(status).to_contain_text("Refreshed 2 links: 2 up to date.", timeout=10000)
    bar = page.locator("#refresh-all-bar")
    expect(bar).to_have_attribute("value", "2")
    expect(bar).to_have_attribute("max", "2")
    expect(page.locator("#live-region")).to_have_text("Refreshed 2 links: 2 up to date.")
    expect(login_glyph).to_have_attribute("aria-label", "1 external link, worst status: merged", timeout=10000)
    expect(page.locator(f"#task-{project['theme']} .link-indicator")).to_have_attribute(
        "aria-label", "1 external link, worst status: open"
    )
    expect(button).to_be_focused()
    assert_accessible(page, "refresh-all-done")
    assert console_errors == []


def test_refresh_all_without_javascript(
    browser: Any, live_server: str, app: Flask, user: Any, make: Any, github: responses.RequestsMock
) -> None:
    """(axe needs JavaScript; the status region is the same partial the test above checks.)"""
    project = _project(make, user)
    with without_script(browser, live_server, user.email, f"/projects/{project['id']}/schedule") as page:
        button = page.get_by_role("button", name="Refresh all links")
        tab_to(page, button)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Refresh all links")).to_be_visible()
        expect(page.locator("#refresh-all-status")).to_contain_text("0 of 2 links refreshed")
        result = app.test_cli_runner().invoke(args=["ppm", "worker", "--burst"])
        assert result.exit_code == 0, result.output
        # The page reloads itself (a Refresh header) until the job has ended.
        expect(page.locator("#refresh-all-status")).to_contain_text("Refreshed 2 links: 2 up to date.", timeout=15000)
        expect(page.get_by_role("link", name="Back to the schedule of Apollo")).to_be_visible()
