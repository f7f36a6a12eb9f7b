"""On a phone-sized screen nothing makes the page wider than the screen: wide tables scroll in
their own region, the drawer fits, and the Gantt leaves room for its bars."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.test_foundation import login_with_keyboard

WIDTH = 390


def _page_width(page: Page) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


def test_pages_fit_a_phone(page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any) -> None:
    page.set_viewport_size({"width": WIDTH, "height": 844})
    project_id = make.project(user, "Apollo")
    make.member(user, project_id, "member", user=make.user(name="A Rather Long Name For A Teammate"))
    today = date.today()
    task = make.task(
        user,
        project_id,
        name="Write the launch announcement for the press",
        start_date=today.isoformat(),
        finish_date=(today + timedelta(days=4)).isoformat(),
        assignee_ids=[user.id],
    )
    login_with_keyboard(page, live_server, user.email)
    for path in (
        "/portfolio",
        f"/projects/{project_id}/schedule",
        f"/projects/{project_id}/members",
        "/me/settings/api-tokens",
        f"/projects/{project_id}/schedule?task={task.id}",
    ):
        page.goto(live_server + path)
        assert _page_width(page) <= WIDTH, path
    drawer = page.locator("#drawer")
    box = drawer.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 1
    expect(page.locator("#drawer .drawer-close")).to_be_in_viewport()
    assert_accessible(page, "mobile-drawer")
    page.goto(f"{live_server}/projects/{project_id}/schedule?view=gantt&zoom=week")
    names = page.locator(".gantt-names tbody th.c-name").first.bounding_box()  # the sticky column
    scroller = page.locator(".gantt-scroll").bounding_box()
    assert names is not None and scroller is not None and names["width"] < scroller["width"] * 0.5
