"""A flat schedule in Debian's Chromium (issue #15): an imported list of 250 top-level tasks
with a row budget of 100 shows its first hundred and a "Show more tasks" control; by keyboard
it fetches the next rows, announces them and puts focus on the first; late rows open the
drawer and take its updates; Expand all, a reload after a save and the page without
JavaScript all keep working; axe-core finds nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ppm.schedule import outline as outline_module
from tests.e2e.test_foundation import login_with_keyboard, tab_to, wait_for_settled_swap, without_script
from tests.schedule.flat import build_flat_project

TOP, BUDGET = 250, 100  # 260 tasks: every fiftieth top-level task is a group of two


@pytest.fixture
def flat(user: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(outline_module, "ROW_BUDGET", BUDGET)  # the live server runs in this process
    project, tops = build_flat_project(user, TOP)
    return {"id": project.id, "tops": tops}


def _open(page: Page, live_server: str, user: Any, flat: dict[str, Any], query: str = "") -> None:
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{flat['id']}/schedule{query}")
    expect(page.locator("#schedule-heading")).to_contain_text("(260)")


def _top_rows(page: Page) -> Any:
    return page.locator("#schedule-rows > tr[data-depth='0']")


def _link(page: Page, task_id: str) -> Any:
    return page.locator(f"#task-{task_id} .task-link")


@pytest.mark.parametrize("query", ["", "?view=gantt&zoom=week"])
def test_show_more_by_keyboard_moves_focus_to_the_first_new_row(
    page: Page,
    live_server: str,
    user: Any,
    flat: dict[str, Any],
    assert_accessible: Any,
    console_errors: list[str],
    query: str,
) -> None:
    tops = flat["tops"]
    _open(page, live_server, user, flat, query)
    expect(_top_rows(page)).to_have_count(BUDGET)
    more = page.get_by_role("link", name="Show more tasks")
    expect(page.locator("#more-rows")).to_contain_text("100 of 250 top-level tasks shown")
    view = "gantt" if query else "list"
    assert_accessible(page, f"flat-{view}")

    tab_to(page, more, limit=400)
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Showing 100 more tasks.")
    expect(_link(page, tops[100])).to_be_focused()
    expect(_top_rows(page)).to_have_count(200)
    expect(page.locator("#more-rows")).to_contain_text("200 of 250 top-level tasks shown")
    # In WBS order, right after the rows that were there.
    expect(page.locator(f"#task-{tops[99]} + tr")).to_have_id(f"task-{tops[100]}")
    if query:
        expect(page.locator(f"#task-{tops[100]} svg.gantt-bars rect.bar")).to_have_count(1)
    assert_accessible(page, f"flat-{view}-more")

    # A group that arrived late expands by keyboard like any other summary.
    group = page.get_by_role("button", name="Subtasks of Group 150")
    expect(group).to_have_attribute("aria-expanded", "false")
    tab_to(page, group)
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Showing 2 subtasks of Group 150.")
    expect(page.locator("#schedule-rows > tr", has_text="Item 150.2")).to_be_visible()

    # The last page: no control is left.
    tab_to(page, page.get_by_role("link", name="Show more tasks"), limit=400)
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Showing 50 more tasks.")
    expect(_link(page, tops[200])).to_be_focused()
    expect(_top_rows(page)).to_have_count(TOP)
    expect(page.locator("#more-rows")).to_have_count(0)
    assert console_errors == []


def test_a_late_row_opens_the_drawer_takes_its_save_and_the_gantt_keeps_the_rows_held(
    page: Page, live_server: str, user: Any, flat: dict[str, Any], console_errors: list[str]
) -> None:
    tops = flat["tops"]
    _open(page, live_server, user, flat, "?view=gantt&zoom=week")
    page.get_by_role("link", name="Show more tasks").click()
    late = _link(page, tops[148])  # Item 149, on the second page
    tab_to(page, late, limit=400)
    page.keyboard.press("Enter")
    expect(page.locator("#drawer-title")).to_have_text("Item 149")
    expect(page.locator(f"#task-{tops[148]}")).to_have_class(re.compile("is-open"))
    tab_to(page, page.locator("#edit-name"))
    page.keyboard.press("Control+A")
    page.keyboard.type("Item 149 renamed")
    tab_to(page, page.get_by_role("button", name="Save changes"))
    with page.expect_response(lambda response: "shown=200" in response.url):
        page.keyboard.press("Enter")
    wait_for_settled_swap(page)
    expect(page.locator("#live-region")).to_have_text("Saved “Item 149 renamed”.")
    expect(page.locator("#drawer-title")).to_be_focused()
    # The Gantt reloaded with the 200 rows it held, the renamed one among them.
    expect(_top_rows(page)).to_have_count(200)
    expect(_link(page, tops[148])).to_contain_text("Item 149 renamed")
    expect(page.locator("#more-rows")).to_contain_text("200 of 250")
    # Escape goes back to the late row.
    page.keyboard.press("Escape")
    expect(_link(page, tops[148])).to_be_focused()
    assert console_errors == []


def test_the_list_updates_a_late_row_in_place_and_expand_all_shows_every_row(
    page: Page, live_server: str, user: Any, flat: dict[str, Any], console_errors: list[str]
) -> None:
    tops = flat["tops"]
    _open(page, live_server, user, flat)
    page.get_by_role("link", name="Show more tasks").click()
    expect(_link(page, tops[100])).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#drawer-title")).to_have_text("Item 101")
    tab_to(page, page.locator("#edit-name"))
    page.keyboard.press("Control+A")
    page.keyboard.type("Item 101 renamed")
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Saved “Item 101 renamed”.")
    expect(_link(page, tops[100])).to_contain_text("Item 101 renamed")
    expect(page.locator(f"[id='task-{tops[100]}']")).to_have_count(1)
    expect(_top_rows(page)).to_have_count(200)
    # A task added at the top level lands past the rows shown: it waits for its page.
    page.keyboard.press("Escape")
    page.locator("#add-task summary").click()
    page.locator("#add-name").fill("Imported late")
    page.get_by_role("button", name="Add task").click()
    expect(page.locator("#live-region")).to_have_text("Added “Imported late”.")
    expect(page.locator("#schedule-rows > tr", has_text="Imported late")).to_have_count(0)
    expect(page.locator("#more-rows")).to_be_visible()

    expand = page.get_by_role("button", name="Expand all")
    tab_to(page, expand, limit=400)
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Showing all 261 tasks.")
    expect(page.locator("#schedule-rows > tr")).to_have_count(261)
    expect(page.locator("#more-rows")).to_have_count(0)
    expect(page.locator("#schedule-rows > tr", has_text="Imported late")).to_be_visible()
    page.get_by_role("button", name="Collapse all").click()
    expect(page.locator("#schedule-rows > tr", has_text="Item 250.1")).to_be_hidden()
    assert console_errors == []


def test_without_javascript_show_more_is_a_link_to_the_page_with_more_rows(
    browser: Any, live_server: str, user: Any, flat: dict[str, Any]
) -> None:
    with without_script(browser, live_server, user.email, f"/projects/{flat['id']}/schedule") as page:
        expect(page.locator("#schedule-heading")).to_contain_text("(260)")
        page.get_by_role("link", name="Show more tasks").click()
        expect(page).to_have_url(re.compile(rf"\?top=200#task-{flat['tops'][100]}$"))
        expect(_top_rows(page)).to_have_count(200)
        expect(page.locator("#more-rows")).to_contain_text("200 of 250")
