"""A top level longer than the row budget (issue #15: an imported flat list) is windowed: the
page shows its first rows and a "Show more tasks" row; the next rows come from
`…/schedule/more`, or without JavaScript from the page with `?top=N`."""

from __future__ import annotations

from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from ppm.extensions import db
from ppm.schedule import outline as outline_module
from tests.conftest import SessionClient
from tests.schedule.conftest import htmx, parse, parse_rows
from tests.schedule.flat import build_flat_project

TOP = 250  # top-level tasks; Group 50, 100, 150, 200 and 250 hold two items each
BUDGET = 100


@pytest.fixture
def flat(app: Any, user: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(outline_module, "ROW_BUDGET", BUDGET)
    project, tops = build_flat_project(user, TOP)
    return {"id": project.id, "tops": tops, "base": f"/projects/{project.id}/schedule"}


def top_ids(tree: LexborHTMLParser) -> list[str]:
    return [row.attributes["id"] for row in tree.css("tr[data-depth='0']")]


def task_ids(ids: list[str]) -> list[str]:
    return [f"task-{tid}" for tid in ids]


@pytest.mark.parametrize(("view", "columns"), [("", "7"), ("?view=gantt&zoom=week", "4")])
def test_the_page_shows_the_first_rows_and_a_show_more_row(
    session_client: SessionClient, flat: dict[str, Any], view: str, columns: str
) -> None:
    tree = parse(session_client.get(flat["base"] + view))
    assert top_ids(tree) == task_ids(flat["tops"][:BUDGET])
    assert "(260)" in tree.css_first("#schedule-heading").text()  # the count is of every task
    # The last row shown is Group 100, collapsed: its items come when it is expanded.
    assert tree.css_first(f"#task-{flat['tops'][99]} button.toggle").attributes["aria-expanded"] == "false"
    rows = tree.css("#schedule-rows > tr")
    more = rows[-1]
    assert more.attributes["id"] == "more-rows" and len(rows) == BUDGET + 1
    assert more.css_first("td").attributes["colspan"] == columns
    link = more.css_first("a[data-more]")
    assert " ".join(more.text().split()) == "Show more tasks 100 of 250 top-level tasks shown"
    query = view.replace("?", "") + "&" if view else ""
    assert link.attributes["href"] == f"{flat['base']}?{query}top=200#task-{flat['tops'][100]}"
    assert link.attributes["hx-get"] == f"{flat['base']}/more?{query}after={flat['tops'][99]}"
    assert link.attributes["hx-target"] == "#more-rows"


@pytest.mark.parametrize("view", ["", "?view=gantt&zoom=day&"])
def test_show_more_fetches_the_next_rows_and_announces_them(
    session_client: SessionClient, flat: dict[str, Any], view: str
) -> None:
    base, tops = flat["base"], flat["tops"]
    sep = view or "?"
    response = session_client.get(f"{base}/more{sep}after={tops[99]}", headers=htmx("more-rows"))
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    rows = parse_rows(response)
    assert top_ids(rows) == task_ids(tops[100:200])
    if view:
        assert rows.css_first(f"#task-{tops[100]} svg.gantt-bars rect.bar") is not None
    assert rows.css_first(f"#task-{tops[100]} a.task-link").attributes["hx-target"] == "#drawer"
    more = rows.css_first("#more-rows a[data-more]")
    assert more.attributes["hx-get"].endswith(f"after={tops[199]}")
    assert "200 of 250" in rows.css_first("#more-rows").text()
    assert rows.css_first("[hx-swap-oob='innerHTML:#live-region']").text() == "Showing 100 more tasks."
    last = parse_rows(session_client.get(f"{base}/more{sep}after={tops[199]}", headers=htmx("more-rows")))
    assert top_ids(last) == task_ids(tops[200:])
    assert last.css_first("#more-rows") is None
    assert last.css_first("[hx-swap-oob]").text() == "Showing 50 more tasks."


def test_without_javascript_show_more_is_the_page_with_more_rows(
    session_client: SessionClient, flat: dict[str, Any]
) -> None:
    base, tops = flat["base"], flat["tops"]
    response = session_client.get(f"{base}/more?view=gantt&zoom=month&after={tops[99]}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{base}?view=gantt&zoom=month&top=200#task-{tops[100]}"
    tree = parse(session_client.get(f"{base}?top=200"))
    assert top_ids(tree) == task_ids(tops[:200])
    # The view's links keep the rows shown; the next page is the next hundred.
    assert tree.css_first("#view-gantt").attributes["href"] == f"{base}?view=gantt&zoom=week&top=200"
    assert tree.css_first("#more-rows a").attributes["href"] == f"{base}?top=300#task-{tops[200]}"
    # Only a number is read: anything else is the first page, and never echoed.
    assert len(top_ids(parse(session_client.get(f"{base}?top=²")))) == BUDGET  # a digit, not ASCII
    page = session_client.get(f"{base}?top=200abc").get_data(as_text=True)
    assert "200abc" not in page and len(top_ids(parse(session_client.get(f"{base}?top=-5")))) == BUDGET


def test_an_open_task_past_the_window_is_shown_and_a_reload_keeps_the_rows_held(
    session_client: SessionClient, flat: dict[str, Any]
) -> None:
    base, tops = flat["base"], flat["tops"]
    # The drawer's task is the 180th: the rows run on to it.
    assert top_ids(parse(session_client.get(f"{base}?task={tops[179]}"))) == task_ids(tops[:180])
    # A reload after a write (schedule.js sends the top-level rows it holds) shows as many.
    reload = parse(session_client.get(f"{base}?view=gantt&shown=200", headers=htmx("schedule-view")))
    assert top_ids(reload) == task_ids(tops[:200])
    everything = parse(session_client.get(f"{base}?expanded=all", headers=htmx("schedule-view")))
    assert top_ids(everything) == task_ids(tops) and everything.css_first("#more-rows") is None
    # Expand all fetches every row, with no "Show more" row.
    rows = parse_rows(session_client.get(f"{base}/rows", headers=htmx("schedule-rows")))
    assert len(rows.css("tr")) == 260 and rows.css_first("#more-rows") is None


def test_show_more_refuses_strangers_and_unknown_rows(
    app: Any, session_client: SessionClient, flat: dict[str, Any], make: Any
) -> None:
    base, tops = flat["base"], flat["tops"]
    stranger = SessionClient(app.test_client(), make.user()).login()
    assert stranger.get(f"{base}/more?after={tops[99]}", headers=htmx("more-rows")).status_code == 404
    for after in ("nope", "f" * 32):
        missing = session_client.get(f"{base}/more?after={after}", headers=htmx("more-rows"))
        assert missing.status_code == 404 and missing.headers["HX-Retarget"] == "#alert-region"


def test_queries_do_not_grow_with_the_top_level(
    app: Any, user: Any, session_client: SessionClient, count_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outline_module, "ROW_BUDGET", BUDGET)
    counts = []
    for size in (20, 600):
        project, tops = build_flat_project(user, size)
        base = f"/projects/{project.id}/schedule"
        requests = {
            "list page": (base + "?top=200", {}),
            "gantt reload": (base + "?view=gantt&shown=200&expanded=" + tops[0], htmx("schedule-view")),
            "show more": (base + f"/more?after={tops[0]}", htmx("more-rows")),
            "gantt show more": (base + f"/more?view=gantt&zoom=week&after={tops[0]}", htmx("more-rows")),
        }
        found = {}
        for name, (url, headers) in requests.items():
            db.session.expire_all()
            with count_queries() as counter:
                assert session_client.get(url, headers=headers).status_code == 200, name
            found[name] = counter.count
        counts.append(found)
    assert counts[0] == counts[1], counts
