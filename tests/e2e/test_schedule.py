"""The schedule in Debian's Chromium, keyboard first: the list, the drawer (open with Enter,
close with Escape or its button, focus back on the row), the Gantt zoom, adding and editing a
task as a member, and a viewer who sees no edit controls. axe-core on every state."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.test_foundation import login_with_keyboard, tab_to, without_script


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def _project(make: Any, owner: Any) -> dict[str, Any]:
    pid = make.project(owner, "Apollo launch")
    mate = make.member(owner, pid, "member", user=make.user(name="Ravi Patel"))
    build = make.task(owner, pid, name="Build", start_date=_day(-3), finish_date=_day(0))
    design = make.task(
        owner,
        pid,
        name="Design",
        parent_id=build.id,
        start_date=_day(-3),
        finish_date=_day(2),
        assignee_ids=[mate.id, owner.id],
        description="Wireframes first.",
    )
    code = make.task(
        owner, pid, name="Code", parent_id=build.id, start_date=_day(1), finish_date=_day(9), assignee_ids=[owner.id]
    )
    launch = make.task(owner, pid, name="Launch", start_date=_day(12), finish_date=_day(12), is_milestone=True)
    return {"id": pid, "build": build.id, "design": design.id, "code": code.id, "launch": launch.id, "mate": mate}


def _row_link(page: Page, task_id: str) -> Any:
    return page.locator(f"#task-{task_id} .task-link")


def test_drawer_opens_with_enter_and_closes_with_escape_or_its_button(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    project = _project(make, user)
    login_with_keyboard(page, live_server, user.email)
    schedule = f"{live_server}/projects/{project['id']}/schedule"
    page.goto(schedule)
    expect(page.locator("#schedule-rows > tr")).to_have_count(4)
    assert_accessible(page, "schedule-list")

    # Enter on a row opens its drawer; focus lands on the drawer's heading; the URL says so.
    design = _row_link(page, project["design"])
    tab_to(page, design)
    page.keyboard.press("Enter")
    heading = page.locator("#drawer #drawer-title")
    expect(heading).to_have_text("Design")
    expect(heading).to_be_focused()
    expect(page).to_have_url(re.compile(rf"\?task={project['design']}$"))
    expect(page.locator("#live-region")).to_have_text("Details of Design.")
    expect(page.locator("#task-links")).to_contain_text("External links")
    expect(page.locator(f"#task-{project['design']}")).to_have_class(re.compile("is-open"))
    assert_accessible(page, "schedule-drawer")

    # Escape closes it and puts focus back on the row that opened it.
    page.keyboard.press("Escape")
    expect(page.locator("#drawer")).to_be_hidden()
    expect(design).to_be_focused()
    expect(page).to_have_url(re.compile(r"/schedule$"))
    expect(page.locator("#live-region")).to_have_text("Task details closed.")

    # The drawer can be linked and reloaded; its Close button also returns focus to the row.
    page.goto(f"{schedule}?task={project['code']}")
    expect(page.locator("#drawer-title")).to_have_text("Code")
    close = page.get_by_role("link", name="Close task details")
    tab_to(page, close)
    page.keyboard.press("Enter")
    expect(page.locator("#drawer")).to_be_hidden()
    expect(_row_link(page, project["code"])).to_be_focused()

    # No keyboard trap: Tab goes on from the drawer's last control to the rest of the page.
    _row_link(page, project["launch"]).click()
    expect(page.locator("#drawer-title")).to_have_text("Launch")
    for _ in range(30):
        page.keyboard.press("Tab")
        if not page.evaluate("document.getElementById('drawer').contains(document.activeElement)"):
            break
    else:
        raise AssertionError("focus never left the drawer")

    # A click anywhere on a row opens it too.
    page.locator(f"#task-{project['build']} td.c-date").first.click()
    expect(page.locator("#drawer-title")).to_have_text("Build")
    assert console_errors == []


def test_summary_rows_collapse_and_expand_by_keyboard(
    page: Page, live_server: str, user: Any, make: Any, console_errors: list[str]
) -> None:
    project = _project(make, user)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule")
    toggle = page.get_by_role("button", name="Subtasks of Build")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    tab_to(page, toggle)
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator(f"#task-{project['design']}")).to_be_hidden()
    expect(page.locator(f"#task-{project['launch']}")).to_be_visible()
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator(f"#task-{project['design']}")).to_be_visible()
    page.get_by_role("button", name="Collapse all").click()
    expect(page.locator(f"#task-{project['code']}")).to_be_hidden()
    page.get_by_role("button", name="Expand all").click()
    expect(page.locator(f"#task-{project['code']}")).to_be_visible()
    assert console_errors == []


def test_gantt_zoom_by_keyboard(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    project = _project(make, user)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule")

    gantt = page.locator("#view-gantt")
    tab_to(page, gantt)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?view=gantt&zoom=week$"))
    expect(page.locator("svg.gantt-bars [data-t]")).to_have_count(4)
    expect(page.locator("#view-gantt")).to_be_focused()
    expect(page.locator("#zoom-week")).to_have_attribute("aria-current", "true")
    expect(page.locator("#live-region")).to_have_text("Showing the Gantt chart, week zoom.")
    assert_accessible(page, "schedule-gantt-week")

    for zoom in ("day", "month", "quarter"):
        tab_to(page, page.locator(f"#zoom-{zoom}"))
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(rf"\?view=gantt&zoom={zoom}$"))
        expect(page.locator(f"#zoom-{zoom}")).to_be_focused()
        expect(page.locator(f"#zoom-{zoom}")).to_have_attribute("aria-current", "true")
        expect(page.locator("#live-region")).to_have_text(f"Showing the Gantt chart, {zoom} zoom.")
    assert_accessible(page, "schedule-gantt-quarter")

    # Enter on a task in the Gantt opens the drawer; Escape returns to it; the zoom stays.
    tab_to(page, page.locator("#zoom-day"))
    page.keyboard.press("Enter")
    expect(page.locator("#zoom-day")).to_be_focused()
    code = _row_link(page, project["code"])
    tab_to(page, code)
    page.keyboard.press("Enter")
    expect(page.locator("#drawer-title")).to_be_focused()
    expect(page).to_have_url(re.compile(rf"zoom=day&task={project['code']}$"))
    expect(page.locator("#zoom-month")).to_have_attribute("href", re.compile(rf"zoom=month&task={project['code']}$"))
    assert_accessible(page, "schedule-gantt-drawer")
    page.keyboard.press("Escape")
    expect(code).to_be_focused()

    # A click on a bar opens that task too.
    page.locator(f"svg.gantt-bars [data-t='{project['design']}']").click()
    expect(page.locator("#drawer-title")).to_have_text("Design")

    # Back in history restores the earlier state as a whole page.
    page.go_back()
    expect(page).to_have_url(re.compile(r"zoom=day$"))
    expect(page.locator("#drawer")).to_be_hidden()
    expect(page.locator("#zoom-day")).to_have_attribute("aria-current", "true")
    assert console_errors == []


def test_member_adds_and_edits_tasks_by_keyboard(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    project = _project(make, user)
    member = make.member(user, project["id"], "member", user=make.user(name="Mina Member"))
    login_with_keyboard(page, live_server, member.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule")

    add = page.locator("#add-task summary")
    tab_to(page, add)
    page.keyboard.press("Enter")
    name = page.get_by_label("Task name")
    expect(name).to_be_visible()
    # Submitting without a name: the error summary takes focus and links to the field.
    tab_to(page, page.get_by_role("button", name="Add task"))
    page.keyboard.press("Enter")
    summary = page.locator("#add-task .error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter a task name.")
    assert_accessible(page, "schedule-add-error")

    tab_to(page, page.get_by_label("Task name"))
    page.keyboard.type("Write launch notes")
    page.get_by_label("Put it under").select_option(label="Build")
    tab_to(page, page.get_by_label("Task name"))
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Added “Write launch notes”.")
    expect(page.get_by_label("Task name")).to_be_focused()
    expect(page.get_by_label("Task name")).to_have_value("")
    new_row = page.locator("#schedule-rows tr", has_text="Write launch notes")
    expect(new_row).to_have_attribute("data-depth", "1")
    # It is the last child of Build: right before Launch.
    expect(page.locator("#schedule-rows tr").nth(3)).to_contain_text("Write launch notes")
    expect(page.locator("#schedule-rows tr").nth(4)).to_contain_text("Launch")
    assert_accessible(page, "schedule-added")

    # Edit in the drawer: rename, move the dates; the row updates in place.
    design = _row_link(page, project["design"])
    tab_to(page, design)
    page.keyboard.press("Enter")
    expect(page.locator("#drawer-title")).to_be_focused()
    field = page.locator("#edit-name")
    tab_to(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.type("Design review")
    page.locator("#edit-finish_date").fill(_day(-5))
    tab_to(page, page.get_by_role("button", name="Save changes"))
    page.keyboard.press("Enter")
    # 422: the error is next to the field, nothing typed is lost.
    expect(page.locator("#drawer .error-summary")).to_be_focused()
    expect(page.locator("#edit-finish_date-error")).to_contain_text("on or after the start date")
    expect(page.locator("#edit-name")).to_have_value("Design review")
    assert_accessible(page, "schedule-drawer-error")
    page.locator("#edit-finish_date").fill(_day(4))
    tab_to(page, page.get_by_role("button", name="Save changes"))
    page.keyboard.press("Enter")
    expect(page.locator("#drawer-title")).to_have_text("Design review")
    expect(page.locator("#drawer-title")).to_be_focused()
    expect(page.locator("#live-region")).to_have_text("Saved “Design review”.")
    expect(_row_link(page, project["design"])).to_contain_text("Design review")
    expect(page.locator(f"#task-{project['design']} td.c-duration")).to_have_text("8 days")

    # Add a subtask from the drawer: the task becomes a summary in the list.
    tab_to(page, page.locator("#sub-name"))
    page.keyboard.type("Sketches")
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Added “Sketches”.")
    expect(page.locator("#sub-name")).to_be_focused()
    expect(page.get_by_role("button", name="Subtasks of Design review")).to_be_visible()
    expect(page.locator("#schedule-rows tr", has_text="Sketches")).to_have_attribute("data-depth", "2")
    assert console_errors == []


def test_viewer_sees_no_edit_controls(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    project = _project(make, user)
    viewer = make.member(user, project["id"], "viewer", user=make.user(name="Vic Viewer"))
    login_with_keyboard(page, live_server, viewer.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule")
    expect(page.locator("#schedule-rows > tr")).to_have_count(4)
    expect(page.locator("#add-task")).to_have_count(0)
    expect(page.get_by_role("button", name="Add task")).to_have_count(0)
    design = _row_link(page, project["design"])
    tab_to(page, design)
    page.keyboard.press("Enter")
    expect(page.locator("#drawer-title")).to_be_focused()
    drawer = page.locator("#drawer")
    expect(drawer).to_contain_text("Wireframes first.")
    # SPEC §20's key and branch name are read-only fields to copy, not edit controls.
    expect(drawer.locator("form, input:not([readonly]), textarea, select")).to_have_count(0)
    expect(drawer.locator("input[readonly]")).to_have_count(2)
    expect(page.locator("main form")).to_have_count(0)
    assert_accessible(page, "schedule-viewer-drawer")
    page.keyboard.press("Escape")
    expect(design).to_be_focused()
    assert console_errors == []


def test_everything_works_without_javascript(browser: Any, live_server: str, user: Any, make: Any) -> None:
    project = _project(make, user)
    with without_script(browser, live_server, user.email, f"/projects/{project['id']}/schedule") as page:
        # Every row is shown; there is no toggle without the script that would run it.
        expect(page.locator("#schedule-rows > tr")).to_have_count(4)
        expect(page.get_by_role("button", name="Subtasks of Build")).to_be_hidden()
        # A row link is a real link to the page with the drawer open.
        _row_link(page, project["code"]).click()
        expect(page).to_have_url(re.compile(rf"\?task={project['code']}$"))
        expect(page.locator("#drawer-title")).to_have_text("Code")
        page.locator("#edit-name").fill("Code it")
        page.get_by_role("button", name="Save changes").click()
        expect(page).to_have_url(re.compile(rf"\?task={project['code']}$"))
        expect(page.locator("#drawer-title")).to_have_text("Code it")
        page.get_by_role("link", name="Close task details").click()
        expect(page.locator("#drawer")).to_be_hidden()
        # Zoom links are links; adding a task posts and redirects to it.
        page.locator("#view-gantt").click()
        page.locator("#zoom-month").click()
        expect(page).to_have_url(re.compile(r"\?view=gantt&zoom=month$"))
        page.locator("#add-task summary").click()
        page.locator("#add-name").fill("Plan the party")
        page.get_by_role("button", name="Add task").click()
        expect(page).to_have_url(re.compile(r"\?view=gantt&zoom=month&task=[0-9a-f]{32}$"))
        expect(page.locator("#drawer-title")).to_have_text("Plan the party")
        expect(page.locator("table.gantt-names")).to_contain_text("Plan the party")
