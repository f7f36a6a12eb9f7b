"""Needs attention in Chromium, keyboard only (SPEC §16): pick "Overdue with open work", see only
those rows and their parents, keep it through reload, back and forward, open one in the drawer,
clear the filter. axe-core on every state."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import Page, expect

from ppm.extensions import db
from ppm.links import services as links
from ppm.models_base import utc_today, utcnow
from tests.e2e.test_foundation import login_with_keyboard, tab_to, without_script


def _day(offset: int) -> str:
    return (utc_today() + timedelta(days=offset)).isoformat()


def _link(owner: Any, pid: str, task_id: str, url: str, status: str) -> None:
    link = links.add_link(owner, pid, task_id, {"url": url})
    link.status, link.fetched_at = status, utcnow()
    db.session.commit()


def _project(make: Any, owner: Any) -> dict[str, str]:
    pid = make.project(owner, "Apollo launch")
    build = make.task(owner, pid, name="Build")
    design = make.task(owner, pid, name="Design", parent_id=build.id, start_date=_day(-6), finish_date=_day(-2))
    code = make.task(owner, pid, name="Code", parent_id=build.id, start_date=_day(-1), finish_date=_day(5))
    docs = make.task(owner, pid, name="Docs", start_date=_day(-4), finish_date=_day(-1))
    launch = make.task(owner, pid, name="Launch", start_date=_day(8), is_milestone=True)
    _link(owner, pid, design.id, "https://github.com/acme/api/pull/1", "open")
    _link(owner, pid, code.id, "https://github.com/acme/api/pull/2", "open")
    _link(owner, pid, docs.id, "https://github.com/acme/api/issues/3", "open")
    return {"id": pid, "build": build.id, "design": design.id, "code": code.id, "docs": docs.id, "launch": launch.id}


def _rows(page: Page) -> list[str]:
    return [
        re.sub(r"\s+", " ", text).strip() for text in page.locator("#schedule-rows > tr .task-link").all_inner_texts()
    ]


def test_keyboard_filter_open_and_clear(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    project = _project(make, user)
    login_with_keyboard(page, live_server, user.email)
    schedule = f"{live_server}/projects/{project['id']}/schedule"
    page.goto(schedule)
    expect(page.locator("#schedule-rows > tr")).to_have_count(5)
    bar = page.get_by_role("navigation", name="Needs attention")
    expect(bar).to_contain_text("Overdue with open work 2")
    assert_accessible(page, "attention-bar")

    # Pick "Overdue with open work" with the keyboard: an htmx swap, announced, focus kept.
    overdue = bar.get_by_role("link", name=re.compile("^Overdue with open work"))
    tab_to(page, overdue)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?attention=overdue_open$"))
    expect(page.locator("#schedule-rows > tr")).to_have_count(3)
    expect(page.locator("#live-region")).to_have_text(
        "Showing 2 tasks overdue with open work, with 1 parent task for context."
    )
    expect(page.locator("#attention-overdue_open")).to_be_focused()
    expect(page.locator("#attention-overdue_open")).to_have_attribute("aria-current", "true")
    expect(page.locator(f"#task-{project['build']}")).to_have_class(re.compile("is-muted"))
    # Each flagged row says why in its accessible name; the parent says it is context.
    expect(
        page.get_by_role("link", name=re.compile("^Design.*needs attention: overdue with open work"))
    ).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Build \(summary\) ?, shown for context$"))).to_be_visible()
    assert console_errors == []
    assert_accessible(page, "attention-filtered")

    # The choice is in the URL: it survives a reload, and back and forward walk through it.
    page.reload()
    expect(page.locator("#schedule-rows > tr")).to_have_count(3)
    page.go_back()
    expect(page).to_have_url(re.compile(r"/schedule$"))
    expect(page.locator("#schedule-rows > tr")).to_have_count(5)
    page.go_forward()
    expect(page).to_have_url(re.compile(r"\?attention=overdue_open$"))
    expect(page.locator("#schedule-rows > tr")).to_have_count(3)

    # Open a flagged task in the drawer: the filter stays in the address.
    docs = page.locator(f"#task-{project['docs']} .task-link")
    tab_to(page, docs)
    page.keyboard.press("Enter")
    heading = page.locator("#drawer #drawer-title")
    expect(heading).to_have_text("Docs")
    expect(heading).to_be_focused()
    expect(page).to_have_url(re.compile(rf"\?attention=overdue_open&task={project['docs']}$"))
    assert_accessible(page, "attention-drawer")
    page.keyboard.press("Escape")
    expect(page.locator("#drawer")).to_be_hidden()
    expect(docs).to_be_focused()

    # Clear: every task again, announced, focus on the bar's heading.
    clear = page.get_by_role("link", name="Show all tasks", exact=True)
    tab_to(page, clear)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/schedule$"))
    expect(page.locator("#schedule-rows > tr")).to_have_count(5)
    expect(page.locator("#live-region")).to_have_text("Showing all 5 tasks.")
    expect(page.locator("#attention-heading")).to_be_focused()
    assert _rows(page)[0].startswith("Build")
    assert console_errors == []
    assert_accessible(page, "attention-cleared")


def test_without_javascript_the_bar_is_plain_links(browser: Any, live_server: str, user: Any, make: Any) -> None:
    project = _project(make, user)
    with without_script(browser, live_server, user.email, f"/projects/{project['id']}/schedule") as page:
        page.get_by_role("link", name=re.compile("^Overdue with open work")).click()
        expect(page).to_have_url(re.compile(r"\?attention=overdue_open$"))
        expect(page.locator("#schedule-rows > tr")).to_have_count(3)
        page.get_by_role("link", name="Show all tasks", exact=True).click()
        expect(page.locator("#schedule-rows > tr")).to_have_count(5)


def test_put_it_under_lists_every_task_when_the_form_opens_by_keyboard(
    page: Page, live_server: str, user: Any, make: Any, assert_accessible: Any, console_errors: list[str]
) -> None:
    project = _project(make, user)
    login_with_keyboard(page, live_server, user.email)
    page.goto(f"{live_server}/projects/{project['id']}/schedule")
    choice = page.get_by_label("Put it under")
    expect(choice.locator("option")).to_have_count(1)  # nothing more until the form opens
    tab_to(page, page.locator("#add-task summary"))
    page.keyboard.press("Enter")
    # Every task but the milestone, plain tasks too (#14), fetched when the form opened.
    expect(choice.locator("option")).to_have_count(5)
    expect(page.get_by_role("link", name="List every task to put it under")).to_be_hidden()
    assert_accessible(page, "add-form-parents")
    tab_to(page, page.get_by_label("Task name"))
    page.keyboard.type("Write the API guide")
    tab_to(page, choice)
    page.keyboard.type("Docs")  # the select's own type-ahead
    expect(choice).to_have_value(project["docs"])
    tab_to(page, page.get_by_role("button", name="Add task"))
    page.keyboard.press("Enter")
    expect(page.locator("#live-region")).to_have_text("Added “Write the API guide”.")
    expect(page.locator("#schedule-rows > tr", has_text="Write the API guide")).to_have_attribute("data-depth", "1")
    assert console_errors == []


def test_without_javascript_put_it_under_is_a_link_to_every_task(
    browser: Any, live_server: str, user: Any, make: Any
) -> None:
    project = _project(make, user)
    with without_script(browser, live_server, user.email, f"/projects/{project['id']}/schedule") as page:
        page.locator("#add-task summary").click()
        page.get_by_role("link", name="List every task to put it under").click()
        expect(page).to_have_url(re.compile(r"\?add=1#add-parent_id$"))
        choice = page.get_by_label("Put it under")
        expect(choice.locator("option")).to_have_count(5)
        page.get_by_label("Task name").fill("Press kit")
        choice.select_option(label="\u2003Design")
        page.get_by_role("button", name="Add task").click()
        expect(page.locator("#schedule-rows > tr", has_text="Press kit")).to_have_attribute("data-depth", "2")
