"""SPEC §19: the Gantt is bounded whatever the dates. A ten-task plan from 1900 to 2199 renders
every zoom small (under 5 MB: in fact a few hundred KB) with as many queries as a small plan,
through a window the page can move with Earlier and Later links (plain links: keyboard and
no-JavaScript friendly), and a sentence saying the chart is clipped."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from ppm.auth.models import User
from ppm.schedule import gantt
from tests.conftest import Factory, SessionClient
from tests.schedule.conftest import htmx, parse

LIMIT = 5 * 1024 * 1024
ZOOMS = list(gantt.ZOOMS)


@pytest.fixture
def wide(make: Factory, user: User) -> str:
    """Ten tasks spanning the whole range tasks may have, and a summary spanning it all."""
    project_id = make.project(user, "Long haul")
    phase = make.task(user, project_id, name="Everything")
    for index, (start, finish) in enumerate(
        [("1900-01-01", "1900-01-05"), ("1950-06-01", "1951-06-01"), ("2199-12-20", "2199-12-31")]
        + [(f"{1900 + 40 * i}-03-01", f"{1901 + 40 * i}-03-01") for i in range(6)]
    ):
        make.task(user, project_id, name=f"Step {index}", start_date=start, finish_date=finish, parent_id=phase.id)
    return project_id


def _url(project_id: str, query: str = "") -> str:
    return f"/projects/{project_id}/schedule{query}"


def _window(tree: LexborHTMLParser) -> dict[str, Any]:
    links = {a.attributes["id"]: a.attributes for a in tree.css(".gantt-window a")}
    note = tree.css_first("#gantt-window-note")
    return {"links": links, "note": note.text() if note else None}


@pytest.mark.parametrize("zoom", ZOOMS)
def test_the_widest_span_renders_small_at_every_zoom_with_flat_queries(
    session_client: SessionClient, wide: str, make: Factory, user: User, zoom: str, count_queries: Any
) -> None:
    small = make.project(user, "Small")
    make.task(user, small, name="Only")
    session_client.get(_url(small, f"?view=gantt&zoom={zoom}"))  # warm up
    with count_queries() as few:
        session_client.get(_url(small, f"?view=gantt&zoom={zoom}"))
    for start in (None, "1900-01-01", "2050-01-01", "2199-12-31"):
        query = f"?view=gantt&zoom={zoom}" + (f"&from={start}" if start else "")
        with count_queries() as many:
            response = session_client.get(_url(wide, query))
        assert response.status_code == 200
        assert len(response.data) < LIMIT
        assert len(response.data) < 400_000  # far under: a window, not three centuries
        assert many.count == few.count, (few.statements, many.statements)
        tree = parse(response)
        assert "The chart is clipped" in _window(tree)["note"]
        assert int(tree.css_first("svg.gantt-bars").attributes["width"]) <= 20_000
        # Every task is still listed with its dates in the table beside the chart.
        assert len(tree.css("table.gantt-names tbody tr")) == 10


def test_earlier_and_later_walk_the_whole_plan(session_client: SessionClient, wide: str) -> None:
    """From the start, Later leads step by step to the end and Earlier back; each is a real
    link to the same URL htmx fetches, swapping the view and keeping the zoom."""
    response = session_client.get(_url(wide, "?view=gantt&zoom=quarter&from=1900-01-01"))
    window = _window(parse(response))
    for _ in range(3):  # the plan starts a little before its first day
        if "gantt-earlier" not in window["links"]:
            break
        window = _window(parse(session_client.get(window["links"]["gantt-earlier"]["href"].replace("&amp;", "&"))))
    assert set(window["links"]) == {"gantt-later"}  # nothing earlier than the plan's start
    shown, plan = window["note"].split("it shows ")[1].split(". Bars")[0].split(" of a plan that runs from ")
    assert shown.split(" to ")[0] == plan.split(" to ")[0]  # the first window starts where the plan does
    seen = 0
    while "gantt-later" in window["links"]:
        link = window["links"]["gantt-later"]
        assert link["hx-get"] == link["href"] and link["hx-target"] == "#schedule-view"
        assert "zoom=quarter" in link["href"] and "from=" in link["href"]
        window = _window(parse(session_client.get(link["href"].replace("&amp;", "&"))))
        seen += 1
        assert seen < 40
    assert "gantt-earlier" in window["links"]
    shown, plan = window["note"].split("it shows ")[1].split(". Bars")[0].split(" of a plan that runs from ")
    assert shown.split(" to ")[1] == plan.split(" to ")[1]  # the last window ends where the plan does
    assert seen >= 300 // 25


def test_a_move_by_htmx_announces_the_window_and_keeps_focus(session_client: SessionClient, wide: str) -> None:
    response = session_client.get(
        _url(wide, "?view=gantt&zoom=month&from=2000-01-01"),
        headers=htmx("schedule-view", **{"HX-Trigger": "gantt-later"}),
    )
    tree = parse(response)
    assert "autofocus" in tree.css_first("#gantt-later").attributes
    assert len(tree.css("[autofocus]")) == 1
    live = tree.css_first("[hx-swap-oob='innerHTML:#live-region']")
    assert live.text().strip().startswith("The Gantt chart now shows ")
    # At the plan's end Later is gone: focus moves to Earlier rather than being lost.
    end = parse(
        session_client.get(
            _url(wide, "?view=gantt&zoom=month&from=2199-12-31"),
            headers=htmx("schedule-view", **{"HX-Trigger": "gantt-later"}),
        )
    )
    assert end.css_first("#gantt-later") is None
    assert "autofocus" in end.css_first("#gantt-earlier").attributes


def test_a_short_plan_is_not_clipped(session_client: SessionClient, make: Factory, user: User) -> None:
    project_id = make.project(user, "Short")
    make.task(user, project_id, name="A", start_date="2026-03-02", finish_date="2026-03-20")
    for zoom in ZOOMS:
        tree = parse(session_client.get(_url(project_id, f"?view=gantt&zoom={zoom}&from=1900-01-01")))
        assert tree.css_first(".gantt-window") is None
        assert len(tree.css("svg.gantt-bars [data-t]")) == 1


@pytest.mark.parametrize("value", ["", "nonsense", "0001-01-01", "9999-12-31", "2026-02-30", "\x00"])
def test_a_bad_from_is_ignored(session_client: SessionClient, wide: str, value: str) -> None:
    response = session_client.get(_url(wide), query_string={"view": "gantt", "zoom": "day", "from": value})
    assert response.status_code == 200
    # The default window is shown (today's), and no link carries the bad value on.
    assert f"from={value}&" not in response.get_data(as_text=True)
    assert "The chart is clipped" in response.get_data(as_text=True)


def test_geometry_of_a_clipped_bar() -> None:
    """A bar running on past the window is cut at its edge and loses its status dot; one
    wholly outside is not drawn; dates from before the range was enforced are drawn at its
    edge, never overflowing the calendar."""
    from ppm.schedule.services import Row

    def row(i: int, start: date, finish: date) -> Row:
        return Row(
            id=f"t{i}", parent_id=None, name="x", start_date=start, finish_date=finish, is_milestone=False,
            is_summary=False, link_count=1, worst_status="open",
        )  # fmt: skip

    rows = [
        row(0, date(1, 1, 1), date(9999, 12, 31)),
        row(1, date(2026, 1, 5), date(2026, 1, 9)),
        row(2, date(2100, 1, 1), date(2100, 1, 2)),
    ]
    for key in ZOOMS:
        chart = gantt.build_chart(rows, key, date(2026, 1, 7), date(2026, 1, 1))
        assert chart.window is not None and chart.window.first <= date(2026, 1, 5)
        by_id = {s.id: s for s in chart.shapes if s.kind}  # an empty shape: outside the window
        assert set(by_id) == {"t0", "t1"}
        assert by_id["t0"].x == 0 and by_id["t0"].x + by_id["t0"].width == chart.width
        assert by_id["t0"].dot == ""
        assert chart.width <= 20_000
