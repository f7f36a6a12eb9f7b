"""The live schedule's reads (SPEC §23): what an open page asks every `LIVE_INTERVAL` seconds.

An idle poll is the common case (500 open pages, a change now and then), so it costs one
indexed query after the session's user: the project's sync number, joined to the caller's
membership (projects' primary key, memberships' unique (project_id, user_id)). Only a poll
that is behind reads which tasks changed, by the sync numbers every task and link write
stamps (SPEC §9), and then the rows as the page shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, union

from ppm.auth.models import User
from ppm.errors import DomainError, NotFound
from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.projects.models import Membership, Project, Task
from ppm.projects.services import safe_id

MAX_DIGITS = 18  # a sync number fits a 64-bit integer; longer is not a number we handed out
# More changed tasks than this and the page reloads its view instead of patching rows.
MAX_CHANGED = 200


class BadSince(DomainError):
    status = 400
    code = "validation_error"


def high_water(actor: User, project_id: str) -> int:
    """The project's last sync number, for a member (viewer and above); 404 for anyone else.
    One query on two unique indexes; the project row is not loaded into the session."""
    number = db.session.scalar(
        select(Project.sync_counter)
        .join(Membership, Membership.project_id == Project.id)
        .where(Project.id == safe_id(project_id), Membership.user_id == actor.id)
    )
    if number is None:
        raise NotFound("Project not found.")
    return int(number)


def read_since(raw: str | None) -> int:
    """`since`: ASCII digits only (no sign, space or decimal point), as the page was given it."""
    text = raw or ""
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        raise BadSince("The since value must be a whole number (the page's sync number). Reload the page.")
    return int(text)


@dataclass(frozen=True)
class Changed:
    """The tasks whose row may look different: the task itself, or one of its links, was
    written after `since` (up to `until`, the high-water mark read first: SPEC §9)."""

    task_ids: frozenset[str]
    too_many: bool


def changed_tasks(project_id: str, since: int, until: int) -> Changed:
    """One query: the ids of tasks stamped in (since, until], and of tasks whose links were,
    each a range scan of its (project_id, sync_number) index."""
    tasks = select(Task.id.label("task_id")).where(
        Task.project_id == project_id, Task.sync_number > since, Task.sync_number <= until
    )
    links = select(TaskLink.task_id.label("task_id")).where(
        TaskLink.project_id == project_id, TaskLink.sync_number > since, TaskLink.sync_number <= until
    )
    found = db.session.scalars(select(union(tasks, links).subquery().c.task_id).limit(MAX_CHANGED + 1)).all()
    return Changed(task_ids=frozenset(found), too_many=len(found) > MAX_CHANGED)
