"""The portfolio in Chromium, keyboard only (SPEC §22): it is where login lands; sort and both
filters swap the table, keep the choices in the URL and announce the count, with focus left on
the control; an attention count leads to the schedule filtered by it; without JavaScript the same
form reloads the page. axe-core on every state."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import Page, expect

from ppm.extensions import db
from ppm.links import services as links
from ppm.models_base import utc_today, utcnow
from ppm.projects import services as projects
from tests.e2e.test_foundation import login_with_keyboard, tab_to, without_script


def _day(offset: int) -> str:
    return (utc_today() + timedelta(days=offset)).isoformat()


def _link(owner: Any, pid: str, task_id: str, url: str, status: str) -> None:
    link = links.add_link(owner, pid, task_id, {"url": url})
    link.status, link.fetched_at = status, utcnow()
    db.session.commit()


def _portfolio(make: Any, owner: Any) -> dict[str, str]:
    """Apollo: two tasks need attention (a closed pull request, open work past its finish);
    Borealis: nothing does, finishes last; Cobalt: one does, finishes first; Old: archived."""
    apollo = make.project(owner, "Apollo")
    design = make.task(owner, apollo, name="Design", start_date=_day(-6), finish_date=_day(-2))
    review = make.task(owner, apollo, name="Review", start_date=_day(-1), finish_date=_day(5))
    make.task(owner, apollo, name="Docs", start_date=_day(1), finish_date=_day(6))
    _link(owner, apollo, design.id, "https://github.com/acme/api/pull/1", "open")
    _link(owner, apollo, review.id, "https://github.com/acme/api/pull/2", "closed")
    borealis = make.project(owner, "Borealis")
    make.task(owner, borealis, name="Plan", start_date=_day(1), finish_date=_day(30))
    cobalt = make.project(owner, "Cobalt")
    fix = make.task(owner, cobalt, name="Fix", start_date=_day(-1), finish_date=_day(2))
    _link(owner, cobalt, fix.id, "https://github.com/acme/web/pull/3", "closed")
    old = make.project(owner, "Old")
    gone = make.task(owner, old, name="Gone", start_date=_day(-9), finish_date=_day(-4))
    _link(owner, old, gone.id, "https://github.com/acme/old/pull/4", "open")
    projects.set_archived(owner, old, True)
    return {"apollo": apollo, "borealis": borealis, "cobalt": cobalt, "old": old}


def _names(page: Page) -> list[str]:
    return [text.replace("Archived", "").strip() for text in page.locator(".portfolio-name").all_inner_texts()]


def test_sort_filter_and_follow_an_attention_count_by_keyboard(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    ids = _portfolio(make, user)
    login_with_keyboard(page, live_server, user.email)  # lands on /portfolio
    expect(page.get_by_role("heading", level=1)).to_have_text("Portfolio")
    expect(page.locator("#portfolio-count")).to_have_text("Showing 3 projects, sorted by needs attention.")
    assert _names(page) == ["Apollo", "Cobalt", "Borealis"]
    assert_accessible(page, "portfolio")

    # Sort by name: the select changes with the arrow keys; the table swaps, the URL follows,
    # the count is announced and focus stays on the select.
    sort = page.get_by_label("Sort by")
    tab_to(page, sort)
    page.keyboard.press("ArrowDown")
    expect(page).to_have_url(re.compile(r"/portfolio\?sort=name$"))
    expect(page.locator("#live-region")).to_have_text("Showing 3 projects, sorted by name.")
    expect(page.locator(".portfolio-name")).to_have_count(3)
    assert _names(page) == ["Apollo", "Borealis", "Cobalt"]
    expect(sort).to_be_focused()

    # Needs attention only, then Include archived: Space on each checkbox.
    page.keyboard.press("Tab")
    only = page.get_by_label("Needs attention only")
    expect(only).to_be_focused()
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"\?sort=name&attention_only=1$"))
    expect(page.locator("#live-region")).to_have_text("Showing 2 projects that need attention, sorted by name.")
    assert _names(page) == ["Apollo", "Cobalt"]
    page.keyboard.press("Tab")
    archived = page.get_by_label("Include archived")
    expect(archived).to_be_focused()
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"\?sort=name&attention_only=1&include_archived=1$"))
    expect(page.locator("#live-region")).to_have_text(
        "Showing 3 projects that need attention, archived included, sorted by name."
    )
    expect(page.locator(f"#portfolio-{ids['old']}")).to_contain_text("Archived")
    assert _names(page) == ["Apollo", "Cobalt", "Old"]
    assert_accessible(page, "portfolio-filtered")

    # Follow Apollo's "Closed without merge" count into its schedule, filtered by that code.
    count = page.locator(f"#portfolio-{ids['apollo']}").get_by_role("link", name=re.compile("^Closed without merge 1"))
    tab_to(page, count)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/projects/{ids['apollo']}/schedule\?attention=closed_unmerged$"))
    expect(page.locator("#attention-closed_unmerged")).to_have_attribute("aria-current", "true")
    expect(page.locator("#schedule-rows > tr")).to_have_count(1)
    expect(page.locator("#schedule-rows")).to_contain_text("Review")

    # Back: the portfolio as it was chosen.
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?sort=name&attention_only=1&include_archived=1$"))
    expect(page.get_by_label("Include archived")).to_be_checked()
    assert _names(page) == ["Apollo", "Cobalt", "Old"]
    assert console_errors == []


def test_finish_date_sort_without_javascript(page: Page, browser: Any, live_server: str, user: Any, make: Any) -> None:
    _portfolio(make, user)
    with without_script(browser, live_server, user.email, "/portfolio") as plain:
        assert _names(plain) == ["Apollo", "Cobalt", "Borealis"]
        tab_to(plain, plain.get_by_label("Sort by"))
        plain.get_by_label("Sort by").select_option("finish_date")
        tab_to(plain, plain.get_by_role("button", name="Show"))
        plain.keyboard.press("Enter")
        expect(plain).to_have_url(re.compile(r"/portfolio\?sort=finish_date$"))
        assert _names(plain) == ["Cobalt", "Apollo", "Borealis"]
        expect(plain.locator("#portfolio-count")).to_have_text("Showing 3 projects, sorted by finish date.")
