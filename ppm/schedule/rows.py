"""The schedule's view models: the page's state (view, zoom, filter, open task, all in the URL),
the per-row and drawer strings, and the rows of the list and the Gantt built from them. The page,
its fragments and the changes poll (SPEC §23) render rows through here, one way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import render_template
from markupsafe import Markup, escape

from ppm.links.icons import status_icon, status_shape
from ppm.links.review_status import label_suffix
from ppm.links.status import PRECEDENCE
from ppm.models_base import utc_today
from ppm.schedule import attention as needs_attention
from ppm.schedule import gantt
from ppm.schedule.outline import Outline, outline
from ppm.schedule.services import Detail, Person, Row, Schedule, person

VIEWS = ("list", "gantt")
MAX_INDENT = 8


# --- where the page is: view, zoom and open task, all in the URL ------------------------


@dataclass(frozen=True)
class ViewState:
    view: str = "list"
    zoom: str = gantt.DEFAULT_ZOOM
    task: str | None = None
    attention: tuple[str, ...] = ()  # the Needs attention filter (SPEC §16)
    start: str | None = None  # `from`: where the Gantt's window starts on a long plan (ISO date)
    open: str | None = None  # a summary shown with its subtasks (the no-script "Show" link)
    top: int | None = None  # top-level rows shown of a long top level (the no-script "Show more")

    @classmethod
    def read(cls, values: Mapping[str, str]) -> ViewState:
        view = values.get("view", "")
        zoom = values.get("zoom", "")
        return cls(
            view=view if view in VIEWS else "list",
            zoom=zoom if zoom in gantt.ZOOMS else gantt.DEFAULT_ZOOM,
            task=(values.get("task") or "").strip()[:64] or None,
            attention=needs_attention.read_codes(values.get("attention")),
            start=_window_start(values.get("from")),
            open=read_task_id(values.get("open")),
            top=read_count(values.get("top")),
        )

    def query(self, **changes: Any) -> str:
        state = replace(self, **changes)
        params: list[tuple[str, str]] = []
        if state.view == "gantt":
            params += [("view", "gantt"), ("zoom", state.zoom)]
            if state.start:
                params.append(("from", state.start))
        if state.attention:
            params.append(("attention", ",".join(state.attention)))
        if state.top:
            params.append(("top", str(state.top)))
        if state.open:
            params.append(("open", state.open))
        if state.task:
            params.append(("task", state.task))
        return "?" + urlencode(params) if params else ""

    @property
    def zoom_label(self) -> str:
        return gantt.ZOOMS[self.zoom].label

    @property
    def start_date(self) -> date | None:
        return date.fromisoformat(self.start) if self.start else None


def _window_start(value: str | None) -> str | None:
    """A `from` date within the dates the chart can draw, or None (the chart picks its window)."""
    try:
        day = date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        return None
    return day.isoformat() if gantt.EARLIEST <= day <= gantt.LATEST else None


def read_task_id(value: str | None) -> str | None:
    """A task id (32 hex digits) or None: `open` is echoed into every link of the page, and a
    compressed page must not echo text of the asker's choosing next to its CSRF token."""
    value = (value or "").strip().lower()
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


def read_count(value: str | None) -> int | None:
    """A positive number of rows, or None; a number only, never other text (see `read_task_id`)."""
    value = (value or "").strip()[:7]
    return int(value) if value.isascii() and value.isdigit() and int(value) > 0 else None


# --- presentation: per-row strings computed once in Python (templates stay lean) ---------


class RowView:
    """One row's strings, escaped once here: the templates print them without escaping each
    again (markupsafe passes Markup through), which at 5,000 rows saves a third of the time.
    _rows.html and _gantt.html print these with autoescape off: every attribute must be
    escaped (or be a constant) here."""

    __slots__ = (
        "attention",
        "depth",
        "duration",
        "expanded",
        "finish_iso",
        "finish_label",
        "id",
        "kind",
        "links",
        "links_text",
        "more",
        "muted",
        "name",
        "people",
        "short_finish",
        "short_start",
        "start_iso",
        "start_label",
        "state",
        "state_text",
        "url",
    )

    def __init__(self, row: Row, prefix: str, labels: DateLabels, people: PeopleViews) -> None:
        self.id = escape(row.id)
        self.name = escape(row.name)
        self.kind = KIND_MARKUP[row.kind]
        self.depth = DEPTH_MARKUP[min(row.depth, MAX_INDENT)]
        self.start_iso, self.start_label, self.short_start = labels(row.start_date)
        self.finish_iso, self.finish_label, self.short_finish = labels(row.finish_date)
        self.duration = labels.duration(row.start_date, row.finish_date, row.is_milestone)
        self.people = [people(p) for p in row.assignees] if row.assignees else EMPTY
        self.url = prefix + self.id  # the prefix is escaped by row_views
        self.links = link_indicator(row)
        self.links_text = link_summary_text(row)
        self.attention = needs_attention.row_markup(row)
        self.state = state_markup(row)
        self.state_text = state_text(row)
        self.muted = needs_attention.row_class(row)
        self.expanded = TRUE
        self.more = EMPTY_MARKUP

    def collapse(self, children: int, open_prefix: Markup) -> None:
        """Rendered without its subtasks: the toggle says so, and without JavaScript a plain
        link shows the page with this summary open (issue #15)."""
        self.expanded = FALSE
        noun = "subtask" if children == 1 else "subtasks"
        self.more = Markup(  # noqa: S704 - every value is escaped or constant markup
            f'<a class="more-link" href="{open_prefix}{self.id}#task-{self.id}">Show {children} {noun}'
            f'<span class="visually-hidden"> of {self.name}</span></a>'
        )


# --- task state (SPEC §21): words with a shape, never colour alone ------------------------

STATE_LABELS = {"todo": "To do", "in_progress": "In progress", "done": "Done"}
STATE_SHAPES = {"todo": "○", "in_progress": "◐", "done": "✓"}
_STATE_MARKUP: dict[tuple[str, int, int], Markup] = {}
_STATE_TEXT: dict[tuple[str, int, int], Markup] = {}


def _progress(done: int, total: int) -> str:
    return f'<span class="progress">{done}/{total}</span><span class="visually-hidden"> leaf tasks done</span>'


def state_markup(row: Row) -> Markup:
    """The list's State cell: the shape (decorative) and the state in words; a summary's derived
    state with its leaf progress `done/total`. Memoised: few combinations."""
    key = (row.state, row.leaves_done, row.leaves) if row.is_summary else (row.state, -1, -1)
    found = _STATE_MARKUP.get(key)
    if found is None:
        state = row.state if row.state in STATE_LABELS else "todo"
        html = (
            f'<span class="state s-{state}"><span class="state-shape" aria-hidden="true">{STATE_SHAPES[state]}</span> '
            f"{STATE_LABELS[state]}</span>"
        )
        if row.is_summary:
            html += " " + _progress(row.leaves_done, row.leaves)
        found = _STATE_MARKUP[key] = Markup(html)  # noqa: S704 - constant markup and numbers
    return found


def state_text(row: Row) -> Markup:
    """The Gantt's names table: a done task or milestone says "Done" next to its name (its bar
    has a tick); other states are words for screen readers; a summary its progress."""
    key = (row.state, row.leaves_done, row.leaves) if row.is_summary else (row.state, -1, -1)
    found = _STATE_TEXT.get(key)
    if found is None:
        state = row.state if row.state in STATE_LABELS else "todo"
        if row.is_summary:
            html = f'<span class="visually-hidden">, {STATE_LABELS[state].lower()}, </span>' + _progress(
                row.leaves_done, row.leaves
            )
            html = f'<span class="state-tag">{html}</span>'
        elif state == "done":
            html = '<span class="state-tag s-done"><span aria-hidden="true">✓</span> Done</span>'
        else:
            html = f'<span class="visually-hidden">, {STATE_LABELS[state].lower()}</span>'
        found = _STATE_TEXT[key] = Markup(html)  # noqa: S704 - constant markup and numbers
    return found


def link_indicator(row: Row) -> Markup:
    """The at-a-glance glyph and count (SPEC §8): tinted by the worst status, named in words;
    none on summary and milestone rows or without links. Escaped here (see RowView)."""
    if row.kind != "t" or not row.link_count or row.worst_status is None:
        return EMPTY_MARKUP
    noun = "external link" if row.link_count == 1 else "external links"
    summary = f"{row.link_count} {noun}, worst status: {row.worst_status}{label_suffix(row.checks, row.review)}"
    label = escape(summary)
    # The glyphs are <use> of the page's shared symbols (_symbols.html): a few bytes a row.
    return Markup(  # noqa: S704 - every value is escaped or constant markup
        f'<span class="link-indicator ws-{escape(row.worst_status)}" role="img" aria-label="{label}" '
        f'title="{label}">{LINK_GLYPH_USE}{row.link_count}{STATUS_USES.get(row.worst_status, UNKNOWN_USE)}</span>'
    )


def link_summary_text(row: Row) -> Markup:
    """The same summary in words only, for the Gantt's names table (its dots are decorative)."""
    if row.kind != "t" or not row.link_count or row.worst_status is None:
        return EMPTY_MARKUP
    noun = "external link" if row.link_count == 1 else "external links"
    return Markup('<span class="visually-hidden">, {}</span>').format(
        f"{row.link_count} {noun}, worst status: {row.worst_status}{label_suffix(row.checks, row.review)}"
    )


EMPTY_MARKUP = Markup("")
TRUE, FALSE = Markup("true"), Markup("false")
STATUS_SHAPES = {status: status_shape(status) for status in PRECEDENCE}
STATUS_ICONS = {status: status_icon(status) for status in PRECEDENCE}
LINK_GLYPH_USE = Markup(
    '<svg class="icon" width="14" height="14" aria-hidden="true" focusable="false"><use href="#g-link"/></svg>'
)
STATUS_USES = {
    status: Markup(  # noqa: S704 - constant markup
        f'<svg class="icon" width="12" height="12" aria-hidden="true" focusable="false"><use href="#g-{status}"/></svg>'
    )
    for status in PRECEDENCE
}
UNKNOWN_USE = STATUS_USES["unknown"]

KIND_MARKUP = {kind: escape(kind) for kind in "smt"}
DEPTH_MARKUP = [escape(depth) for depth in range(MAX_INDENT + 1)]
EMPTY: list[PersonView] = []


class PersonView:
    __slots__ = ("initials", "name", "tone")

    def __init__(self, person: Person) -> None:
        self.name = escape(person.name)
        self.initials = escape(person.initials)
        self.tone = escape(person.tone)


class PeopleViews:
    """One PersonView per person, shared by all the rows they are assigned to."""

    def __init__(self) -> None:
        self.cache: dict[str, PersonView] = {}

    def __call__(self, person: Person) -> PersonView:
        found = self.cache.get(person.id)
        if found is None:
            found = self.cache[person.id] = PersonView(person)
        return found


class DateLabels:
    """ISO, long and short labels of a date, escaped and memoised (thousands of rows share a
    few hundred dates), and the duration labels likewise."""

    def __init__(self, today: date) -> None:
        self.year = today.year
        self.cache: dict[date, tuple[Markup, Markup, Markup]] = {}
        self.durations: dict[int, Markup] = {-1: escape("Milestone")}

    def __call__(self, day: date) -> tuple[Markup, Markup, Markup]:
        found = self.cache.get(day)
        if found is None:
            short = f"{day.day} {day:%b}" if day.year == self.year else f"{day.day} {day:%b %Y}"
            found = self.cache[day] = (escape(day.isoformat()), escape(long_date(day)), escape(short))
        return found

    def duration(self, start: date, finish: date, milestone: bool) -> Markup:
        days = -1 if milestone else (finish - start).days + 1
        found = self.durations.get(days)
        if found is None:
            found = self.durations[days] = escape(duration_label(start, finish, milestone))
        return found


def long_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def duration_label(start: date, finish: date, milestone: bool) -> str:
    if milestone:
        return "Milestone"
    days = (finish - start).days + 1
    return f"{days} day" if days == 1 else f"{days} days"


def row_views(rows: Sequence[Row], state: ViewState, shown: Outline | None = None) -> list[RowView]:
    """Rows link to the drawer with a query-only URL ("?task=…", resolved against the schedule
    page): at 5,000 rows the project path repeated twice per row would be 1 MB of the page.
    Summaries the outline `shown` left without their subtasks are rendered collapsed."""
    labels, people = DateLabels(utc_today()), PeopleViews()
    query = state.query(task=None)
    prefix = escape((query + "&" if query else "?") + "task=")
    views = [RowView(row, prefix, labels, people) for row in rows]
    if shown and shown.unloaded:
        query = state.query(task=None, open=None)
        open_prefix = escape((query + "&" if query else "?") + "open=")
        for row, view in zip(rows, views, strict=True):
            if row.id in shown.unloaded:
                view.collapse(shown.child_counts[row.id], open_prefix)
    return views


@dataclass
class DrawerView:
    id: str
    name: str
    kind: str
    kind_label: str
    start: str
    finish: str
    start_iso: str
    finish_iso: str
    duration: str
    description: str
    people: list[Person]
    ancestors: list[tuple[str, str]]  # (url, name)
    child_count: int
    state: str = "todo"
    state_label: str = "To do"
    state_shape: str = "○"
    state_why: str = ""  # "set automatically when … was merged", or a summary's progress


def state_why(task: Any, leaves: int, leaves_done: int) -> str:
    """Why the task is in its state, in words (SPEC §21)."""
    if task.is_summary:
        return f"from its subtasks: {leaves_done} of {leaves} leaf tasks done"
    if task.state_source == "automation" and task.state_cause:
        verb = {"done": "was merged", "in_progress": "was opened"}.get(task.state)
        if verb:
            return f"set automatically when {task.state_cause} {verb}"
    return ""


def drawer_view(detail: Detail, base: str, state: ViewState) -> DrawerView:
    task = detail.task
    kind = "s" if task.is_summary else "m" if task.is_milestone else "t"
    label = {"s": "Summary task", "m": "Milestone", "t": "Task"}[kind]
    return DrawerView(
        id=task.id,
        name=task.name,
        kind=kind,
        kind_label=label,
        start=long_date(task.start_date),
        finish=long_date(task.finish_date),
        start_iso=task.start_date.isoformat(),
        finish_iso=task.finish_date.isoformat(),
        duration=duration_label(task.start_date, task.finish_date, task.is_milestone),
        description=task.description,
        people=[person(u.id, u.name) for u in task.assignees],
        ancestors=[(base + state.query(task=tid), name) for tid, name in detail.ancestors],
        child_count=detail.child_count,
        state=task.state,
        state_label=STATE_LABELS.get(task.state, "To do"),
        state_shape=STATE_SHAPES.get(task.state, "○"),
        state_why=state_why(task, detail.leaves, detail.leaves_done),
    )


@dataclass(frozen=True)
class WindowView:
    """The Gantt's window on a plan longer than one zoom shows, in words, and where its Earlier
    and Later links lead (ISO `from` dates; None at the plan's edge)."""

    shown: str
    plan: str
    earlier: str | None
    later: str | None
    focus: str  # the id of the control that gets focus after a move, or ""


def window_view(window: gantt.Window | None, focus: str) -> WindowView | None:
    if window is None:
        return None
    earlier = window.earlier.isoformat() if window.earlier else None
    later = window.later.isoformat() if window.later else None
    # Focus stays on the link pressed; at the plan's edge that link is gone and the other takes it.
    if focus == "gantt-earlier" and earlier is None:
        focus = "gantt-later"
    elif focus == "gantt-later" and later is None:
        focus = "gantt-earlier"
    return WindowView(
        shown=f"{long_date(window.first)} to {long_date(window.last)}",
        plan=f"{long_date(window.plan_first)} to {long_date(window.plan_last)}",
        earlier=earlier,
        later=later,
        focus=focus if focus.startswith("gantt-") else "",
    )


# --- building the rows of the list and the Gantt ------------------------------------------


def attention_rows(schedule: Schedule, base: str, state: ViewState) -> tuple[list[Row], needs_attention.Bar]:
    """The rows the Needs attention filter keeps, and its bar (SPEC §16). The bar counts every
    row the listing query loaded, whichever of them the outline renders."""
    return needs_attention.for_schedule(
        schedule.rows, state.attention, lambda codes: base + state.query(attention=codes)
    )


@dataclass(frozen=True)
class KeptOpen:
    """What a reload of the view keeps open (issue #15): after a write the Gantt or a filtered
    list reloads itself, and schedule.js sends the summaries whose subtasks the page holds
    (`expanded=<id>,<id>…`, the deepest ones: the outline opens their parents too), or `all`
    when it holds every row, and of a windowed top level the rows it holds (`shown=<N>`).
    Never echoed into the page: only ids and a number steer the outline."""

    ids: tuple[str, ...] = ()
    everything: bool = False
    top: int = 0  # the top-level rows the page holds, of a top level longer than the budget

    @classmethod
    def read(cls, values: Mapping[str, str]) -> KeptOpen:
        value = (values.get("expanded") or "").strip()
        top = read_count(values.get("shown")) or 0
        if value == "all":
            return cls(everything=True)
        parts = value.split(",")[:MAX_KEPT_OPEN] if value else []
        return cls(ids=tuple(task for task in map(read_task_id, parts) if task), top=top)


MAX_KEPT_OPEN = 50  # ids in a GET: 50 keep the request line well within gunicorn's 4 KB
NOTHING_KEPT = KeptOpen()


def opened(state: ViewState) -> list[str]:
    """Tasks whose place in the tree is always rendered: the drawer's and the one opened by a
    no-script "Show subtasks" link."""
    return [task for task in (state.task, state.open) if task]


def rows_html(rows: list[Row], shown: Outline, base: str, state: ViewState) -> tuple[str, gantt.Chart | None]:
    """The rows `shown` (all of them, or a subtree's) as list or Gantt rows. The Gantt's scale
    (and window) comes from every row of the view, so rows fetched later line up with the others."""
    views = row_views(shown.rows, state, shown)
    if state.view != "gantt":
        html = render_template("schedule/_rows.html", rows=views, state=state, base=base)
        return html + more_row(shown, base, state, columns=7), None
    chart = gantt.build_chart(rows, state.zoom, utc_today(), state.start_date, shown.rows)
    html = render_template("schedule/_gantt_rows.html", rows=views, chart=chart, state=state, base=base)
    return html + more_row(shown, base, state, columns=4), chart


def more_row(shown: Outline, base: str, state: ViewState, columns: int) -> str:
    """The "Show more tasks" row after a windowed top level: htmx fetches the next top-level
    rows in its place; without JavaScript it opens the page with them, at the first of them."""
    if shown.next_top is None or not shown.rows:
        return ""
    last = next(row for row in reversed(shown.rows) if row.depth == 0)
    query = state.query(task=None, open=None)
    return render_template(
        "schedule/_more_rows.html",
        columns=columns,
        page_url=base + state.query(top=shown.more_top) + f"#task-{shown.next_top.id}",
        more_url=base + "/more" + (query + "&" if query else "?") + f"after={last.id}",
        shown=shown.top_shown,
        total=shown.top_total,
    )


def view_context(
    rows: list[Row], base: str, state: ViewState, focus: str = "", kept: KeptOpen = NOTHING_KEPT
) -> dict[str, Any]:
    """The list or the Gantt, rendered on its own: a template included three levels deep
    passes each of its ~40 pieces per row up through every level (a third of the time at
    5,000 rows), where a template rendered alone is joined once. A big project shows its top
    levels; deeper ones arrive when expanded (ppm.schedule.outline)."""
    context: dict[str, Any] = {"state": state, "base": base, "children_url": children_url(base, state)}
    window = None
    if not rows:
        body = ""
    else:
        # Under a filter `rows` are its matches and their parents: when they fit the row budget
        # (the usual case) all are rendered expanded; a filter matching most of a big project
        # is lazy like the whole schedule, or it would be slower and heavier than no filter.
        budget = len(rows) if kept.everything else None
        top = max(state.top or 0, kept.top)
        shown = outline(rows, [*opened(state), *kept.ids], budget=budget, top=top)
        html, chart = rows_html(rows, shown, base, state)
        template = "schedule/_list.html" if chart is None else "schedule/_gantt.html"
        window = window_view(chart.window, focus) if chart is not None else None
        body = render_template(
            template,
            rows_html=Markup(html),  # noqa: S704 - a template autoescaped it
            chart=chart,
            window=window,
            status_icons=STATUS_ICONS,
            **context,
        )
    return {
        "task_count": len(rows),
        "has_rows": bool(rows),
        "view_body": Markup(body),  # noqa: S704 - a template autoescaped it
        "gantt_window": window,
    }


def children_url(base: str, state: ViewState) -> str:
    """The subtree route for schedule.js, with `__id__` standing for the task."""
    return base + "/tasks/__id__/children" + state.query(task=None, open=None)
