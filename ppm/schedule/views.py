"""The schedule: the task list, the Gantt chart and the task drawer (htmx, SPEC §12 "Pages").

One URL shows everything: `/projects/<id>/schedule[?view=gantt&zoom=week][&task=<id>]`.
A plain request gets the whole page; an htmx request gets the region it targets (`HX-Target`):
`#schedule-view` (list or Gantt with its toolbar) or `#drawer`. Writes post to
`…/schedule/tasks[/<id>]` and answer post-redirect-get without JavaScript, fragments with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

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
from markupsafe import escape

from ppm.errors import DATABASE_DOWN, NotFound, ValidationError
from ppm.extensions import db
from ppm.forms_util import apply_errors
from ppm.htmx import announce, is_htmx, trigger, wants_fragment
from ppm.links.icons import LINK_GLYPH_SHAPE
from ppm.links.section import section_context
from ppm.projects import services as project_services
from ppm.projects.models import Role
from ppm.projects.services import Access
from ppm.schedule import gantt
from ppm.schedule.forms import AddTaskForm, EditTaskForm
from ppm.schedule.outline import more, outline, subtree
from ppm.schedule.rows import (
    MAX_INDENT,
    STATE_LABELS,
    STATUS_SHAPES,
    KeptOpen,
    ViewState,
    attention_rows,
    drawer_view,
    read_task_id,
    row_views,
    rows_html,
    view_context,
)
from ppm.schedule.services import (
    Detail,
    Row,
    Schedule,
    TaskRemoved,
    gc_paused,
    load_schedule,
    schedule_rows,
    task_detail,
)

bp = Blueprint("schedule", __name__)
log = logging.getLogger(__name__)

CHANGED_EVENT = "schedule-changed"


@bp.context_processor
def _zoom_levels() -> dict[str, Any]:
    return {"zooms": list(gantt.ZOOMS.values()), "link_glyph": LINK_GLYPH_SHAPE, "status_shapes": STATUS_SHAPES}


# --- rendering -------------------------------------------------------------------------


def _base(project_id: str) -> str:
    return url_for("schedule.schedule", project_id=project_id)


def _can_edit(access: Access) -> bool:
    return access.can(Role.member) and not access.project.archived


def _parent_options(rows: Iterable[Row]) -> list[tuple[str, str]]:
    """Every task that can hold subtasks: all but milestones. Listed only where the add form is
    open (~300 KB at 5,000 tasks): a closed form fetches them when opened (`…/parents`)."""
    return [(row.id, "\u2003" * min(row.depth, MAX_INDENT) + row.name) for row in rows if not row.is_milestone]


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
                rows, bar = attention_rows(schedule, base, state)
                context.update(
                    attention_bar=bar,
                    parent_options=_parent_options(schedule.rows) if add_open else None,
                    **view_context(rows, base, state),
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
    rows, bar = attention_rows(schedule, base, state)
    context = view_context(rows, base, state, focus, KeptOpen.read(request.args))
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
    html += render_template(
        "schedule/_attention.html", attention_bar=attention_rows(schedule, base, state)[1], oob=True
    )
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
        rows, _ = attention_rows(schedule, base, state)  # under a filter, only its rows
        root, descendants = subtree(rows, task_id) or (found[0], [])
        shown = outline(descendants, root=root)
        html, _ = rows_html(rows, shown, base, state)
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
        rows, bar = attention_rows(schedule, base, state)  # under a filter, only its rows
        shown = outline(rows, budget=len(rows))
        html, _ = rows_html(rows, shown, base, state)
    return _finish(make_response(html + _announce_in_rows(bar.message)))


@bp.get("/projects/<project_id>/schedule/more")
def more_rows(project_id: str) -> Any:
    """The next top-level rows of a top level longer than the row budget ("Show more tasks",
    issue #15), with the next such control if any are left. Without htmx: the page with them."""
    state = ViewState.read(request.args)
    base = _base(project_id)
    with gc_paused():
        schedule = load_schedule(current_user, project_id)  # non-members get 404 before anything
        rows, _ = attention_rows(schedule, base, state)  # under a filter, only its rows
        page = more(rows, read_task_id(request.args.get("after")) or "")
        if page is None:
            raise NotFound("Task not found.")
        if not wants_fragment():
            anchor = f"#task-{page.rows[0].id}" if page.rows else ""
            return _redirect(base + state.query(top=page.top_shown) + anchor)
        html, _ = rows_html(rows, page, base, state)
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
