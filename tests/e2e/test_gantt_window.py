"""The Gantt's window on a very long plan (SPEC §19), in Debian's Chromium with the keyboard:
the sentence saying the chart is clipped, Later and Earlier by Enter (focus stays on the link
pressed, the live region says what is shown, the URL keeps the window), and axe-core clean."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.test_foundation import login_with_keyboard, tab_to, wait_for_settled_swap


def test_earlier_and_later_by_keyboard(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    pid = make.project(user, "Three centuries")
    make.task(user, pid, name="First", start_date="1900-01-01", finish_date="1900-02-01")
    make.task(user, pid, name="Last", start_date="2199-11-01", finish_date="2199-12-31")
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{pid}/schedule?view=gantt&zoom=quarter&from=1900-01-01")
    expect(page.locator("#gantt-window-note")).to_contain_text("The chart is clipped")
    assert_accessible(page, "gantt-window")

    later = page.locator("#gantt-later")
    tab_to(page, later)
    page.keyboard.press("Enter")
    # Not 1900-01-01, the window it started from: the URL must have moved on.
    expect(page).to_have_url(re.compile(r"zoom=quarter&from=19(?!00-01-01)\d\d-\d\d-01$"))
    expect(page.locator("#live-region")).to_contain_text("The Gantt chart now shows")
    wait_for_settled_swap(page)
    expect(page.locator("#gantt-later")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#gantt-earlier")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#gantt-window-note")).to_contain_text("1899")
    assert_accessible(page, "gantt-window-moved")
    assert not console_errors
