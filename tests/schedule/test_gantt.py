"""The Gantt view: zoom levels in the URL, the toggle links, one shape per task on a time axis,
the today line, and the htmx fragment for switching."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from ppm.schedule import gantt
from ppm.schedule.services import Row
from tests.conftest import SessionClient
from tests.schedule.conftest import htmx, parse, texts


def url(project: dict[str, Any], query: str = "") -> str:
    return f"/projects/{project['id']}/schedule{query}"


@pytest.mark.parametrize("zoom", ["day", "week", "month", "quarter"])
def test_each_zoom_draws_one_shape_per_task(
    login: Callable[[str], SessionClient], project: dict[str, Any], zoom: str
) -> None:
    tree = parse(login("viewer").get(url(project, f"?view=gantt&zoom={zoom}")))
    # Each row draws its own shape in a decorative SVG of its own, in the row's last cell.
    rows = tree.css("#schedule-rows > tr")
    bars = [row.css_first("td.c-chart svg.gantt-bars") for row in rows]
    assert all(svg.attributes["aria-hidden"] == "true" for svg in bars)
    shapes = {s.attributes["data-t"]: s for svg in bars for s in svg.css("[data-t]")}
    assert [s.attributes["data-t"] for svg in bars for s in svg.css("[data-t]")] == [
        row.attributes["id"].removeprefix("task-") for row in rows
    ]
    assert set(shapes) == {project[k] for k in ("build", "design", "code", "review", "launch")}
    # Bars for tasks, brackets for summaries, a diamond for the milestone.
    assert shapes[project["design"]].tag == "rect" and "bar" in shapes[project["design"]].attributes["class"]
    assert shapes[project["build"]].attributes["class"] == "summary"
    assert shapes[project["code"]].attributes["class"] == "summary"
    assert shapes[project["launch"]].attributes["class"] == "milestone"
    # The names table beside the chart carries every task's name and dates as text.
    names = tree.css_first("table.gantt-names")
    assert texts(names, "tbody .task-link") == [
        "Build (summary)",
        "Design",
        "Code (summary)",
        "Review",
        "Launch (milestone)",
    ]
    assert len(names.css("tbody time")) == 10
    # Zoom links: the current one is marked, each keeps the zoom in its URL.
    links = {a.attributes["id"]: a for a in tree.css("#schedule-toolbar a")}
    assert links[f"zoom-{zoom}"].attributes["aria-current"] == "true"
    assert [k for k, a in links.items() if a.attributes.get("aria-current")] == ["view-gantt", f"zoom-{zoom}"]
    for key in ("day", "week", "month", "quarter"):
        link = links[f"zoom-{key}"]
        assert link.attributes["href"] == url(project, f"?view=gantt&zoom={key}")
        assert link.attributes["hx-get"] == link.attributes["href"]
        assert link.attributes["hx-target"] == "#schedule-view"
        assert link.attributes["hx-swap"] == "outerHTML"
        assert link.attributes["hx-push-url"] == "true"
    assert links["view-list"].attributes["href"] == url(project)
    assert tree.css("svg line.today")  # today is within the chart of this project


def test_bars_are_aligned_to_the_time_axis_at_day_zoom(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    tree = parse(login("viewer").get(url(project, "?view=gantt&zoom=day")))
    shapes = {s.attributes["data-t"]: s for s in tree.css("svg.gantt-bars [data-t]")}
    design, review = shapes[project["design"]], shapes[project["review"]]
    px = gantt.ZOOMS["day"].px_per_day
    # Design is days 2-6, Review days 7-9: widths are whole days, offsets the days between.
    assert int(design.attributes["width"]) == 5 * px
    assert int(review.attributes["width"]) == 3 * px
    assert int(review.attributes["x"]) - int(design.attributes["x"]) == 5 * px
    # The axis labels each day at its column: the label under Design's start is its day.
    start = date.today() + timedelta(days=2)
    labels = tree.css("svg.gantt-axis text.minor")
    under = [t for t in labels if abs(int(t.attributes["x"]) - (int(design.attributes["x"]) + px // 2)) < 1]
    assert [t.text() for t in under] == [str(start.day)]
    # Each bar is centred in its own row's SVG, one row height high.
    assert int(review.attributes["y"]) == (gantt.ROW_HEIGHT - 14) // 2
    assert tree.css_first(f"#task-{project['review']} svg.gantt-bars").attributes["height"] == str(gantt.ROW_HEIGHT)


def test_unknown_view_or_zoom_falls_back(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    viewer = login("viewer")
    tree = parse(viewer.get(url(project, "?view=gantt&zoom=decade")))
    assert tree.css_first("#zoom-week").attributes["aria-current"] == "true"
    tree = parse(viewer.get(url(project, "?view=pie")))
    assert tree.css_first("#schedule-rows") is not None
    assert tree.css_first("#view-list").attributes["aria-current"] == "true"


def test_switching_zoom_with_htmx_returns_the_view_fragment_focused_and_announced(
    login: Callable[[str], SessionClient], project: dict[str, Any]
) -> None:
    response = login("viewer").get(
        url(project, "?view=gantt&zoom=month"), headers=htmx("schedule-view", **{"HX-Trigger": "zoom-month"})
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="schedule-view"')
    assert "<html" not in body and "Add a task" not in body
    assert "HX-Request" in response.headers["Vary"] and "HX-Target" in response.headers["Vary"]
    tree = parse(response)
    assert "autofocus" in tree.css_first("#zoom-month").attributes
    assert len(tree.css("[autofocus]")) == 1
    live = tree.css_first("[hx-swap-oob='innerHTML:#live-region']")
    assert live.text().strip() == "Showing the Gantt chart, month zoom."
    # The view reloads itself when another region changes the schedule.
    view = tree.css_first("#schedule-view")
    assert view.attributes["hx-trigger"] == "schedule-changed from:body"
    assert view.attributes["hx-get"] == url(project, "?view=gantt&zoom=month")


def test_history_restore_gets_the_whole_page(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    response = login("viewer").get(
        url(project, "?view=gantt&zoom=day"), headers=htmx("schedule-view", **{"HX-History-Restore-Request": "true"})
    )
    body = response.get_data(as_text=True)
    assert "<html" in body and 'id="schedule-view"' in body and 'id="drawer"' in body


def _row(day: int, days: int = 1, **kw: Any) -> Row:
    start = date(2026, 3, 2) + timedelta(days=day)
    kw.setdefault("is_milestone", False)
    kw.setdefault("is_summary", False)
    return Row(
        id=f"t{day}", parent_id=None, name="x", start_date=start, finish_date=start + timedelta(days=days - 1), **kw
    )


def test_chart_geometry_units_and_status_room() -> None:
    today = date(2026, 3, 4)
    rows = [_row(0, 3), _row(10, 20), _row(40, 1, is_milestone=True)]
    for key, zoom in gantt.ZOOMS.items():
        chart = gantt.build_chart(rows, key, today)
        assert chart.origin <= date(2026, 3, 1)
        assert chart.width == (chart.end - chart.origin).days * zoom.px_per_day
        assert chart.height == 3 * gantt.ROW_HEIGHT
        assert chart.today_x == (today - chart.origin).days * zoom.px_per_day + zoom.px_per_day // 2
        assert [s.kind for s in chart.shapes] == ["t", "t", "m"]
        for shape in chart.shapes[:2]:
            # Room at each bar's right edge for the status dot, inside the chart.
            assert shape.x + shape.width + gantt.STATUS_ROOM <= chart.width
            assert shape.dot_x == shape.x + shape.width + gantt.STATUS_ROOM // 2
        assert chart.minor and chart.major and chart.grid_path.startswith("M")
    month = gantt.build_chart(rows, "month", today)
    assert [t.label for t in month.minor] == ["Mar", "Apr"]
    quarter = gantt.build_chart(rows, "quarter", today)
    assert quarter.minor[0].label == "Q1" and quarter.major[0].label == "2026"
    week = gantt.build_chart(rows, "week", today)
    assert week.origin.weekday() == 0 and week.minor[0].label.endswith("Feb")
    day = gantt.build_chart(rows, "day", today)
    assert day.weekend_path and not week.weekend_path


def test_chart_without_tasks_and_with_today_far_away() -> None:
    empty = gantt.build_chart([], "week", date(2026, 3, 4))
    assert empty.shapes == [] and empty.today_x is not None
    far = gantt.build_chart([_row(0)], "week", date(2030, 1, 1))
    assert far.today_x is None
