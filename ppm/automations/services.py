"""Git automations (SPEC §21): the one place that decides what a link change means for its task.

`on_link_changed` listens for links' `LinkChanged`, which every path that changes a link's
status emits inside its transaction (a person's refresh, Refresh all, the sweep, webhooks,
automatic links), while it holds the project lock. It moves the task forward through
projects' `set_task_state`, the one function that sets a task's state, so the task's change
commits with the link's, with its own sync number. Never backwards, never twice, never a summary
task, never an archived project, never a removed task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from ppm import events
from ppm.auth.models import User
from ppm.automations.models import ProjectAutomations
from ppm.errors import ValidationCollector
from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.projects import services as projects
from ppm.projects.models import Project, Role, Task

OPEN = frozenset(("open", "draft"))
MERGED = frozenset(("merged",))
SWITCHES = ("start_on_open", "done_on_merge")


@dataclass(frozen=True)
class Switches:
    start_on_open: bool = False
    done_on_merge: bool = False

    def as_json(self) -> dict[str, bool]:
        return {"start_on_open": self.start_on_open, "done_on_merge": self.done_on_merge}


# --- the switches -----------------------------------------------------------------------


def _switches(project_id: str) -> Switches:
    row = db.session.get(ProjectAutomations, project_id)
    return Switches(row.start_on_open, row.done_on_merge) if row else Switches()


def get_switches(actor: User, project_id: str) -> Switches:
    """Viewer and above (archived projects too: a read)."""
    return _switches(projects.load_project(actor, project_id).project.id)


def set_switches(actor: User, project_id: str, data: Any) -> Switches:
    """Admin and above, on a live project; each switch given must be true or false."""
    access = projects.load_project(actor, project_id, Role.admin, write=True)
    data = projects.require_mapping(data)
    errors = ValidationCollector()
    given: dict[str, bool] = {}
    for name in SWITCHES:
        if name in data:
            if isinstance(data[name], bool):
                given[name] = data[name]
            else:
                errors.add(name, "This must be true or false.")
    errors.raise_if_any()
    pid = access.project.id
    projects.lock_sequence(pid)
    row = db.session.get(ProjectAutomations, pid, populate_existing=True)
    if row is None:
        row = ProjectAutomations(project_id=pid, start_on_open=False, done_on_merge=False)
        db.session.add(row)
    for name, value in given.items():
        setattr(row, name, value)
    db.session.commit()
    return Switches(row.start_on_open, row.done_on_merge)


# --- the rule ---------------------------------------------------------------------------


def _closing_pull(state: events.LinkState | None, statuses: frozenset[str]) -> bool:
    return state is not None and state.kind == "pull" and state.closes and state.status in statuses


def on_link_changed(event: events.LinkChanged) -> None:
    """SPEC §21, applied to one link change. A closing pull/merge request link that becomes open
    or draft (added so, or changed to it) starts its task; one that becomes merged finishes it
    when none of the task's other closing pull/merge request links is still open or draft."""
    after = event.after
    opened = _closing_pull(after, OPEN) and not _closing_pull(event.before, OPEN)
    merged = _closing_pull(after, MERGED) and not _closing_pull(event.before, MERGED)
    if not (opened or merged):
        return
    assert after is not None
    settings = _settings(event.project_id)
    if settings is None or settings.archived:
        return
    wanted = "in_progress" if opened and settings.start_on_open else None
    if merged and settings.done_on_merge:
        wanted = "done"
    if wanted is None:
        return
    task = db.session.scalar(
        select(Task)
        .where(Task.id == event.task_id, Task.project_id == event.project_id, Task.deleted_at.is_(None))
        .execution_options(populate_existing=True)
    )
    if task is None or task.is_summary:
        return
    if wanted == "in_progress":
        if task.state != "todo":
            return  # forward only
    else:
        if task.state == "done" or _other_open_closing_pull(task.id, event.link_id):
            return
    projects.set_task_state(task, wanted, "automation", cause=after.display_title, link_id=event.link_id)


_CACHE = "ppm.automations.settings"


def _settings(project_id: str) -> Any:
    """The project's archived flag and switches, read once per transaction (the writer holds the
    project lock, so they cannot change under it): a delivery that changes many links of one
    project asks once, whatever their number."""
    cache: dict[str, Any] = db.session.info.setdefault(_CACHE, {})
    if project_id not in cache:
        cache[project_id] = db.session.execute(
            select(Project.archived, ProjectAutomations.start_on_open, ProjectAutomations.done_on_merge)
            .outerjoin(ProjectAutomations, ProjectAutomations.project_id == Project.id)
            .where(Project.id == project_id)
        ).first()
    return cache[project_id]


def _forget_settings(session: Session, _transaction: Any) -> None:
    session.info.pop(_CACHE, None)


def _other_open_closing_pull(task_id: str, link_id: str) -> bool:
    found = db.session.scalar(
        select(TaskLink.id)
        .where(
            TaskLink.task_id == task_id,
            TaskLink.id != link_id,
            TaskLink.deleted_at.is_(None),
            TaskLink.kind == "pull",
            TaskLink.closes.is_(True),
            TaskLink.status.in_(tuple(OPEN)),
        )
        .limit(1)
    )
    return found is not None


def init_automations() -> None:
    """Subscribes the rule at app start (a no-op when it is already subscribed)."""
    events.subscribe(events.LinkChanged, on_link_changed)
    if not sa_event.contains(Session, "after_transaction_end", _forget_settings):
        sa_event.listen(Session, "after_transaction_end", _forget_settings)
