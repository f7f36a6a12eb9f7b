"""A 1,000-task schedule in Debian's Chromium (issue #15): the top levels arrive with the page,
deeper ones when a summary is expanded by keyboard; rows that arrived late open the drawer and
take updates; Expand all fetches every row; axe-core finds nothing on either view."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ppm.cli import build_big_project
from ppm.extensions import db
from ppm.links.demo import add_bulk_links
from ppm.projects.models import Task
from tests.e2e.test_foundation import login_with_keyboard, tab_to, wait_for_settled_swap, without_script

SIZE = 1000  # phases and workstreams arrive with the page (143 rows), deeper levels later


@pytest.fixture
def big(user: Any) -> dict[str, Any]:
    project = build_big_project(user, SIZE)
    add_bulk_links(project, 4)
    names = dict(db.session.execute(select(Task.name, Task.id).where(Task.project_id == project.id)).all())
    return {"id": project.id, "ids": names}


def _rows(page: Page) -> Any:
    return page.locator("#schedule-rows > tr")


def _toggle(page: Page, name: str) -> Any:
    return page.get_by_role("button", name=re.compile(rf"^Subtasks of {re.escape(name)}$"))


def _open(page: Page, live_server: str, user: Any, big: dict[str, Any], query: str = "") -> None:
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{big['id']}/schedule{query}")
    expect(page.locator("#schedule-heading")).to_contain_text(f"({SIZE})")


@pytest.mark.parametrize("query", ["", "?view=gantt&zoom=week"])
def test_a_subtree_arrives_when_expanded_by_keyboard_and_its_rows_open_the_drawer(
    page: Page,
    live_server: str,
    user: Any,
    big: dict[str, Any],
    assert_accessible: Any,
    console_errors: list[str],
    query: str,
) -> None:
    _open(page, live_server, user, big, query)
    first_rows = _rows(page).count()
    assert first_rows < 200  # phases and workstreams only
    expect(page.locator("#task-" + big["ids"]["Task 1.1.1"])).to_have_count(0)
    view = "gantt" if query else "list"
    assert_accessible(page, f"big-{view}")

    toggle = _toggle(page, "Workstream 1.1")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    tab_to(page, toggle)
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle).to_be_focused()
    expect(page.locator("#live-region")).to_have_text("Showing 6 subtasks of Workstream 1.1.")
    late = page.locator("#task-" + big["ids"]["Task 1.1.1"])
    expect(late).to_be_visible()
    # The whole subtree came (it fits the budget): the deliverable is open with its drafts.
    expect(_toggle(page, "Deliverable 1.1")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#task-" + big["ids"]["Draft 1.1.1"])).to_be_visible()
    assert _rows(page).count() == first_rows + 8
    # The rows sit right after their summary, deeper by one level, in WBS order.
    ws = page.locator("#task-" + big["ids"]["Workstream 1.1"])
    expect(ws.locator("xpath=following-sibling::tr[1]")).to_have_id("task-" + big["ids"]["Task 1.1.1"])
    expect(late).to_have_attribute("data-depth", "2")
    if query:
        expect(late.locator("svg.gantt-bars rect.bar")).to_have_count(1)
    assert_accessible(page, f"big-{view}-expanded")

    # Collapse and expand again: no second fetch, no duplicate rows.
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(late).to_be_hidden()
    page.keyboard.press("Space")
    expect(late).to_be_visible()
    assert _rows(page).count() == first_rows + 8

    # A row that arrived late opens the drawer like any other, and Escape comes back to it.
    link = late.locator(".task-link")
    tab_to(page, link)
    page.keyboard.press("Enter")
    expect(page.locator("#drawer-title")).to_have_text("Task 1.1.1")
    expect(page.locator("#drawer-title")).to_be_focused()
    expect(late).to_have_class(re.compile("is-open"))
    page.keyboard.press("Escape")
    expect(link).to_be_focused()
    assert console_errors == []


def test_a_late_row_takes_the_drawer_s_updates_in_place(
    page: Page, live_server: str, user: Any, big: dict[str, Any], console_errors: list[str]
) -> None:
    _open(page, live_server, user, big)
    _toggle(page, "Workstream 2.1").click()
    row = page.locator("#task-" + big["ids"]["Task 2.1.1"])
    row.locator(".task-link").click()
    expect(page.locator("#drawer-title")).to_have_text("Task 2.1.1")
    field = page.locator("#edit-name")
    tab_to(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.type("Task 2.1.1 renamed")
    tab_to(page, page.get_by_role("button", name="Save changes"))
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Saved “Task 2.1.1 renamed”.")
    expect(row.locator(".task-link")).to_contain_text("Task 2.1.1 renamed")
    expect(page.locator(f"[id='task-{big['ids']['Task 2.1.1']}']")).to_have_count(1)
    expect(page.locator("#schedule-rows > tr[data-oob]")).to_have_count(0)
    # A subtask added under a summary whose rows are not loaded waits for its expansion.
    page.keyboard.press("Escape")
    page.locator("#add-task summary").click()
    page.locator("#add-name").fill("Late addition")
    page.get_by_label("Put it under").select_option(value=big["ids"]["Workstream 3.2"])
    page.get_by_role("button", name="Add task").click()
    expect(page.locator("#live-region")).to_have_text("Added “Late addition”.")
    expect(page.locator("#schedule-rows > tr", has_text="Late addition")).to_have_count(0)
    _toggle(page, "Workstream 3.2").click()
    expect(page.locator("#schedule-rows > tr", has_text="Late addition")).to_be_visible()
    assert console_errors == []


def test_expand_all_and_collapse_all_on_a_large_project(
    page: Page, live_server: str, user: Any, big: dict[str, Any], console_errors: list[str]
) -> None:
    _open(page, live_server, user, big)
    expand = page.get_by_role("button", name="Expand all")
    tab_to(page, expand)
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text(f"Showing all {SIZE} tasks.", timeout=30_000)
    expect(_rows(page)).to_have_count(SIZE)
    expect(expand).to_be_focused()
    expect(page.locator("#schedule-rows .toggle[aria-expanded='false']")).to_have_count(0)
    expect(page.locator("#task-" + big["ids"]["Draft 30.3.2"])).to_be_visible()
    collapse = page.get_by_role("button", name="Collapse all")
    tab_to(page, collapse)
    page.keyboard.press("Enter")
    expect(page.locator("#task-" + big["ids"]["Workstream 1.1"])).to_be_hidden()
    phases = page.locator("#schedule-rows > tr[data-depth='0']:visible")
    expect(page.locator("#schedule-rows > tr:visible")).to_have_count(phases.count())
    # Expanding one phase shows its workstreams again, still collapsed themselves.
    _toggle(page, "Phase 1").click()
    expect(page.locator("#task-" + big["ids"]["Workstream 1.1"])).to_be_visible()
    expect(page.locator("#task-" + big["ids"]["Task 1.1.1"])).to_be_hidden()
    assert console_errors == []


def test_without_javascript_a_plain_link_shows_deeper_levels(
    browser: Any, live_server: str, user: Any, big: dict[str, Any]
) -> None:
    with without_script(browser, live_server, user.email, f"/projects/{big['id']}/schedule") as page:
        expect(page.locator("#schedule-heading")).to_contain_text(f"({SIZE})")
        expect(page.get_by_role("button", name="Subtasks of Workstream 1.1")).to_be_hidden()
        more = page.get_by_role("link", name="Show 6 subtasks of Workstream 1.1")
        more.click()
        expect(page).to_have_url(re.compile(rf"\?open={big['ids']['Workstream 1.1']}#task-"))
        expect(page.locator("#task-" + big["ids"]["Task 1.1.1"])).to_be_visible()
        expect(page.get_by_role("link", name="Show 6 subtasks of Workstream 1.1")).to_have_count(0)
        # Every deeper level is one link away: Workstream 1.2 is still a link.
        expect(page.get_by_role("link", name="Show 6 subtasks of Workstream 1.2")).to_be_visible()


def test_a_save_in_the_gantt_keeps_the_expanded_subtree_its_scroll_and_the_drawer_s_focus(
    page: Page, live_server: str, user: Any, big: dict[str, Any], assert_accessible: Any, console_errors: list[str]
) -> None:
    """The Gantt reloads itself after a write (its scale may move): the summaries someone
    expanded stay expanded, the chart stays scrolled where it was, focus stays in the drawer."""
    _open(page, live_server, user, big, "?view=gantt&zoom=week")
    toggle = _toggle(page, "Workstream 1.1")
    tab_to(page, toggle)
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    row = page.locator("#task-" + big["ids"]["Task 1.1.1"])
    tab_to(page, row.locator(".task-link"))
    page.keyboard.press("Enter")
    expect(page.locator("#drawer-title")).to_have_text("Task 1.1.1")
    chart = page.locator(".gantt-scroll")
    chart.evaluate("el => { el.scrollTop = 120; el.scrollLeft = 200; }")
    scrolled = chart.evaluate("el => [el.scrollTop, el.scrollLeft]")
    assert scrolled[0] > 0 and scrolled[1] > 0
    start = date.fromisoformat(page.locator("#edit-start_date").input_value()) + timedelta(days=2)
    finish = start + timedelta(days=4)
    for field, day in (("#edit-start_date", start), ("#edit-finish_date", finish)):
        tab_to(page, page.locator(field))
        page.keyboard.type(day.strftime("%m%d%Y"))
        expect(page.locator(field)).to_have_value(day.isoformat())
    tab_to(page, page.get_by_role("button", name="Save changes"))
    with page.expect_response(lambda response: "expanded=" in response.url) as reload:
        page.keyboard.press("Enter")
    # The reload asked for the subtree the page held (the deliverable under the workstream).
    assert big["ids"]["Deliverable 1.1"] in reload.value.url
    # Not the phases the server opened by itself: they take none of the places of those sent.
    assert big["ids"]["Phase 2"] not in reload.value.url
    wait_for_settled_swap(page)
    expect(page.locator("#live-region")).to_have_text("Saved “Task 1.1.1”.")
    expect(page.locator("#drawer-title")).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(_toggle(page, "Deliverable 1.1")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#task-" + big["ids"]["Draft 1.1.1"])).to_be_visible()
    dates = row.locator("td.c-date time")
    expect(dates.nth(0)).to_have_attribute("datetime", start.isoformat())
    expect(dates.nth(1)).to_have_attribute("datetime", finish.isoformat())
    expect(row).to_have_class(re.compile("is-open"))
    assert chart.evaluate("el => [el.scrollTop, el.scrollLeft]") == scrolled
    assert_accessible(page, "big-gantt-saved")
    # A second save keeps them too (the branch now arrives open with the reloaded view).
    later = finish + timedelta(days=1)
    tab_to(page, page.locator("#edit-finish_date"))
    page.keyboard.type(later.strftime("%m%d%Y"))
    tab_to(page, page.get_by_role("button", name="Save changes"))
    with page.expect_response(lambda response: "expanded=" in response.url):
        page.keyboard.press("Enter")
    wait_for_settled_swap(page)
    expect(dates.nth(1)).to_have_attribute("datetime", later.isoformat())
    expect(_toggle(page, "Deliverable 1.1")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#task-" + big["ids"]["Draft 1.1.1"])).to_be_visible()
    assert console_errors == []


def test_a_save_in_a_filtered_list_keeps_the_expanded_subtree_and_the_page_s_scroll(
    page: Page, live_server: str, user: Any, big: dict[str, Any], console_errors: list[str]
) -> None:
    """A filtered list reloads itself after a write too (the change may add or drop rows)."""
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{big['id']}/schedule?attention=closed_unmerged")
    expect(page.locator("#attention-closed_unmerged")).to_have_attribute("aria-current", "true")
    toggle = _toggle(page, "Workstream 1.1")
    expect(toggle).to_have_attribute("aria-expanded", "false")  # a filter matching most tasks is lazy
    tab_to(page, toggle)
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    ws = page.locator("#task-" + big["ids"]["Workstream 1.1"])
    row = ws.locator("xpath=following-sibling::tr[contains(@class, 'k-t')][1]")
    expect(row).to_have_attribute("data-depth", "2")
    task_id = (row.get_attribute("id") or "")[5:]
    name = row.locator(".task-link").evaluate("link => link.firstChild.textContent.trim()")
    tab_to(page, row.locator(".task-link"))
    page.keyboard.press("Enter")
    expect(page.locator("#drawer-title")).to_have_text(name)
    page.evaluate("window.scrollTo(0, 400)")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0
    start = date.fromisoformat(page.locator("#edit-start_date").input_value()) + timedelta(days=1)
    tab_to(page, page.locator("#edit-start_date"))
    page.keyboard.type(start.strftime("%m%d%Y"))
    tab_to(page, page.get_by_role("button", name="Save changes"))
    with page.expect_response(lambda response: "expanded=" in response.url and "attention=" in response.url):
        page.keyboard.press("Enter")
    wait_for_settled_swap(page)
    expect(page.locator("#drawer-title")).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    edited = page.locator("#task-" + task_id)
    expect(edited).to_be_visible()
    expect(edited.locator("td.c-date time").first).to_have_attribute("datetime", start.isoformat())
    assert page.evaluate("window.scrollY") == scrolled
    assert console_errors == []
