"""Needs attention (#14) on a big, lazily rendered schedule (#15), and the add form's "Put it
under" list fetched when the form opens: the two features joined."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ppm.cli import build_big_project
from ppm.links.demo import add_bulk_links
from ppm.schedule.outline import ROW_BUDGET
from tests.conftest import SessionClient
from tests.schedule.conftest import htmx, parse, parse_rows

SIZE = 1000  # big enough that the unfiltered list leaves subtrees unloaded


def _big(user: Any) -> str:
    project = build_big_project(user, SIZE)
    add_bulk_links(project, 4)
    return project.id


def _listed(client: SessionClient, project_id: str, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/projects/{project_id}/tasks/{query}")
    assert response.status_code == 200
    return list(response.get_json())


def _rows(tree: Any) -> list[str]:
    return [row.attributes["id"].removeprefix("task-") for row in tree.css("tr[id^='task-']")]


def _bar(tree: Any) -> dict[str, str]:
    return {
        node.attributes.get("id", node.text()): node.css_first(".attention-count").text()
        for node in tree.css("#attention-bar .attention-option")
    }


def _with_parents(listed: list[dict[str, Any]], code: str) -> set[str]:
    by_id = {task["id"]: task for task in listed}
    expected = {task["id"] for task in listed if code in task["attention"]}
    for task_id in list(expected):  # the ancestors, kept for context
        parent = by_id[task_id]["parent_id"]
        while parent:
            expected.add(parent)
            parent = by_id[parent]["parent_id"]
    return expected


def test_a_filter_that_fits_the_budget_renders_every_match_and_its_parents_expanded(
    user: Any, session_client: SessionClient
) -> None:
    project_id = _big(user)
    listed = _listed(session_client, project_id)
    codes = Counter(code for task in listed for code in task["attention"])
    by_id = {task["id"]: task for task in listed}
    fits = [code for code in codes if 1 < len(_with_parents(listed, code)) <= ROW_BUDGET]
    too_many = [code for code in codes if len(_with_parents(listed, code)) > ROW_BUDGET]
    assert fits and too_many  # the demo's links give both kinds
    base = f"/projects/{project_id}/schedule"
    for view in ("", "view=gantt&zoom=week&"):
        whole = parse(session_client.get(f"{base}?{view}"))
        assert len(_rows(whole)) <= ROW_BUDGET < SIZE  # lazy without a filter
        assert whole.css("#schedule-rows .toggle[aria-expanded='false']")
        # The bar counts every task the listing loaded, rendered or not, with or without a filter.
        counts = {f"attention-{c}": str(n) for c, n in codes.items()}
        assert _bar(whole).items() >= counts.items()
        for code in fits:
            filtered = parse(session_client.get(f"{base}?{view}attention={code}"))
            expected = _with_parents(listed, code)
            assert set(_rows(filtered)) == expected
            assert not filtered.css("#schedule-rows .toggle[aria-expanded='false']")
            assert not filtered.css("#schedule-rows .more-link")
            muted = {r.attributes["id"].removeprefix("task-") for r in filtered.css("#schedule-rows > tr.is-muted")}
            assert muted == {tid for tid in expected if code not in by_id[tid]["attention"]}
            assert _bar(filtered) == _bar(whole)
        # A filter matching most of the project is lazy like the whole schedule (no heavier).
        for code in too_many:
            filtered = parse(session_client.get(f"{base}?{view}attention={code}"))
            shown = set(_rows(filtered))
            assert len(shown) <= ROW_BUDGET and shown < _with_parents(listed, code)
            assert filtered.css("#schedule-rows .toggle[aria-expanded='false']")
            assert _bar(filtered) == _bar(whole)


def test_subtree_and_all_rows_fragments_follow_the_filter(user: Any, session_client: SessionClient) -> None:
    project_id = _big(user)
    listed = _listed(session_client, project_id)
    code = Counter(code for task in listed for code in task["attention"]).most_common(1)[0][0]
    base = f"/projects/{project_id}/schedule"
    matched = _listed(session_client, project_id, f"?attention={code}")
    assert matched and all(code in task["attention"] for task in matched)
    by_id = {task["id"]: task for task in listed}
    phase = by_id[matched[0]["id"]]
    while phase["parent_id"]:  # the top-level summary above the first match
        phase = by_id[phase["parent_id"]]
    rows = parse_rows(session_client.get(f"{base}/rows?attention={code}", headers=htmx("schedule-rows")))
    shown = set(_rows(rows))
    assert {task["id"] for task in matched} <= shown
    assert all(code in task["attention"] or task["is_summary"] for task in listed if task["id"] in shown)
    children = parse_rows(
        session_client.get(f"{base}/tasks/{phase['id']}/children?attention={code}", headers=htmx("schedule-rows"))
    )
    assert set(_rows(children)) <= shown and set(_rows(children)) & {task["id"] for task in matched}
    plain = parse_rows(session_client.get(f"{base}/tasks/{phase['id']}/children", headers=htmx("schedule-rows")))
    assert len(_rows(plain)) >= len(_rows(children))


def test_the_add_form_lists_every_task_only_when_opened(user: Any, session_client: SessionClient) -> None:
    project_id = _big(user)
    listed = _listed(session_client, project_id)
    base = f"/projects/{project_id}/schedule"
    page = session_client.get(base)
    tree = parse(page)
    select = tree.css_first("#add-parent_id")
    assert [o.attributes["value"] for o in select.css("option")] == [""]  # not 1,000 options
    assert select.attributes["hx-get"] == f"{base}/parents"
    assert select.attributes["hx-trigger"] == "toggle from:closest details once"
    assert tree.css_first("#add-parent a.no-js-only").attributes["href"] == f"{base}?add=1#add-parent_id"
    expected = [""] + [task["id"] for task in listed if not task["is_milestone"]]
    assert any(not task["is_summary"] for task in listed if task["id"] in expected)  # not only summaries
    # With htmx: the whole field, every task but milestones, in WBS order.
    fragment = parse(session_client.get(f"{base}/parents", headers=htmx("add-parent")))
    assert [o.attributes["value"] for o in fragment.css("#add-parent #add-parent_id option")] == expected
    assert fragment.css_first("#add-parent_id").attributes.get("hx-get") is None
    assert not fragment.css("a.no-js-only")
    # Without JavaScript: a link to the page with the form open and every task listed.
    redirect = session_client.get(f"{base}/parents")
    assert redirect.status_code == 303 and redirect.headers["Location"] == f"{base}?add=1#add-parent_id"
    opened = parse(session_client.get(f"{base}?view=gantt&add=1"))
    assert "open" in opened.css_first("#add-task details").attributes
    assert [o.attributes["value"] for o in opened.css("#add-parent_id option")] == expected
    assert opened.css_first("#add-parent a.no-js-only") is None


def test_the_parent_list_is_for_members_only(login: Any, project: dict[str, Any]) -> None:
    outsider = login("stranger")
    assert outsider.get(f"/projects/{project['id']}/schedule/parents", headers=htmx("add-parent")).status_code == 404
