"""Adding tasks: the "Add a task" form (top level or under a summary) and the drawer's "Add a
subtask"; without JavaScript (post-redirect-get) and with htmx (fragments, rows out of band)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from ppm.extensions import db
from ppm.projects.models import Task
from tests.conftest import SessionClient
from tests.schedule.conftest import day, htmx, parse, parse_rows


def url(project: dict[str, Any], query: str = "") -> str:
    return f"/projects/{project['id']}/schedule{query}"


def named(name: str) -> Task:
    db.session.expire_all()
    found = db.session.scalar(select(Task).where(Task.name == name))
    assert found is not None
    return found


def test_add_without_javascript_redirects_to_the_new_task(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("member").form(
        url(project, "/tasks"),
        {"name": "Write docs", "start_date": "", "finish_date": "", "parent_id": "", "view": "gantt", "zoom": "month"},
    )
    assert response.status_code == 303
    new = named("Write docs")
    assert new.parent_id is None and new.start_date == new.finish_date == date.today()
    assert response.headers["Location"] == url(project, f"?view=gantt&zoom=month&task={new.id}")


def test_add_with_htmx_resets_the_form_and_inserts_the_row(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("member").form(
        url(project, "/tasks"),
        {
            "name": "QA pass",
            "start_date": day(3),
            "finish_date": day(4),
            "parent_id": project["code"],
            "view": "list",
            "zoom": "week",
        },
        headers=htmx("add-task"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    new = named("QA pass")
    assert new.parent_id == project["code"]
    tree = parse(response)
    region = tree.css_first("#add-task")
    assert "open" in region.css_first("details").attributes
    name = region.css_first("#add-name")
    assert "autofocus" in name.attributes and name.attributes.get("value", "") == ""
    assert "Added “QA pass”." in region.css_first(".panel-success").text()
    assert region.css_first(".panel-success a").attributes["href"].endswith(f"?task={new.id}")
    assert tree.css_first("[hx-swap-oob='innerHTML:#live-region']").text() == "Added “QA pass”."
    # The new row goes after the last row of its parent's subtree (Review), the parents'
    # rows are replaced with their rolled-up dates. Both arrive at the end of the list, marked
    # for schedule.js to put in place (the client may not hold every row).
    rows = parse_rows(response)
    inserts = rows.css("tbody[hx-swap-oob]")
    assert [t.attributes["hx-swap-oob"] for t in inserts] == ["beforeend:#schedule-rows"] * 2
    inserted = inserts[0].css_first("tr")
    assert inserted.attributes["id"] == f"task-{new.id}" and inserted.attributes["data-depth"] == "2"
    assert "data-new" in inserted.attributes and "data-oob" in inserted.attributes
    assert inserted.attributes["data-after"] == project["review"]
    assert inserted.attributes["data-parent"] == project["code"]
    assert [r.attributes["id"] for r in inserts[1].css("tr[data-oob]")] == [
        f"task-{project['code']}",
        f"task-{project['build']}",
    ]
    code = rows.css_first(f"#task-{project['code']}")
    assert code.css("td.c-date time")[0].attributes["datetime"] == day(3)


def test_add_subtask_from_the_drawer_turns_a_task_into_a_summary(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("member").form(
        url(project, "/tasks"),
        {
            "origin": "drawer",
            "name": "Wireframes",
            "start_date": day(2),
            "finish_date": day(3),
            "parent_id": project["design"],
            "view": "list",
            "zoom": "week",
        },
        headers=htmx("drawer"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    tree = parse(response)
    drawer = tree.css_first("#drawer")
    assert drawer.attributes["data-task"] == project["design"]
    assert "Summary task" in drawer.css_first(".drawer-kind").text()
    assert "Added “Wireframes”." in drawer.css_first(".drawer-message").text()
    assert [n.attributes["id"] for n in tree.css("[autofocus]")] == ["sub-name"]
    rows = parse_rows(response)
    assert rows.css_first("tr[data-new]").attributes["data-after"] == project["design"]
    design = rows.css_first(f"#task-{project['design']}")
    assert design.attributes["class"] == "k-s" and design.css_first("button.toggle") is not None


def test_invalid_add_answers_422_keeping_the_input(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    member = login("member")
    data = {
        "name": "",
        "start_date": day(5),
        "finish_date": day(1),
        "is_milestone": "y",
        "parent_id": project["build"],
        "view": "list",
        "zoom": "week",
    }
    for headers in (htmx("add-task"), {}):
        response = member.form(url(project, "/tasks"), data, headers=headers)
        assert response.status_code == 422
        region = parse(response).css_first("#add-task")
        assert "open" in region.css_first("details").attributes
        summary = region.css_first(".error-summary")
        assert [a.attributes["href"] for a in summary.css("a")] == ["#add-name", "#add-finish_date"]
        assert region.css_first("#add-start_date").attributes["value"] == day(5)
        assert region.css_first("#add-finish_date").attributes["value"] == day(1)
        assert region.css_first("#add-finish_date").attributes["aria-invalid"] == "true"
        assert "checked" in region.css_first("#add-is_milestone").attributes
        assert "selected" in region.css_first(f"option[value='{project['build']}']").attributes
    assert db.session.scalar(select(Task).where(Task.name == "")) is None


def test_bad_parent_is_reported_on_the_parent_field(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("member").form(
        url(project, "/tasks"), {"name": "Orphan", "parent_id": project["launch"]}, headers=htmx("add-task")
    )
    assert response.status_code == 422
    region = parse(response).css_first("#add-task")
    assert "milestone cannot have subtasks" in region.css_first("#add-parent_id-error").text()
    assert region.css_first("#add-parent_id").attributes["aria-describedby"] == "add-parent_id-error"


def test_add_in_the_gantt_view_or_to_an_empty_list_reloads_the_view(
    login: Callable[[str], SessionClient], project: dict[str, Any], make: Any, user: Any
) -> None:
    owner = login("owner")
    response = owner.form(
        url(project, "/tasks"), {"name": "G", "view": "gantt", "zoom": "day"}, headers=htmx("add-task")
    )
    assert response.status_code == 200 and "schedule-changed" in response.headers["HX-Trigger"]
    empty = make.project(user, "Empty")
    response = owner.form(f"/projects/{empty}/schedule/tasks", {"name": "First"}, headers=htmx("add-task"))
    assert response.status_code == 200 and "schedule-changed" in response.headers["HX-Trigger"]
    assert "data-new" not in response.get_data(as_text=True)


def test_first_row_added_at_top_level_goes_after_the_last_row(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("owner").form(
        url(project, "/tasks"),
        {"name": "Retro", "start_date": day(15), "finish_date": day(15)},
        headers=htmx("add-task"),
    )
    rows = parse_rows(response).css("tr[data-oob]")
    assert len(rows) == 1 and rows[0].attributes["data-after"] == project["launch"]
    assert rows[0].attributes["data-parent"] == ""
    assert named("Retro").finish_date == date.today() + timedelta(days=15)
