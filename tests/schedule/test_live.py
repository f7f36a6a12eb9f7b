"""The live schedule's poll (SPEC §23): `…/schedule/changes?since=N` answers 204 from one query
after the session's user when nothing is newer, and otherwise the changed parts out of band."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from ppm.extensions import db
from ppm.links import services as link_services
from ppm.links.models import TaskLink
from ppm.projects import services as project_services
from ppm.projects.models import Project
from tests.conftest import Factory, SessionClient
from tests.schedule.conftest import day, htmx, parse, parse_rows

LIVE = {**htmx("schedule-live")}


def changes(project: dict[str, Any], query: str) -> str:
    return f"/projects/{project['id']}/schedule/changes{query}"


def counter(project: dict[str, Any]) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(Project.sync_counter).where(Project.id == project["id"])) or 0)


def page_since(client: SessionClient, project: dict[str, Any], query: str = "") -> int:
    tree = parse(client.get(f"/projects/{project['id']}/schedule{query}"))
    live = tree.css_first("#schedule-live")
    assert live is not None
    return int(live.attributes["data-since"] or "")


def rows_of(response: Any) -> dict[str, dict[str, str | None]]:
    return {
        (node.attributes["id"] or "").removeprefix("task-"): node.attributes
        for node in parse_rows(response).css("tr[data-live]")
        if "data-gone" not in node.attributes
    }


# --- the idle poll --------------------------------------------------------------------


def test_idle_poll_is_204_from_two_queries_without_touching_the_session(
    login: Callable[[str], SessionClient], project: dict[str, Any], count_queries: Any
) -> None:
    client = login("viewer")
    since = page_since(client, project)
    assert since == counter(project) > 0  # the page was built at the project's sync number
    with count_queries() as counted:
        response = client.get(changes(project, f"?since={since}"), headers=LIVE)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert "Set-Cookie" not in response.headers  # the session cookie is neither renewed nor changed
    # The session's user, then the sync number joined to the membership: nothing else, no write.
    assert counted.count <= 2, counted.statements
    assert all(s.lstrip().upper().startswith("SELECT") for s in counted.statements), counted.statements
    assert "sync_counter" in counted.statements[-1] and "memberships" in counted.statements[-1]
    # A cursor from the future (a page older than a restored database) is not newer either.
    assert client.get(changes(project, f"?since={since + 5}"), headers=LIVE).status_code == 204


def test_idle_poll_cost_does_not_grow_with_the_project(
    login: Callable[[str], SessionClient],
    project: dict[str, Any],
    make: Factory,
    user: Any,
    count_queries: Any,
) -> None:
    for n in range(30):
        make.task(user, project["id"], name=f"Extra {n}", start_date=day(n), finish_date=day(n + 1))
    client = login("member")
    since = counter(project)
    with count_queries() as counted:
        assert client.get(changes(project, f"?since={since}")).status_code == 204
    assert counted.count <= 2


@pytest.mark.parametrize("since", ["", "abc", "-1", "+1", "1.0", " 1", "1 ", "0x1", "١٢", "²", "9" * 19])
def test_since_must_be_ascii_digits(login: Callable[[str], SessionClient], project: dict[str, Any], since: str) -> None:
    response = login("viewer").get(changes(project, ""), query_string={"since": since}, headers=LIVE)
    assert response.status_code == 400
    assert "since" in response.get_data(as_text=True)


def test_since_missing_is_400(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    assert login("viewer").get(changes(project, ""), headers=LIVE).status_code == 400


def test_non_members_get_404_whatever_they_send(
    login: Callable[[str], SessionClient], project: dict[str, Any], make: Factory, user: Any
) -> None:
    stranger = login("stranger")
    for query in ("?since=0", "?since=abc", "?since=999"):
        response = stranger.get(changes(project, query), headers=LIVE)
        assert response.status_code == 404, query
        assert "Design" not in response.get_data(as_text=True)
    # A project that does not exist looks the same.
    assert stranger.get("/projects/" + "0" * 32 + "/schedule/changes?since=0").status_code == 404


def test_logged_out_poll_is_refused(client: Any, project: dict[str, Any]) -> None:
    response = client.get(changes(project, "?since=0"), headers=LIVE)
    assert response.status_code == 401 and "/login" in response.headers["HX-Redirect"]


# --- a poll with news -------------------------------------------------------------------


def test_an_edit_comes_back_as_its_row_with_bar_count_and_new_since(
    login: Callable[[str], SessionClient], project: dict[str, Any], user: Any
) -> None:
    client = login("viewer")
    since = page_since(client, project)
    project_services.update_task(user, project["id"], project["design"], {"name": "Design review"})
    response = client.get(changes(project, f"?since={since}"), headers=LIVE)
    assert response.status_code == 200
    rows = rows_of(response)
    # The edited task (counted as changed) and its summary, whose dates did not move: not sent.
    assert set(rows) == {project["design"]}
    design = rows[project["design"]]
    assert "data-changed" in design and "data-oob" in design
    assert design["data-sibling"] == "" and design["data-parent"] == project["build"]  # the first subtask
    assert re.fullmatch(r"[0-9a-f]{16}", design["data-v"] or "")
    assert "Design review" in parse_rows(response).css_first(f"#task-{project['design']}").text()
    body = response.get_data(as_text=True)
    tree = parse(response)
    assert tree.css_first("#attention-bar").attributes["hx-swap-oob"] == "true"
    assert " ".join(tree.css_first("#schedule-count").text().split()) == "(5)"
    live = tree.css_first("#schedule-live")
    assert live.attributes["hx-swap-oob"] == "true"
    assert int(live.attributes["data-since"] or "") == counter(project) > since
    assert "task-links" not in body  # no drawer open
    # The new since is idle again.
    assert client.get(changes(project, f"?since={live.attributes['data-since']}")).status_code == 204


def test_added_and_removed_tasks_are_placed_and_gone(
    login: Callable[[str], SessionClient], project: dict[str, Any], user: Any
) -> None:
    client = login("viewer")
    since = page_since(client, project)
    added = project_services.create_task(
        user,
        project["id"],
        {"name": "Deploy", "parent_id": project["code"], "start_date": day(3), "finish_date": day(4)},
    )
    project_services.delete_task(user, project["id"], project["launch"])
    response = client.get(changes(project, f"?since={since}"), headers=LIVE)
    rows = rows_of(response)
    assert rows[added.id]["data-sibling"] == project["review"]  # after its previous sibling's rows
    assert rows[added.id]["data-parent"] == project["code"]
    gone = [n.attributes["id"] for n in parse_rows(response).css("tr[data-gone]")]
    assert gone == [f"task-{project['launch']}"]
    assert project["launch"] not in rows
    assert " ".join(parse(response).css_first("#schedule-count").text().split()) == "(5)"


def test_a_link_change_sends_the_row_and_the_open_drawers_links(
    login: Callable[[str], SessionClient], project: dict[str, Any], user: Any
) -> None:
    client = login("viewer")
    link = link_services.add_link(user, project["id"], project["review"], {"url": "https://github.com/acme/api/pull/7"})
    since = page_since(client, project, f"?task={project['review']}")
    # A webhook marks the pull request merged (the link write stamps the next sync number).
    row = db.session.get(TaskLink, link.id)
    assert row is not None
    row.status = "merged"
    row.sync_number = project_services.next_sync_number(project["id"])
    db.session.commit()
    with_drawer = client.get(changes(project, f"?since={since}&task={project['review']}"), headers=LIVE)
    rows = rows_of(with_drawer)
    assert list(rows) == [project["review"]]
    indicator = parse_rows(with_drawer).css_first(f"#task-{project['review']} .link-indicator")
    assert "worst status: merged" in (indicator.attributes["aria-label"] or "")
    section = parse(with_drawer).css_first("section#task-links")
    assert section is not None and section.attributes["hx-swap-oob"] == "true"
    assert "merged" in section.text().lower()
    # Another drawer open (its task unchanged), or none: no links section.
    other = client.get(changes(project, f"?since={since}&task={project['design']}"), headers=LIVE)
    assert "task-links" not in other.get_data(as_text=True)
    # A task id of another project is never looked up: only this project's changed tasks are.
    bogus = client.get(changes(project, f"?since={since}&task=<b>x</b>"), headers=LIVE)
    assert bogus.status_code == 200 and "<b>x</b>" not in bogus.get_data(as_text=True)


def test_under_a_filter_a_task_that_stops_matching_is_gone(
    login: Callable[[str], SessionClient], project: dict[str, Any], user: Any
) -> None:
    client = login("viewer")
    link = link_services.add_link(user, project["id"], project["review"], {"url": "https://github.com/acme/api/pull/8"})
    row = db.session.get(TaskLink, link.id)
    assert row is not None
    row.status = "closed"  # a pull request closed without merge
    row.sync_number = project_services.next_sync_number(project["id"])
    db.session.commit()
    since = page_since(client, project, "?attention=closed_unmerged")
    assert parse(client.get(f"/projects/{project['id']}/schedule?attention=closed_unmerged")).css_first(
        f"#task-{project['review']}"
    )
    # Reopened and merged after all: the task no longer needs attention.
    row.status = "merged"
    row.sync_number = project_services.next_sync_number(project["id"])
    db.session.commit()
    response = client.get(changes(project, f"?since={since}&attention=closed_unmerged"), headers=LIVE)
    assert response.status_code == 200
    gone = {n.attributes["id"]: "data-changed" in n.attributes for n in parse_rows(response).css("tr[data-gone]")}
    # The task, and the parents shown (muted) only for it; only the task counts as a change.
    assert gone == {
        f"task-{project['review']}": True,
        f"task-{project['code']}": False,
        f"task-{project['build']}": False,
    }
    assert " ".join(parse(response).css_first("#schedule-count").text().split()) == "(0)"


def test_gantt_rows_carry_the_chart_scale(
    login: Callable[[str], SessionClient], project: dict[str, Any], user: Any
) -> None:
    client = login("viewer")
    tree = parse(client.get(f"/projects/{project['id']}/schedule?view=gantt&zoom=week"))
    live = tree.css_first("#schedule-live")
    scale = live.attributes["data-scale"]
    assert scale and scale.startswith("week/")
    assert "view=gantt" in (live.attributes["data-changes"] or "")
    since = int(live.attributes["data-since"] or "")
    project_services.update_task(user, project["id"], project["review"], {"name": "Peer review"})
    response = client.get(changes(project, f"?since={since}&view=gantt&zoom=week"), headers=LIVE)
    node = parse_rows(response).css_first(f"#task-{project['review']}")
    assert node.css_first("svg.gantt-bars") is not None  # a Gantt row, not a list row
    assert parse(response).css_first("#schedule-live").attributes["data-scale"] == scale
    # A task far in the future moves the chart's scale: the page sees a different one.
    project_services.update_task(user, project["id"], project["review"], {"finish_date": day(400)})
    moved = client.get(changes(project, f"?since={since}&view=gantt&zoom=week"), headers=LIVE)
    assert parse(moved).css_first("#schedule-live").attributes["data-scale"] != scale


def test_own_write_and_poll_send_the_same_row_digest(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    """The person's own save already put the row there: the poll's copy carries the same digest,
    so the page skips it and does not announce it again."""
    client = login("member")
    since = page_since(client, project)
    saved = client.form(
        f"/projects/{project['id']}/schedule/tasks/{project['design']}",
        {"name": "Design v2", "start_date": day(2), "finish_date": day(6), "description": "", "view": "list"},
        headers=htmx("drawer"),
    )
    assert saved.status_code == 200
    written = parse_rows(saved).css_first(f"#task-{project['design']}").attributes["data-v"]
    polled = rows_of(client.get(changes(project, f"?since={since}"), headers=LIVE))[project["design"]]["data-v"]
    assert written and written == polled


def test_poll_cost_does_not_grow_with_changes(
    login: Callable[[str], SessionClient], project: dict[str, Any], make: Factory, user: Any, count_queries: Any
) -> None:
    client = login("viewer")
    since = counter(project)
    project_services.update_task(user, project["id"], project["design"], {"name": "One"})
    with count_queries() as one:
        client.get(changes(project, f"?since={since}&task={project['design']}"), headers=LIVE)
    for n in range(20):
        make.task(user, project["id"], name=f"More {n}", start_date=day(n), finish_date=day(n + 1))
    with count_queries() as many:
        response = client.get(changes(project, f"?since={since}&task={project['design']}"), headers=LIVE)
    assert len(rows_of(response)) == 21
    assert many.count == one.count


def test_many_changes_ask_the_page_to_reload_its_view(
    login: Callable[[str], SessionClient], project: dict[str, Any], monkeypatch: pytest.MonkeyPatch, user: Any
) -> None:
    from ppm.schedule import live

    monkeypatch.setattr(live, "MAX_CHANGED", 1)
    client = login("viewer")
    since = counter(project)
    project_services.update_task(user, project["id"], project["design"], {"name": "A"})
    project_services.update_task(user, project["id"], project["launch"], {"name": "B"})
    response = client.get(changes(project, f"?since={since}"), headers=LIVE)
    assert "data-reload" in parse(response).css_first("#schedule-live").attributes
    assert not rows_of(response)


# --- the setting ------------------------------------------------------------------------


@pytest.fixture
def live_setting(request: pytest.FixtureRequest) -> Any:
    """LIVE_INTERVAL as `create_app({...})` is given it (parametrized indirectly), or unset."""
    return getattr(request, "param", None)


@pytest.fixture
def app_config(app_config: dict[str, Any], live_setting: Any) -> dict[str, Any]:
    if live_setting is not None:
        app_config["LIVE_INTERVAL"] = live_setting
    return app_config


def test_pages_poll_every_ten_seconds_by_default(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    tree = parse(login("viewer").get(f"/projects/{project['id']}/schedule?attention=stale&task={project['design']}"))
    live = tree.css_first("#schedule-live")
    assert live.attributes["data-interval"] == "10"
    # The view and filter travel with the poll; the drawer's task is added by the page itself.
    assert live.attributes["data-changes"] == f"/projects/{project['id']}/schedule/changes?attention=stale"
    assert tree.css_first('script[src*="js/live.js"]') is not None


@pytest.mark.parametrize("live_setting", [0], indirect=True)
def test_interval_zero_turns_polling_off(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    tree = parse(login("viewer").get(f"/projects/{project['id']}/schedule"))
    assert tree.css_first("#schedule-live") is None


@pytest.mark.parametrize("live_setting", [3], indirect=True)
def test_interval_is_configurable(app: Flask, login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    assert app.config["LIVE_INTERVAL"] == 3
    tree = parse(login("viewer").get(f"/projects/{project['id']}/schedule?view=gantt"))
    assert tree.css_first("#schedule-live").attributes["data-interval"] == "3"


def test_a_reloaded_view_brings_its_own_since(
    login: Callable[[str], SessionClient], project: dict[str, Any], user: Any
) -> None:
    """After a write the Gantt (or a filtered list) reloads #schedule-view: the reload is up to
    date, so it carries the sync number it was built at and the next poll is idle."""
    client = login("member")
    before = page_since(client, project, "?view=gantt")
    project_services.update_task(user, project["id"], project["review"], {"name": "Peer review"})
    view = parse(client.get(f"/projects/{project['id']}/schedule?view=gantt&zoom=week", headers=htmx("schedule-view")))
    since = int(view.css_first("#schedule-live").attributes["data-since"] or "")
    assert since == counter(project) > before
    assert client.get(changes(project, f"?since={since}&view=gantt&zoom=week"), headers=LIVE).status_code == 204
