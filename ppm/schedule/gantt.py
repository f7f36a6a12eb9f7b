"""Gantt geometry: pure functions from dates to SVG coordinates (no database, no request).

The chart is server-rendered SVG. Each task is one row of ROW_HEIGHT pixels with an SVG of its
own (so rows fetched later slot in anywhere); a bar spans its start day to the end of its finish
day; milestones are diamonds in the middle of their day; summary tasks are brackets. The grid,
weekends and today line are one backdrop behind every row, stretched to the rows' height.
Bars leave STATUS_ROOM pixels free at their right edge, where the worst link status is drawn as
a small dot (`Shape.dot_x`, SPEC §8).

The chart is bounded whatever the dates (SPEC §19): each zoom shows at most `Zoom.window_units`
of its units (weeks, months, quarters). A longer plan is clipped to a window that starts at a
date the page names (`?from=`), and the chart says so and offers Earlier and Later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import escape

from ppm.projects.services import DATE_MAX, DATE_MIN
from ppm.schedule.services import Row

ROW_HEIGHT = 28
AXIS_BAND = 22
AXIS_HEIGHT = 2 * AXIS_BAND
BAR_HEIGHT = 14
STATUS_ROOM = 14
MIN_BAR = 4


@dataclass(frozen=True, slots=True)
class Zoom:
    key: str
    label: str
    px_per_day: int
    # The most units (weeks at Day and Week zoom, else months or quarters) one page shows:
    # about 9,000 to 18,000 pixels, a year of days to 25 years of quarters.
    window_units: int


ZOOMS: dict[str, Zoom] = {
    zoom.key: zoom
    for zoom in (
        Zoom("day", "Day", 24, 53),
        Zoom("week", "Week", 10, 157),
        Zoom("month", "Month", 4, 121),
        Zoom("quarter", "Quarter", 2, 101),
    )
}
DEFAULT_ZOOM = "week"


@dataclass(frozen=True, slots=True)
class Tick:
    x: int
    width: int
    label: str


@dataclass(slots=True)
class Shape:
    """One row of the chart. `kind` is 't' (bar), 's' (summary bracket), 'm' (milestone) or ''
    (nothing drawn: the task is outside the chart's window)."""

    id: str
    kind: str
    y: int  # top of the bar within its row
    x: int
    width: int
    path: str = ""  # summary bracket / milestone diamond outline
    dot_x: int = 0  # where the status dot sits, right of the bar
    dot: str = ""  # the worst link status to draw there, at Day and Week zoom only (SPEC §8)
    done: str = ""  # SPEC §21: a done task's or milestone's tick (an SVG path), "" otherwise
    tick_class: str = "done-tick"  # "done-tick outside" when drawn beside a bar too narrow for it


@dataclass(frozen=True, slots=True)
class Window:
    """The part of a long plan the chart shows: `first` to `last` of the plan's `plan_first`
    to `plan_last`; `earlier` / `later` are where the neighbouring windows start (None at
    the plan's edge)."""

    first: date
    last: date
    plan_first: date
    plan_last: date
    earlier: date | None
    later: date | None


@dataclass(slots=True)
class Chart:
    zoom: Zoom
    origin: date
    end: date
    width: int
    height: int
    major: list[Tick]
    minor: list[Tick]
    grid_path: str  # vertical lines at each week, month or quarter, one SVG path 1 unit high
    weekend_path: str  # Saturdays and Sundays shaded at Day zoom, likewise
    today: date
    today_x: int | None
    shapes: list[Shape]
    row_height: int = ROW_HEIGHT
    axis_height: int = AXIS_HEIGHT
    axis_band: int = AXIS_BAND
    window: Window | None = None  # set when the plan is longer than the chart shows


def _unit_start(day: date, zoom: str) -> date:
    if zoom in ("day", "week"):
        return day - timedelta(days=day.weekday())
    if zoom == "month":
        return day.replace(day=1)
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def _next_unit(day: date, zoom: str) -> date:
    """The start of the unit after the one `day` starts (week for day/week zoom)."""
    return _add_units(day, zoom, 1)


def _add_units(day: date, zoom: str, count: int) -> date:
    """`count` units (weeks, months or quarters; negative goes back) after the unit start `day`."""
    if zoom in ("day", "week"):
        return day + timedelta(days=7 * count)
    month = day.month - 1 + count * (1 if zoom == "month" else 3)
    return date(day.year + month // 12, month % 12 + 1, 1)


def _units_between(first: date, last: date, zoom: str) -> int:
    """Whole units from one unit start to a later one."""
    if zoom in ("day", "week"):
        return (last - first).days // 7
    months = (last.year - first.year) * 12 + last.month - first.month
    return months if zoom == "month" else months // 3


def _clamp(day: date, low: date, high: date) -> date:
    return min(max(day, low), high)


# Dates a row may carry from before the range was enforced are drawn at its edges, so every
# sum below stays well inside the calendar.
EARLIEST = DATE_MIN - timedelta(days=366)
LATEST = DATE_MAX + timedelta(days=366)


def _window(zoom: Zoom, origin: date, end: date, today: date, start: date | None) -> tuple[date, date, Window | None]:
    """(origin, end) of what the chart shows, and the Window when that is not the whole plan."""
    key, size = zoom.key, zoom.window_units
    total = _units_between(origin, end, key)
    if total <= size:
        return origin, end, None
    latest = _add_units(origin, key, total - size)  # the last window ends at the plan's end
    if start is None:
        # Today with a little of the past before it, when today is in the plan; else its start.
        start = today - timedelta(days=(size // 8) * 7) if origin <= today < end else origin
    first = _clamp(_unit_start(_clamp(start, origin, latest), key), origin, latest)
    step = size // 2
    earlier = max(_add_units(first, key, -step), origin) if first > origin else None
    later = min(_add_units(first, key, step), latest) if first < latest else None
    last = _add_units(first, key, size)
    window = Window(first, last - timedelta(days=1), origin, end - timedelta(days=1), earlier, later)
    return first, last, window


def _months(first: date, last: date) -> list[date]:
    out: list[date] = []
    day = first.replace(day=1)
    while day < last:
        out.append(day)
        day = _next_unit(day, "month")
    return out


def _fit(width: int, *labels: str) -> str:
    """The longest label that fits `width` pixels of 12px bold text, or none."""
    for label in labels:
        if len(label) * 8 + 8 <= width:
            return label
    return ""


def build_chart(
    rows: Sequence[Row],
    zoom_key: str,
    today: date,
    start: date | None = None,
    shown: Sequence[Row] | None = None,
) -> Chart:
    """The scale of all `rows` at a zoom and the shapes of the rows `shown` (default: all of
    them); `start` asks for the window starting there when the plan is longer than one window
    (ignored otherwise)."""
    zoom = ZOOMS.get(zoom_key) or ZOOMS[DEFAULT_ZOOM]
    key, px = zoom.key, zoom.px_per_day
    today = _clamp(today, EARLIEST, LATEST)
    if rows:
        first = _clamp(min(r.start_date for r in rows), EARLIEST, LATEST)
        last = _clamp(max(r.finish_date for r in rows), EARLIEST, LATEST)
        # Show today when it is near the work (a plan starting next month, a late project).
        if first - timedelta(days=45) <= today < first:
            first = today
        if last < today <= last + timedelta(days=45):
            last = today
    else:
        first = last = today
    origin = _unit_start(first - timedelta(days=1), key)
    end = _next_unit(_unit_start(last, key), key)
    end = _next_unit(end, key) if (end - last).days < 4 else end  # room for the status dot
    origin, end, window = _window(zoom, origin, end, today, start)
    days = (end - origin).days
    width = days * px

    def x(day: date) -> int:
        return (day - origin).days * px

    minor: list[Tick] = []
    major: list[Tick] = []
    weekends: list[Tick] = []
    grid: list[int] = []
    if key in ("day", "week"):
        day = origin
        while day < end:
            grid.append(x(day))
            if key == "week":
                minor.append(Tick(x(day), 7 * px, f"{day.day} {day:%b}"))
            else:
                for offset in range(7):
                    current = day + timedelta(days=offset)
                    minor.append(Tick(x(current), px, str(current.day)))
                weekends.append(Tick(x(day + timedelta(days=5)), 2 * px, ""))
            day += timedelta(days=7)
        for month in _months(origin, end):
            start = max(month, origin)
            stop = min(_next_unit(month, "month"), end)
            major.append(
                Tick(
                    x(start),
                    x(stop) - x(start),
                    _fit(x(stop) - x(start), f"{month:%B %Y}", f"{month:%b %Y}", f"{month:%b}"),
                )
            )
    else:
        unit = origin
        while unit < end:
            following = _next_unit(unit, key)
            grid.append(x(unit))
            label = f"{unit:%b}" if key == "month" else f"Q{(unit.month - 1) // 3 + 1}"
            minor.append(Tick(x(unit), x(following) - x(unit), label))
            unit = following
        year = origin.year
        while date(year, 1, 1) < end:
            start = max(date(year, 1, 1), origin)
            stop = min(date(year + 1, 1, 1), end)
            major.append(Tick(x(start), x(stop) - x(start), _fit(x(stop) - x(start), str(year))))
            year += 1

    shapes: list[Shape] = []
    half = BAR_HEIGHT // 2
    top = 0  # every row has its own SVG
    shown = rows if shown is None else shown
    for row in shown:
        row_id = str(escape(row.id))  # printed without autoescape (see _gantt_rows.html)
        middle = top + ROW_HEIGHT // 2
        if row.finish_date < origin or row.start_date >= end:
            # Outside the window: an empty cell (one shape per row: _gantt_rows.html pairs them);
            # the row's dates are still in its text.
            shapes.append(Shape(row_id, "", top, 0, 0))
            continue
        left = x(max(row.start_date, origin))
        cut = row.finish_date >= end - timedelta(days=1)  # runs on past the window's right edge
        right = x(min(row.finish_date, end - timedelta(days=1)) + timedelta(days=1))
        if row.is_summary:
            right = max(right, left + 12)
            a, b, low = top + 8, top + 14, top + 20
            path = f"M{left} {a}H{right}V{low}L{right - 5} {b}H{left + 5}L{left} {low}Z"
            shapes.append(Shape(row_id, "s", top, left, right - left, path))
        elif row.is_milestone:
            centre = left + px // 2 if px > 1 else left
            path = f"M{centre} {middle - 8}L{centre + 8} {middle}L{centre} {middle + 8}L{centre - 8} {middle}Z"
            tick = f"M{centre - 4} {middle}l3 3l5 -6" if row.state == "done" else ""
            shapes.append(Shape(row_id, "m", top, centre - 8, 16, path, done=tick))
        else:
            span = max(right - left, MIN_BAR)
            dot = (row.worst_status or "") if row.link_count and key in ("day", "week") and not cut else ""
            # A done bar carries a tick: inside it when it is wide enough, else just before it.
            tick_x = left + 3 if span >= 14 else left - 11
            tick = f"M{tick_x} {middle}l3 3l5 -6" if row.state == "done" else ""
            shapes.append(
                Shape(
                    row_id,
                    "t",
                    top + ROW_HEIGHT // 2 - half,
                    left,
                    span,
                    dot_x=left + span + STATUS_ROOM // 2,
                    dot=dot,
                    done=tick,
                    tick_class="done-tick" if span >= 14 else "done-tick outside",
                )
            )
    today_x = x(today) + px // 2 if origin <= today < end else None
    height = max(len(shown), 1) * ROW_HEIGHT
    return Chart(
        zoom=zoom,
        origin=origin,
        end=end,
        width=width,
        height=height,
        major=major,
        minor=minor,
        grid_path="".join(f"M{g} 0V1" for g in grid),
        weekend_path="".join(f"M{w.x} 0h{w.width}V1h-{w.width}Z" for w in weekends),
        today=today,
        today_x=today_x,
        shapes=shapes,
        window=window,
    )
