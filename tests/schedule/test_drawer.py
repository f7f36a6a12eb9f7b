"""The task drawer: a linkable page state (?task=), an htmx fragment, the edit form for members
with 422 errors that keep what was typed, and the External links slot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ppm.extensions import db
from ppm.projects.models import Task
from tests.conftest import SessionClient
from tests.schedule.conftest import day, htmx, parse, parse_rows


def url(project: dict[str, Any], query: str = "") -> str:
    return f"/projects/{project['id']}/schedule{query}"


def task(task_id: str) -> Task:
    db.session.expire_all()
    found = db.session.get(Task, task_id)
    assert found is not None
    return found


def test_full_page_with_task_shows_the_drawer(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    response = login("member").get(url(project, f"?view=gantt&zoom=day&task={project['design']}"))
    assert response.status_code == 200
    tree = parse(response)
    drawer = tree.css_first("section#drawer")
    assert drawer.attributes["data-task"] == project["design"]
    assert drawer.attributes["aria-labelledby"] == "drawer-title"
    heading = drawer.css_first("h2#drawer-title")
    assert heading.text() == "Design" and "autofocus" in heading.attributes
    close = drawer.css_first("a.drawer-close")
    assert close.attributes["href"] == url(project, "?view=gantt&zoom=day")
    assert close.attributes["hx-target"] == "#drawer" and close.attributes["hx-push-url"] == "true"
    assert "Close task details" in " ".join(close.text().split())
    # The parent chain links to the parent's drawer; the details list the assignees by name.
    assert [a.text() for a in drawer.css(".drawer-path a")] == ["Build"]
    assert "Olive Owner" in drawer.text() and "Ravi Patel" in drawer.text()
    # The slot where the task-links issue puts External links.
    links = drawer.css_first("section#task-links")
    assert links.css_first("h3").text() == "External links"
    assert links.css_first("p").text().strip()
    # Members edit here; the toolbar keeps the open task in its links.
    assert drawer.css_first("form textarea#edit-description") is not None
    assert tree.css_first("#zoom-week").attributes["href"].endswith(f"zoom=week&task={project['design']}")
    assert tree.css_first("title").text().startswith("Design · Schedule")


def test_htmx_open_returns_only_the_drawer_and_toolbar(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("viewer").get(url(project, f"?task={project['launch']}"), headers=htmx("drawer"))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and "schedule-rows" not in body
    assert "HX-Target" in response.headers["Vary"]
    tree = parse(response)
    drawer = tree.css_first("#drawer")
    assert "Milestone" in drawer.css_first(".drawer-kind").text()
    assert [n.attributes.get("id") for n in tree.css("[autofocus]")] == ["drawer-title"]
    toolbar = tree.css_first("#schedule-toolbar")
    assert toolbar.attributes["hx-swap-oob"] == "true"
    assert toolbar.css_first("#view-gantt").attributes["href"].endswith(f"task={project['launch']}")
    assert tree.css_first("[hx-swap-oob='innerHTML:#live-region']").text() == "Details of Launch."
    # A viewer reads the description; no form, no subtask form.
    assert drawer.css("form") == [] and "No description." in drawer.text()


def test_htmx_close_returns_an_empty_drawer_and_announces(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("viewer").get(url(project, "?view=gantt&zoom=week"), headers=htmx("drawer"))
    tree = parse(response)
    drawer = tree.css_first("#drawer")
    assert "hidden" in drawer.attributes and drawer.text().strip() == ""
    assert "task=" not in tree.css_first("#view-list").attributes["href"]
    assert tree.css_first("[hx-swap-oob='innerHTML:#live-region']").text() == "Task details closed."


def test_member_saves_name_dates_and_description(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    member = login("member")
    response = member.form(
        url(project, f"/tasks/{project['review']}"),
        {
            "name": "Peer review",
            "start_date": day(20),
            "finish_date": day(22),
            "description": "Two reviewers.\nOne from ops.",
            "view": "list",
            "zoom": "week",
        },
        headers=htmx("drawer"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    saved = task(project["review"])
    assert (saved.name, saved.start_date, saved.finish_date, saved.description) == (
        "Peer review",
        date.today() + timedelta(days=20),
        date.today() + timedelta(days=22),
        "Two reviewers.\nOne from ops.",
    )
    tree = parse(response)
    assert tree.css_first("#drawer h2").text() == "Peer review"
    assert "Saved “Peer review”." in tree.css_first(".drawer-message").text()
    assert tree.css_first("[hx-swap-oob='innerHTML:#live-region']").text() == "Saved “Peer review”."
    # The list rows of the task and of its (re-rolled-up) parents come out of band.
    tree = parse_rows(response)
    oob = [r.attributes["id"] for r in tree.css("tr[data-oob]")]
    assert oob == [f"task-{project[k]}" for k in ("review", "code", "build")]
    build = tree.css_first(f"#task-{project['build']}")
    finish = build.css("td.c-date time")[1].attributes["datetime"]
    assert finish == (date.today() + timedelta(days=22)).isoformat()
    assert tree.css("tr [autofocus]") == []


def test_saving_in_the_gantt_view_reloads_the_view(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("member").form(
        url(project, f"/tasks/{project['design']}"),
        {
            "name": "Design",
            "start_date": day(1),
            "finish_date": day(3),
            "description": "",
            "view": "gantt",
            "zoom": "month",
        },
        headers=htmx("drawer"),
    )
    assert response.status_code == 200
    assert "schedule-changed" in response.headers["HX-Trigger"]
    assert 'hx-swap-oob="true"' in response.get_data(as_text=True)  # the toolbar only
    assert parse_rows(response).css("tr") == []


def test_without_javascript_a_save_redirects_back(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("member").form(
        url(project, f"/tasks/{project['design']}"),
        {
            "name": "Design v2",
            "start_date": day(2),
            "finish_date": day(6),
            "description": "",
            "view": "gantt",
            "zoom": "day",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == url(project, f"?view=gantt&zoom=day&task={project['design']}")
    assert task(project["design"]).name == "Design v2"


def test_invalid_edit_answers_422_with_errors_by_the_fields_and_keeps_the_input(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    member = login("member")
    data = {
        "name": "  ",
        "start_date": day(9),
        "finish_date": day(3),
        "description": "My long notes that must not be lost.",
    }
    for headers in (htmx("drawer"), {}):
        response = member.form(url(project, f"/tasks/{project['design']}"), data, headers=headers)
        assert response.status_code == 422
        tree = parse(response)
        drawer = tree.css_first("#drawer")
        summary = drawer.css_first(".error-summary")
        assert "autofocus" in summary.attributes
        assert [a.attributes["href"] for a in summary.css("a")] == ["#edit-name", "#edit-finish_date"]
        name = drawer.css_first("#edit-name")
        assert name.attributes["aria-invalid"] == "true"
        assert drawer.css_first("#" + name.attributes["aria-describedby"]).text().strip().endswith("Enter a task name.")
        finish = drawer.css_first("#edit-finish_date")
        assert finish.attributes["value"] == day(3) and finish.attributes["type"] == "date"
        assert "on or after the start date" in drawer.css_first("#" + finish.attributes["aria-describedby"]).text()
        assert drawer.css_first("#edit-start_date").attributes["value"] == day(9)
        assert drawer.css_first("#edit-description").text() == data["description"]
        assert drawer.css_first("#drawer-title").attributes.get("autofocus") is None
    assert task(project["design"]).name == "Design"


def test_summary_dates_are_not_editable_and_milestone_has_one_date(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    member = login("member")
    tree = parse(member.get(url(project, f"?task={project['build']}")))
    assert tree.css_first("#edit-start_date") is None and tree.css_first("#edit-finish_date") is None
    assert "come from its subtasks" in tree.css_first("#drawer form").text()
    response = member.form(
        url(project, f"/tasks/{project['build']}"), {"name": "Build it", "start_date": day(-30), "description": "x"}
    )
    assert response.status_code == 303
    build = task(project["build"])
    assert build.name == "Build it" and build.start_date == date.today() + timedelta(days=2)

    tree = parse(member.get(url(project, f"?task={project['launch']}")))
    assert tree.css_first("label[for=edit-start_date]").text() == "Date"
    assert tree.css_first("#edit-finish_date") is None
    member.form(
        url(project, f"/tasks/{project['launch']}"), {"name": "Launch", "start_date": day(30), "description": ""}
    )
    launch = task(project["launch"])
    assert launch.start_date == launch.finish_date == date.today() + timedelta(days=30)
    response = member.form(
        url(project, f"/tasks/{project['launch']}"), {"name": "Launch", "start_date": "31/12/2026", "description": ""}
    )
    assert response.status_code == 422
    assert parse(response).css_first("#edit-start_date").attributes["value"] == "31/12/2026"


def test_viewer_cannot_post(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    viewer = login("viewer")
    response = viewer.form(
        url(project, f"/tasks/{project['design']}"),
        {"name": "Hacked", "start_date": day(1), "finish_date": day(2)},
        headers=htmx("drawer"),
    )
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#alert-region"
    assert viewer.form(url(project, "/tasks"), {"name": "New"}).status_code == 403
    assert task(project["design"]).name == "Design"


def test_missing_csrf_token_changes_nothing(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    member = login("member")
    response = member.client.post(url(project, f"/tasks/{project['design']}"), data={"name": "No token"})
    assert response.status_code == 400
    assert task(project["design"]).name == "Design"
