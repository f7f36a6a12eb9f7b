"""The schedule: the task list, the Gantt chart and the task drawer (htmx, SPEC §12 "Pages").

One URL shows everything: `/projects/<id>/schedule[?view=gantt&zoom=week][&task=<id>]`.
A plain request gets the whole page; an htmx request gets the region it targets (`HX-Target`):
`#schedule-view` (list or Gantt with its toolbar) or `#drawer`. Writes post to
`…/schedule/tasks[/<id>]` and answer post-redirect-get without JavaScript, fragments with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup, escape

from ppm.errors import DATABASE_DOWN, NotFound, ValidationError
from ppm.extensions import db
from ppm.forms_util import apply_errors
from ppm.htmx import announce, is_htmx, trigger, wants_fragment
from ppm.links.icons import LINK_GLYPH_SHAPE, status_icon, status_shape
from ppm.links.review_status import label_suffix
from ppm.links.section import section_context
from ppm.links.status import PRECEDENCE
from ppm.models_base import utc_today
from ppm.projects import services as project_services
from ppm.projects.models import Role
from ppm.projects.services import Access
from ppm.schedule import attention as needs_attention
from ppm.schedule import gantt
from ppm.schedule.forms import AddTaskForm, EditTaskForm
from ppm.schedule.outline import Outline, more, outline, subtree
from ppm.schedule.services import (
    Detail,
    Person,
    Row,
    Schedule,
    TaskRemoved,
    gc_paused,
    load_schedule,
    person,
    schedule_rows,
    task_detail,
)

bp = Blueprint("schedule", __name__)
log = logging.getLogger(__name__)

VIEWS = ("list", "gantt")
MAX_INDENT = 8
CHANGED_EVENT = "schedule-changed"


@bp.context_processor
def _zoom_levels() -> dict[str, Any]:
    return {"zooms": list(gantt.ZOOMS.values()), "link_glyph": LINK_GLYPH_SHAPE, "status_shapes": STATUS_SHAPES}


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
            open=_task_id(values.get("open")),
            top=_count(values.get("top")),
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


def _task_id(value: str | None) -> str | None:
    """A task id (32 hex digits) or None: `open` is echoed into every link of the page, and a
    compressed page must not echo text of the asker's choosing next to its CSRF token."""
    value = (value or "").strip().lower()
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


def _count(value: str | None) -> int | None:
    """A positive number of rows, or None; a number only, never other text (see `_task_id`)."""
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


# --- rendering -------------------------------------------------------------------------


def _base(project_id: str) -> str:
    return url_for("schedule.schedule", project_id=project_id)


def _can_edit(access: Access) -> bool:
    return access.can(Role.member) and not access.project.archived


def _parent_options(rows: Iterable[Row]) -> list[tuple[str, str]]:
    """Every task that can hold subtasks: all but milestones. Listed only where the add form is
    open (~300 KB at 5,000 tasks): a closed form fetches them when opened (`…/parents`)."""
    return [(row.id, "\u2003" * min(row.depth, MAX_INDENT) + row.name) for row in rows if not row.is_milestone]


def _attention(schedule: Schedule, base: str, state: ViewState) -> tuple[list[Row], needs_attention.Bar]:
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
        top = _count(values.get("shown")) or 0
        if value == "all":
            return cls(everything=True)
        parts = value.split(",")[:MAX_KEPT_OPEN] if value else []
        return cls(ids=tuple(task for task in map(_task_id, parts) if task), top=top)


MAX_KEPT_OPEN = 50  # ids in a GET: 50 keep the request line well within gunicorn's 4 KB
NOTHING_KEPT = KeptOpen()


def _opened(state: ViewState) -> list[str]:
    """Tasks whose place in the tree is always rendered: the drawer's and the one opened by a
    no-script "Show subtasks" link."""
    return [task for task in (state.task, state.open) if task]


def _rows_html(rows: list[Row], shown: Outline, base: str, state: ViewState) -> tuple[str, gantt.Chart | None]:
    """The rows `shown` (all of them, or a subtree's) as list or Gantt rows. The Gantt's scale
    (and window) comes from every row of the view, so rows fetched later line up with the others."""
    views = row_views(shown.rows, state, shown)
    if state.view != "gantt":
        html = render_template("schedule/_rows.html", rows=views, state=state, base=base)
        return html + _more_row(shown, base, state, columns=7), None
    chart = gantt.build_chart(rows, state.zoom, utc_today(), state.start_date, shown.rows)
    html = render_template("schedule/_gantt_rows.html", rows=views, chart=chart, state=state, base=base)
    return html + _more_row(shown, base, state, columns=4), chart


def _more_row(shown: Outline, base: str, state: ViewState, columns: int) -> str:
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


def _view_context(
    rows: list[Row], base: str, state: ViewState, focus: str = "", kept: KeptOpen = NOTHING_KEPT
) -> dict[str, Any]:
    """The list or the Gantt, rendered on its own: a template included three levels deep
    passes each of its ~40 pieces per row up through every level (a third of the time at
    5,000 rows), where a template rendered alone is joined once. A big project shows its top
    levels; deeper ones arrive when expanded (ppm.schedule.outline)."""
    context: dict[str, Any] = {"state": state, "base": base, "children_url": _children_url(base, state)}
    window = None
    if not rows:
        body = ""
    else:
        # Under a filter `rows` are its matches and their parents: when they fit the row budget
        # (the usual case) all are rendered expanded; a filter matching most of a big project
        # is lazy like the whole schedule, or it would be slower and heavier than no filter.
        budget = len(rows) if kept.everything else None
        top = max(state.top or 0, kept.top)
        shown = outline(rows, [*_opened(state), *kept.ids], budget=budget, top=top)
        rows_html, chart = _rows_html(rows, shown, base, state)
        template = "schedule/_list.html" if chart is None else "schedule/_gantt.html"
        window = window_view(chart.window, focus) if chart is not None else None
        body = render_template(
            template,
            rows_html=Markup(rows_html),  # noqa: S704 - a template autoescaped it
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


def _children_url(base: str, state: ViewState) -> str:
    """The subtree route for schedule.js, with `__id__` standing for the task."""
    return base + "/tasks/__id__/children" + state.query(task=None, open=None)


def _drawer_context(
    detail: Detail | None,
    base: str,
    state: ViewState,
    access: Access,
    edit_form: EditTaskForm | None = None,
    sub_form: AddTaskForm | None = None,
    message: str | None = None,
    state_error: str = "",
) -> dict[str, Any]:
    if detail is None:
        return {"drawer": None}
    task = detail.task
    if edit_form is None:
        edit_form = EditTaskForm(
            formdata=None,
            name=task.name,
            start_date=task.start_date.isoformat(),
            finish_date=task.finish_date.isoformat(),
            description=task.description,
        )
    if task.is_milestone:
        edit_form.start_date.label.text = "Date"
    return {
        "drawer": drawer_view(detail, base, state),
        "edit_form": edit_form,
        "links_section": section_context(task.project_id, task.id, access=access),
        "sub_form": sub_form or AddTaskForm(formdata=None),
        "drawer_message": message,
        "close_url": base + state.query(task=None),
        "state_choices": list(STATE_LABELS.items()),
        "state_error": state_error,
    }


def _finish(response: Response) -> Response:
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response


def _page(
    project_id: str,
    state: ViewState,
    status: int = 200,
    *,
    add_form: AddTaskForm | None = None,
    edit_form: EditTaskForm | None = None,
    sub_form: AddTaskForm | None = None,
    add_open: bool = False,
) -> Response:
    """The whole page in two parts (issue #15): the head and the site header go out first, so
    the browser fetches the styles and paints while the rows, the work that grows with the
    project, are still being built; then the rest. Membership and the drawer's task are checked
    before anything is sent, so a 404 is still a 404."""
    access = project_services.load_project(current_user, project_id)
    base = _base(project_id)
    add_open = add_open or add_form is not None
    notice: str | None = None
    try:
        detail = task_detail(access, state.task) if state.task else None
    except TaskRemoved as removed:  # an old address: the schedule, with a word about it
        detail, notice = None, removed.detail
    context = {
        "access": access,
        "state": state,
        "base": base,
        "can_edit": _can_edit(access),
        "add_form": add_form or AddTaskForm(formdata=None),
        "add_open": add_open,
        "add_url": _add_url(base, state),
        "notice": notice,
        **_drawer_context(detail, base, state, access, edit_form, sub_form),
        "drawer_focus": "heading" if status == 200 else "",
    }
    head = render_template("schedule/schedule.html", part="head", **context)

    def rest() -> Iterator[str]:
        yield head
        try:
            with gc_paused():
                schedule = Schedule(access=access, rows=schedule_rows(access.project.id))
                rows, bar = _attention(schedule, base, state)
                context.update(
                    attention_bar=bar,
                    parent_options=_parent_options(schedule.rows) if add_open else None,
                    **_view_context(rows, base, state),
                )
                tail = render_template("schedule/schedule.html", part="tail", **context)
        except Exception as error:
            if current_app.testing:
                raise  # a test sees the bug itself, not a page that merely ends early
            tail = _broken_tail(project_id, error)
        yield tail

    response = Response(stream_with_context(rest()), status, mimetype="text/html")
    return _finish(response)


def _broken_tail(project_id: str, error: Exception) -> str:
    """The status line is gone already: end the page with a sentence, not a cut."""
    db.session.rollback()
    database_down = isinstance(error, DATABASE_DOWN)
    if database_down:
        cause = getattr(error, "orig", None) or error
        log.warning("database unavailable while sending the schedule of %s (%s)", project_id, type(cause).__name__)
    else:
        log.exception("the schedule of project %s failed after its head was sent", project_id)
    return render_template("schedule/_broken_tail.html", database_down=database_down)


def _add_url(base: str, state: ViewState) -> str:
    """The page with the add form open and every task listed (no JavaScript to fetch them)."""
    query = state.query(task=None, open=None)
    return base + (query + "&" if query else "?") + "add=1#add-parent_id"


def _view_fragment(project_id: str, state: ViewState) -> Response:
    schedule = load_schedule(current_user, project_id)
    base = _base(project_id)
    focus = request.headers.get("HX-Trigger", "")
    rows, bar = _attention(schedule, base, state)
    context = _view_context(rows, base, state, focus, KeptOpen.read(request.args))
    response = make_response(
        render_template(
            "schedule/_view.html",
            access=schedule.access,
            state=state,
            base=base,
            can_edit=_can_edit(schedule.access),
            focus=focus,
            attention_bar=bar,
            **context,
        )
    )
    _finish(response)
    window = context["gantt_window"]
    if focus.startswith("attention-"):
        announce(response, bar.message)
    elif focus.startswith("gantt-") and window is not None:
        announce(response, f"The Gantt chart now shows {window.shown}.")
    elif focus.startswith(("view-", "zoom-")):
        if state.view == "gantt":
            announce(response, f"Showing the Gantt chart, {state.zoom_label.lower()} zoom.")
        else:
            announce(response, "Showing the task list.")
    return response


def _drawer_fragment(
    project_id: str,
    state: ViewState,
    status: int = 200,
    *,
    edit_form: EditTaskForm | None = None,
    sub_form: AddTaskForm | None = None,
    message: str | None = None,
    focus: str = "heading",
    state_error: str = "",
) -> Response:
    access = project_services.load_project(current_user, project_id)
    base = _base(project_id)
    detail = task_detail(access, state.task) if state.task else None
    context = {
        "access": access,
        "state": state,
        "base": base,
        "can_edit": _can_edit(access),
        "drawer_focus": focus if status == 200 else ("state-error" if state_error else ""),
        **_drawer_context(detail, base, state, access, edit_form, sub_form, message, state_error),
    }
    html = render_template("schedule/_drawer.html", **context)
    html += render_template("schedule/_toolbar.html", oob=True, **context)
    # htmx sets the document title from a <title> in the response: it follows the drawer.
    name = f"{detail.task.name} · " if detail else ""
    html = f"<title>{escape(name + 'Schedule · ' + access.project.name + ' · ppm')}</title>" + html
    response = _finish(make_response(html, status))
    if status == 200:
        if detail is None:
            announce(response, "Task details closed.")
        elif message:
            announce(response, message)
        else:
            announce(response, f"Details of {detail.task.name}.")
    return response


def _add_fragment(
    project_id: str,
    state: ViewState,
    form: AddTaskForm,
    status: int = 200,
    message: str | None = None,
    added: str | None = None,
    schedule: Schedule | None = None,
) -> Response:
    schedule = schedule or load_schedule(current_user, project_id)
    base = _base(project_id)
    html = render_template(
        "schedule/_add_task.html",
        access=schedule.access,
        state=state,
        base=base,
        can_edit=_can_edit(schedule.access),
        add_form=form,
        add_open=True,
        parent_options=_parent_options(schedule.rows),
        add_message=message,
        added_url=base + state.query(task=added) if added else None,
    )
    return _finish(make_response(html, status))


def _with_changed_rows(
    response: Response,
    project_id: str,
    state: ViewState,
    changed: str,
    inserted: bool = False,
    schedule: Schedule | None = None,
) -> Response:
    """Bring the open view up to date after a write. The list gets the changed row and its
    (rolled-up) parents out of band, a new row inserted after its predecessor; the Gantt, whose
    scale may have moved, reloads itself on the `schedule-changed` event, as does a filtered list
    (the change may add or drop rows); the Needs attention bar's counts follow out of band."""
    if state.view != "list" or state.attention:
        return trigger(response, CHANGED_EVENT)
    schedule = schedule or load_schedule(current_user, project_id)
    index = next((i for i, row in enumerate(schedule.rows) if row.id == changed), None)
    if index is None or (inserted and index == 0):
        return trigger(response, CHANGED_EVENT)  # e.g. the first task: the list must appear
    base = _base(project_id)
    update = schedule.ancestors(changed)
    context = {"state": state, "base": base}
    html = ""
    row = schedule.rows[index]
    if inserted:
        # The client may not hold its predecessor (a subtree not fetched yet): schedule.js
        # puts it after that row, or at the end of its parent's rows, or drops it.
        html += render_template(
            "schedule/_rows.html",
            rows=row_views([row], state),
            oob=True,
            new_after=escape(schedule.rows[index - 1].id),
            new_parent=escape(row.parent_id or ""),
            **context,
        )
    else:
        update.insert(0, row)
    if update:
        html += render_template("schedule/_rows.html", rows=row_views(update, state), oob=True, **context)
    html += render_template("schedule/_attention.html", attention_bar=_attention(schedule, base, state)[1], oob=True)
    response.set_data(response.get_data(as_text=True) + html)
    return response


def _redirect(url: str) -> Response:
    response = make_response("", 303)
    response.headers["Location"] = url
    return response


# --- routes ----------------------------------------------------------------------------


@bp.get("/projects/<project_id>/schedule")
def schedule(project_id: str) -> Any:
    state = ViewState.read(request.args)
    target = request.headers.get("HX-Target") if wants_fragment() else None
    if target == "drawer":
        return _drawer_fragment(project_id, state)
    with gc_paused():
        if target == "schedule-view":
            return _view_fragment(project_id, state)
        return _page(project_id, state, add_open=request.args.get("add") == "1")


@bp.get("/projects/<project_id>/schedule/parents")
def parent_choice(project_id: str) -> Any:
    """The add form's "Put it under" with every task, fetched when the form is opened. Without
    htmx: the page with the form open."""
    state = ViewState.read(request.args)
    base = _base(project_id)
    with gc_paused():
        schedule = load_schedule(current_user, project_id)  # non-members get 404 before anything
        if not wants_fragment():
            return _redirect(_add_url(base, state))
        html = render_template(
            "schedule/_parent_choice.html",
            base=base,
            add_form=AddTaskForm(formdata=None),
            parent_options=_parent_options(schedule.rows),
        )
    return _finish(make_response(html))


@bp.post("/projects/<project_id>/schedule/tasks")
def add_task(project_id: str) -> Any:
    """Add a task, at the top level or under a parent (the add form or the drawer's
    "Add a subtask")."""
    state = ViewState.read(request.form)
    from_drawer = request.form.get("origin") == "drawer"
    form = AddTaskForm()
    parent_id = (form.parent_id.data or "").strip() or None
    data = {
        "name": form.name.data or "",
        "start_date": (form.start_date.data or "").strip(),
        "finish_date": (form.finish_date.data or "").strip(),
        "is_milestone": bool(form.is_milestone.data),
        "parent_id": parent_id,
    }
    if from_drawer:
        state = replace(state, task=parent_id)
    try:
        task = project_services.create_task(current_user, project_id, data)
    except ValidationError as error:
        apply_errors(form, error)
        if not is_htmx():
            return _page(project_id, state, 422, **({"sub_form": form} if from_drawer else {"add_form": form}))
        if from_drawer:
            return _drawer_fragment(project_id, state, 422, sub_form=form)
        return _add_fragment(project_id, state, form, 422)
    if not is_htmx():
        return _redirect(_base(project_id) + state.query(task=task.id))
    message = f"Added “{task.name}”."
    schedule = load_schedule(current_user, project_id)
    if from_drawer:
        response = _drawer_fragment(project_id, state, message=message, focus="subtask")
    else:
        response = announce(
            _add_fragment(
                project_id, state, AddTaskForm(formdata=None), message=message, added=task.id, schedule=schedule
            ),
            message,
        )
    return _with_changed_rows(response, project_id, state, task.id, inserted=True, schedule=schedule)


@bp.post("/projects/<project_id>/schedule/tasks/<task_id>")
def edit_task(project_id: str, task_id: str) -> Any:
    """Save the drawer's form: name, dates (not a summary's: they roll up) and description."""
    state = replace(ViewState.read(request.form), task=task_id)
    current = project_services.get_task(current_user, project_id, task_id)
    form = EditTaskForm()
    data: dict[str, Any] = {"name": form.name.data or "", "description": form.description.data or ""}
    if not current.is_summary:
        data["start_date"] = (form.start_date.data or "").strip()
        if not current.is_milestone:  # a milestone's finish moves with its one date
            data["finish_date"] = (form.finish_date.data or "").strip()
    try:
        task = project_services.update_task(current_user, project_id, task_id, data)
    except ValidationError as error:
        apply_errors(form, error)
        if current.is_milestone and form.finish_date.errors:
            form.start_date.errors = list(dict.fromkeys([*form.start_date.errors, *form.finish_date.errors]))
            form.finish_date.errors = []
        if not is_htmx():
            return _page(project_id, state, 422, edit_form=form)
        return _drawer_fragment(project_id, state, 422, edit_form=form)
    if not is_htmx():
        return _redirect(_base(project_id) + state.query())
    response = _drawer_fragment(project_id, state, message=f"Saved “{task.name}”.")
    return _with_changed_rows(response, project_id, state, task.id)


@bp.post("/projects/<project_id>/schedule/tasks/<task_id>/state")
def set_state(project_id: str, task_id: str) -> Any:
    """The drawer's state control (SPEC §21): a person sets to do, in progress or done."""
    state = replace(ViewState.read(request.form), task=task_id)
    try:
        task = project_services.change_task_state(
            current_user, project_id, task_id, {"state": request.form.get("state", "")}
        )
    except ValidationError as error:
        problem = " ".join(error.fields.get("state", [])) or error.detail
        if not is_htmx():
            raise  # the error page says what was wrong (the form offers only valid states)
        return _drawer_fragment(project_id, state, 422, state_error=problem)
    if not is_htmx():
        return _redirect(_base(project_id) + state.query())
    message = f"“{task.name}” is now {STATE_LABELS[task.state].lower()}."
    response = _drawer_fragment(project_id, state, message=message, focus="state")
    return _with_changed_rows(response, project_id, state, task.id)


@bp.get("/projects/<project_id>/schedule/tasks/<task_id>/children")
def task_children(project_id: str, task_id: str) -> Any:
    """A summary's subtasks, fetched when it is expanded (issue #15): its subtree's rows, whole
    levels within the row budget, to put after its own row. Without htmx: the page with it open."""
    state = ViewState.read(request.args)
    base = _base(project_id)
    with gc_paused():
        schedule = load_schedule(current_user, project_id)
        found = subtree(schedule.rows, task_id)
        if found is None:
            raise NotFound("Task not found.")
        if not wants_fragment():
            return _redirect(base + state.query(open=found[0].id) + f"#task-{found[0].id}")
        rows, _ = _attention(schedule, base, state)  # under a filter, only its rows
        root, descendants = subtree(rows, task_id) or (found[0], [])
        shown = outline(descendants, root=root)
        html, _ = _rows_html(rows, shown, base, state)
    count = sum(1 for row in shown.rows if row.parent_id == root.id)
    noun = "subtask" if count == 1 else "subtasks"
    return _finish(make_response(html + _announce_in_rows(f"Showing {count} {noun} of {root.name}.")))


@bp.get("/projects/<project_id>/schedule/rows")
def all_rows(project_id: str) -> Any:
    """Every row of the list or the Gantt, for "Expand all" (issue #15). Without htmx: the page."""
    state = ViewState.read(request.args)
    base = _base(project_id)
    with gc_paused():
        schedule = load_schedule(current_user, project_id)  # non-members get 404 before anything
        if not wants_fragment():
            return _redirect(base + state.query())
        rows, bar = _attention(schedule, base, state)  # under a filter, only its rows
        shown = outline(rows, budget=len(rows))
        html, _ = _rows_html(rows, shown, base, state)
    return _finish(make_response(html + _announce_in_rows(bar.message)))


@bp.get("/projects/<project_id>/schedule/more")
def more_rows(project_id: str) -> Any:
    """The next top-level rows of a top level longer than the row budget ("Show more tasks",
    issue #15), with the next such control if any are left. Without htmx: the page with them."""
    state = ViewState.read(request.args)
    base = _base(project_id)
    with gc_paused():
        schedule = load_schedule(current_user, project_id)  # non-members get 404 before anything
        rows, _ = _attention(schedule, base, state)  # under a filter, only its rows
        page = more(rows, _task_id(request.args.get("after")) or "")
        if page is None:
            raise NotFound("Task not found.")
        if not wants_fragment():
            anchor = f"#task-{page.rows[0].id}" if page.rows else ""
            return _redirect(base + state.query(top=page.top_shown) + anchor)
        html, _ = _rows_html(rows, page, base, state)
    count = sum(1 for row in page.rows if row.depth == 0)
    noun = "task" if count == 1 else "tasks"
    return _finish(make_response(html + _announce_in_rows(f"Showing {count} more {noun}.")))


def _announce_in_rows(message: str) -> str:
    """The live-region update, in a <template> so that a parser reading table rows keeps it."""
    return "<template>" + render_template("_announce.html", message=message) + "</template>"


@bp.get("/projects/<project_id>/schedule/tasks/<task_id>/row")
def task_row(project_id: str, task_id: str) -> Any:
    """The task's row (and its parents) out of band, or a reload of the Gantt: sent after a
    link write in the drawer, so the at-a-glance indicator follows (SPEC §8)."""
    state = ViewState.read(request.args)
    schedule = load_schedule(current_user, project_id)  # non-members get 404 before anything
    response = _finish(make_response("", 200))
    return _with_changed_rows(response, project_id, state, task_id, schedule=schedule)
