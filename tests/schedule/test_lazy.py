"""Big schedules render their top levels and fetch deeper ones when expanded (issue #15): the
outline's choice of rows, the subtree and all-rows fragments, and the no-script links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from ppm.schedule import outline as outline_module
from ppm.schedule.outline import outline, subtree
from ppm.schedule.services import schedule_rows
from tests.conftest import SessionClient
from tests.schedule.conftest import htmx, parse, parse_rows


def url(project: dict[str, Any], query: str = "") -> str:
    return f"/projects/{project['id']}/schedule{query}"


def ids(project: dict[str, Any], *keys: str) -> list[str]:
    return [f"task-{project[k]}" for k in keys]


def shown(tree: Any) -> list[str]:
    return [row.attributes["id"] for row in tree.css("#schedule-rows > tr")]


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Apollo's levels hold 2 (Build, Launch), 2 (Design, Code) and 1 (Review) rows."""
    return lambda rows: monkeypatch.setattr(outline_module, "ROW_BUDGET", rows)


def test_outline_takes_whole_levels_within_the_budget(app: Any, project: dict[str, Any]) -> None:
    rows = schedule_rows(project["id"])
    by_id = {row.id: row for row in rows}
    names = lambda result: [by_id[r.id].name for r in result.rows]  # noqa: E731
    assert names(outline(rows, budget=5)) == ["Build", "Design", "Code", "Review", "Launch"]
    four = outline(rows, budget=4)
    assert names(four) == ["Build", "Design", "Code", "Launch"]
    assert four.unloaded == {project["code"]} and four.child_counts[project["code"]] == 1
    three = outline(rows, budget=3)
    assert names(three) == ["Build", "Launch"]
    assert three.unloaded == {project["build"]} and three.child_counts[project["build"]] == 2
    # A first level longer than the budget is cut after the budget's rows, or `top`, or the
    # last one holding an opened task (issue #15: a flat list of thousands of tasks).
    one = outline(rows, budget=1)
    assert names(one) == ["Build"] and one.unloaded == {project["build"]}
    assert (one.top_shown, one.top_total, one.next_top and one.next_top.name) == (1, 2, "Launch")
    assert names(outline(rows, budget=1, top=2)) == ["Build", "Launch"]
    assert names(outline(rows, [project["launch"]], budget=1)) == ["Build", "Launch"]
    assert outline(rows, budget=2).next_top is None
    # An opened task's parents are expanded, so its row is there.
    assert names(outline(rows, [project["review"]], budget=2)) == ["Build", "Design", "Code", "Review", "Launch"]
    # A subtree: its descendants, levels counted from its own.
    found = subtree(rows, project["build"])
    assert found is not None
    root, descendants = found
    assert [r.name for r in descendants] == ["Design", "Code", "Review"]
    assert names(outline(descendants, root=root, budget=2)) == ["Design", "Code"]
    assert names(outline(descendants, root=root, budget=3)) == ["Design", "Code", "Review"]
    assert subtree(rows, "nope") is None


@pytest.mark.parametrize("view", ["", "?view=gantt&zoom=week"])
def test_deeper_levels_are_rendered_collapsed_with_a_plain_link(
    login: Callable[[str], SessionClient], project: dict[str, Any], budget: Callable[[int], None], view: str
) -> None:
    budget(4)
    tree = parse(login("viewer").get(url(project, view)))
    assert shown(tree) == ids(project, "build", "design", "code", "launch")
    assert "(5)" in tree.css_first("#schedule-heading").text()  # the count is of every task
    build, code = tree.css_first(f"#task-{project['build']}"), tree.css_first(f"#task-{project['code']}")
    assert build.css_first("button.toggle").attributes["aria-expanded"] == "true"
    assert build.css_first(".more-link") is None
    assert code.css_first("button.toggle").attributes["aria-expanded"] == "false"
    # Without JavaScript the collapsed summary offers a plain link to the page with it open.
    more = code.css_first("a.more-link")
    query = view.replace("?", "") + "&" if view else ""
    assert more.attributes["href"] == f"?{query}open={project['code']}#task-{project['code']}"
    assert " ".join(more.text().split()) == "Show 1 subtask of Code"
    # schedule.js fetches subtrees from here.
    children = tree.css_first("#schedule-rows").attributes["data-children"]
    assert children == url(project, "/tasks/__id__/children" + view)


def test_the_plain_link_and_the_drawer_open_their_branch(
    login: Callable[[str], SessionClient], project: dict[str, Any], budget: Callable[[int], None]
) -> None:
    budget(3)
    viewer = login("viewer")
    opened = parse(viewer.get(url(project, f"?open={project['code']}")))
    assert shown(opened) == ids(project, "build", "design", "code", "review", "launch")
    assert opened.css_first("#view-gantt").attributes["href"] == url(
        project, f"?view=gantt&zoom=week&open={project['code']}"
    )
    drawer = parse(viewer.get(url(project, f"?view=gantt&task={project['review']}")))
    assert shown(drawer) == ids(project, "build", "design", "code", "review", "launch")
    # An unknown task to open is ignored: the page is the plain one, and text that is not an id
    # is never echoed into the page's links.
    assert shown(parse(viewer.get(url(project, "?open=nope")))) == ids(project, "build", "launch")
    page = viewer.get(url(project, "?open=secret-guess-" + "a" * 20)).get_data(as_text=True)
    assert "secret-guess" not in page and "open=" not in page.replace("?open=" + project["build"], "")


@pytest.mark.parametrize("view", ["", "?view=gantt&zoom=day"])
def test_expanding_fetches_the_subtree_rows_and_announces_them(
    login: Callable[[str], SessionClient], project: dict[str, Any], budget: Callable[[int], None], view: str
) -> None:
    budget(1)
    viewer = login("viewer")
    response = viewer.get(url(project, f"/tasks/{project['build']}/children{view}"), headers=htmx("task-x"))
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    rows = parse_rows(response)
    # Whole levels within the budget, counted from the subtree: Code's child waits its turn.
    assert [r.attributes["id"] for r in rows.css("tr")] == ids(project, "design", "code")
    assert rows.css_first(f"#task-{project['code']} button.toggle").attributes["aria-expanded"] == "false"
    assert rows.css_first(f"#task-{project['design']} a.task-link").attributes["hx-target"] == "#drawer"
    if view:
        assert rows.css_first(f"#task-{project['design']} svg.gantt-bars rect.bar") is not None
    live = rows.css_first("[hx-swap-oob='innerHTML:#live-region']")
    assert live.text() == "Showing 2 subtasks of Build."
    single = parse_rows(viewer.get(url(project, f"/tasks/{project['code']}/children"), headers=htmx("task-x")))
    assert [r.attributes["id"] for r in single.css("tr")] == ids(project, "review")
    assert single.css_first("[hx-swap-oob]").text() == "Showing 1 subtask of Code."


def test_expand_all_fetches_every_row(
    login: Callable[[str], SessionClient], project: dict[str, Any], budget: Callable[[int], None]
) -> None:
    budget(1)
    viewer = login("viewer")
    for view in ("", "?view=gantt&zoom=month"):
        rows = parse_rows(viewer.get(url(project, "/rows" + view), headers=htmx("schedule-rows")))
        assert [r.attributes["id"] for r in rows.css("tr")] == ids(
            project, "build", "design", "code", "review", "launch"
        )
        assert all(t.attributes["aria-expanded"] == "true" for t in rows.css("button.toggle"))
        assert rows.css_first("[hx-swap-oob]").text() == "Showing all 5 tasks."


def test_without_htmx_the_fragment_routes_redirect_to_the_page(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    viewer = login("viewer")
    response = viewer.get(url(project, f"/tasks/{project['code']}/children?view=gantt&zoom=day"))
    assert response.status_code == 303
    assert response.headers["Location"] == url(
        project, f"?view=gantt&zoom=day&open={project['code']}#task-{project['code']}"
    )
    response = viewer.get(url(project, "/rows?view=gantt&zoom=day"))
    assert response.status_code == 303 and response.headers["Location"] == url(project, "?view=gantt&zoom=day")


def test_fragment_routes_refuse_strangers_and_unknown_tasks(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    stranger = login("stranger")
    for path in (f"/tasks/{project['build']}/children", "/rows"):
        assert stranger.get(url(project, path), headers=htmx("x")).status_code == 404
        assert stranger.get(url(project, path)).status_code == 404
    owner = login("owner")
    missing = owner.get(url(project, "/tasks/nope/children"), headers=htmx("x"))
    assert missing.status_code == 404 and missing.headers["HX-Retarget"] == "#alert-region"
    # A task without subtasks has none to show.
    leaf = parse_rows(owner.get(url(project, f"/tasks/{project['review']}/children"), headers=htmx("x")))
    assert leaf.css("tr") == [] and leaf.css_first("[hx-swap-oob]").text() == "Showing 0 subtasks of Review."


@pytest.mark.parametrize("view", ["?view=gantt&zoom=week&", "?"])
def test_a_reload_after_a_write_keeps_the_summaries_the_page_held_open(
    login: Callable[[str], SessionClient], project: dict[str, Any], budget: Callable[[int], None], view: str
) -> None:
    """schedule.js sends the deepest summaries whose subtasks it holds (or `all`) with the view's
    reload on `schedule-changed`; nothing of it is echoed into the page."""
    budget(2)
    viewer = login("viewer")

    def reload(expanded: str) -> LexborHTMLParser:
        response = viewer.get(url(project, f"{view}expanded={expanded}"), headers=htmx("schedule-view"))
        assert response.status_code == 200
        assert "expanded=" not in response.get_data(as_text=True).replace('aria-expanded="', "")
        return parse(response)

    assert shown(reload("")) == ids(project, "build", "launch")
    # Code is opened, and Build above it: Design comes along as Build's child.
    kept = reload(project["code"])
    assert shown(kept) == ids(project, "build", "design", "code", "review", "launch")
    assert all(t.attributes["aria-expanded"] == "true" for t in kept.css("button.toggle"))
    assert shown(reload(project["build"])) == ids(project, "build", "design", "code", "launch")
    assert shown(reload("all")) == ids(project, "build", "design", "code", "review", "launch")
    # Anything but task ids is ignored, and at most 50 ids count.
    assert shown(reload("nope,../x," + "f" * 32)) == ids(project, "build", "launch")
    assert shown(reload(",".join(["0" * 32] * 50 + [project["build"]]))) == ids(project, "build", "launch")
