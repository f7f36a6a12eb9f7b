"""The task list: WBS order, indentation, markers, rolled-up dates, avatars, the reserved link
indicator slot, and what each role sees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from tests.conftest import SessionClient
from tests.schedule.conftest import htmx, parse, texts


def url(project: dict[str, Any], query: str = "") -> str:
    return f"/projects/{project['id']}/schedule{query}"


def long(offset: int) -> str:
    d = date.today() + timedelta(days=offset)
    return f"{d:%a} {d.day} {d:%b %Y}"


def test_rows_in_wbs_order_with_depth_markers_and_rolled_up_dates(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("owner").get(url(project))
    assert response.status_code == 200
    tree = parse(response)
    rows = tree.css("#schedule-rows > tr")
    assert [r.attributes["id"] for r in rows] == [
        f"task-{project[k]}" for k in ("build", "design", "code", "review", "launch")
    ]
    assert [r.attributes["data-depth"] for r in rows] == ["0", "1", "1", "2", "0"]
    assert [r.css_first("th").attributes["class"].split()[-1] for r in rows] == ["d-0", "d-1", "d-1", "d-2", "d-0"]
    # Summary and milestone rows are marked in text, not by colour alone.
    build, design, code, review, launch = rows
    assert "Build (summary)" in build.css_first(".task-link").text()
    assert build.css_first("button.toggle").attributes["aria-expanded"] == "true"
    assert "Subtasks of Build" in build.css_first("button.toggle").text()
    assert "Launch (milestone)" in launch.css_first(".task-link").text()
    assert launch.css_first(".c-duration").text() == "Milestone"
    assert design.css_first("button.toggle") is None
    # Summary rows show their rolled-up dates: Code is Review's (days 7-9), and Build spans
    # Design (day 2) to Code (day 9).
    assert texts(code, "td.c-date") == [long(7), long(9)]
    assert texts(build, "td.c-date") == [long(2), long(9)]
    assert build.css_first("td.c-date time").attributes["datetime"] == (date.today() + timedelta(days=2)).isoformat()
    assert build.css_first(".c-duration").text() == "8 days"
    assert review.css_first(".c-duration").text() == "3 days"
    assert code.css_first(".c-duration").text() == "3 days"


def test_avatars_have_initials_and_accessible_names_after_the_link_slot(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    tree = parse(login("owner").get(url(project)))
    design = tree.css_first(f"#task-{project['design']}")
    cells = design.css("td")
    # The cell immediately left of the avatars is reserved for the link indicator.
    assert "link-indicator-slot" in cells[-2].attributes["class"]
    assert cells[-2].text().strip() == ""
    assert "c-people" in cells[-1].attributes["class"]
    avatars = cells[-1].css("li.avatar")
    assert [a.css_first("[role=img]").attributes["aria-label"] for a in avatars] == ["Olive Owner", "Ravi Patel"]
    assert [a.text() for a in avatars] == ["OO", "RP"]
    header = tree.css("thead th")
    assert "link-indicator-slot" in header[-2].attributes["class"]
    assert header[-1].text() == "Assignees"


def test_member_sees_add_form_and_parent_choices(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    # The page lists them with the form open (?add=1, the no-script way; with htmx the select
    # fetches the same list when the form opens: tests/schedule/test_attention_lazy.py).
    tree = parse(login("member").get(url(project, "?add=1")))
    form = tree.css_first("#add-task form")
    assert form.attributes["action"].endswith("/schedule/tasks")
    assert form.attributes["hx-post"] == form.attributes["action"]
    options = [(o.attributes["value"], o.text().strip()) for o in form.css("select option")]
    # Every task can take a new subtask from here, but a milestone (it cannot have any).
    assert [value for value, _ in options] == [
        "",
        project["build"],
        project["design"],
        project["code"],
        project["review"],
    ]
    assert options[0][1] == "Top level (no parent)"
    assert [label.strip("\u2003") for _, label in options[1:]] == ["Build", "Design", "Code", "Review"]


def test_viewer_sees_no_edit_controls(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    client = login("viewer")
    for query in ("", "?view=gantt", f"?task={project['design']}"):
        response = client.get(url(project, query))
        body, tree = response.get_data(as_text=True), parse(response)
        assert tree.css_first("#add-task") is None, query
        writes = [f for f in tree.css("form") if "logout" not in f.attributes.get("class", "")]
        assert writes == [], query
        assert "Add a task" not in body and "Save changes" not in body
        assert "Add subtask" not in body and "<textarea" not in body
    drawer = parse(client.get(url(project, f"?task={project['design']}"))).css_first("#drawer")
    assert "Description" in drawer.text()


def test_archived_project_shows_no_edit_controls(
    login: Callable[[str], SessionClient], project: dict[str, Any], user: Any
) -> None:
    from ppm.projects import services

    owner = login("owner")
    services.set_archived(user, project["id"], True)
    body = owner.get(url(project, f"?task={project['design']}")).get_data(as_text=True)
    assert 'id="add-task"' not in body and "Save changes" not in body


def test_non_member_gets_404_everywhere(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    stranger = login("stranger")
    for query in ("", "?view=gantt&zoom=day", f"?task={project['design']}"):
        assert stranger.get(url(project, query)).status_code == 404
        assert stranger.get(url(project, query), headers=htmx("drawer")).status_code == 404
    assert stranger.form(url(project, "/tasks"), {"name": "x"}).status_code == 404
    assert stranger.form(url(project, f"/tasks/{project['design']}"), {"name": "x"}).status_code == 404


def test_unknown_task_in_the_drawer_is_404(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    owner = login("owner")
    assert owner.get(url(project, "?task=nope")).status_code == 404
    response = owner.get(url(project, "?task=nope"), headers=htmx("drawer"))
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#alert-region"


def test_anonymous_is_sent_to_login(client: Any, project: dict[str, Any]) -> None:
    response = client.get(url(project))
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_empty_project_says_so(login: Callable[[str], SessionClient], make: Any, user: Any) -> None:
    owner = login("owner")
    pid = make.project(user, "Empty")
    for query in ("", "?view=gantt"):
        body = owner.get(f"/projects/{pid}/schedule{query}").get_data(as_text=True)
        assert "No tasks yet." in body


def test_page_loads_its_own_css_and_js_and_no_inline_script_or_style(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    owner = login("owner")
    for query in ("", "?view=gantt&zoom=day", f"?task={project['code']}"):
        response = owner.get(url(project, query))
        tree = parse(response)
        assert tree.css_first('link[href*="/static/css/schedule.css"]') is not None
        assert tree.css_first('script[src*="/static/js/schedule.js"]') is not None
        assert all(s.attributes.get("src") for s in tree.css("script"))
        assert tree.css("[style]") == [] and tree.css("style") == []
        assert not [n for n in tree.css("*") if any(a.startswith("hx-on") for a in n.attributes)]
        assert "Content-Security-Policy" in response.headers


def test_names_are_escaped_everywhere(
    login: Callable[[str], SessionClient], project: dict[str, Any], make: Any, user: Any
) -> None:
    """The row templates print pre-escaped values with autoescape off: prove it holds."""
    evil = '<script>alert("x")</script>\'&'
    person = make.member(user, project["id"], "member", user=make.user(name='<b>"Eve"</b>'))
    task = make.task(user, project["id"], name=evil, parent_id=project["design"], assignee_ids=[person.id])
    owner = login("owner")
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#39;&amp;"
    for query, headers in (("", {}), ("?view=gantt&zoom=day", {}), (f"?task={task.id}", htmx("drawer"))):
        body = owner.get(url(project, query), headers=headers).get_data(as_text=True)
        assert "<script>alert" not in body and "<b>" not in body, query
        assert escaped in body, query
    tree = parse(owner.get(url(project)))
    row = tree.css_first(f"#task-{task.id}")
    assert row.css_first(".task-link").text().startswith(evil)
    assert row.css_first("li.avatar").attributes["title"] == '<b>"Eve"</b>'
    response = owner.form(
        url(project, f"/tasks/{task.id}"),
        {"name": evil + "!", "start_date": "2026-01-01", "finish_date": "2026-01-02", "description": ""},
        headers=htmx("drawer"),
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<script>alert" not in body
