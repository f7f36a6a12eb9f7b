"""The sync delta (SPEC §9): the task and link rows of one project whose sync number is above a
client's cursor, in number order, at most `limit` of them.

Why a client that repeats with `since=cursor` never misses a change:

* Writers draw numbers by updating the project row (`projects.next_sync_number`), which holds a
  row lock (PostgreSQL) or the database write lock (SQLite) until commit. So numbers commit in
  order, and the committed `sync_counter` H is a high-water mark: every number <= H belongs to
  a committed transaction, and no row can ever again be stamped with a number <= H.
* The delta reads H first, then only rows numbered <= H. The row queries are separate
  statements and may see later commits than the read of H, but a later commit can only move a
  row above H (it is then left for the next call, which sees it with its new number); it
  cannot add a row at or below H. Without that bound, a commit landing between the tasks query
  and the links query could make the cursor jump over a task it never returned.
* Each table is read with `LIMIT limit + 1` by (project_id, sync_number) on its index, so the
  cost follows the rows returned, never the rows left unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import subqueryload

from ppm.auth.models import User
from ppm.errors import ValidationCollector
from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.projects import services as projects
from ppm.projects.models import Project, Task

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
_DIGITS = re.compile(r"[0-9]+")
_MAX_DIGITS = 40  # far above any number a project can reach; longer is not a number we handed out


@dataclass
class Delta:
    since: int
    cursor: int
    has_more: bool
    tasks: list[Task] = field(default_factory=list)
    links: list[TaskLink] = field(default_factory=list)


def _whole_number(raw: Any, name: str, errors: ValidationCollector, *, default: int, low: int, high: int | None) -> int:
    """A query-string integer: digits only (no sign, no spaces, no decimals), within range."""
    if raw is None:
        return default
    text = "" if isinstance(raw, bool) else str(raw)
    span = f"from {low} to {high}" if high is not None else f"{low} or more"
    if not _DIGITS.fullmatch(text) or len(text) > _MAX_DIGITS:
        errors.add(name, f"The {name} must be a whole number, {span}.")
        return default
    value = int(text)
    if value < low or (high is not None and value > high):
        errors.add(name, f"The {name} must be {span}.")
        return default
    return value


def parse_window(since: Any, limit: Any) -> tuple[int, int]:
    """(since, limit) from the raw query values, or a 400 `validation_error` naming each."""
    errors = ValidationCollector()
    since_value = _whole_number(since, "since", errors, default=0, low=0, high=None)
    limit_value = _whole_number(limit, "limit", errors, default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    errors.raise_if_any()
    return since_value, limit_value


def sync_delta(actor: User, project_id: str, since: Any = None, limit: Any = None) -> Delta:
    """The delta for a member (viewer and above; archived projects too: this is a read).

    `since` and `limit` are the raw query values (strings, or None when absent); they are
    checked after the project and the role, as every project-scoped route does (SPEC §12)."""
    access = projects.load_project(actor, project_id)
    after, limit_value = parse_window(since, limit)
    pid = access.project.id
    # A column query always reads the database (never a cached Project attribute).
    high = int(db.session.scalar(select(Project.sync_counter).where(Project.id == pid)) or 0)
    if after >= high:
        # Nothing can be newer than the high-water mark; skip the row queries.
        return Delta(since=after, cursor=after, has_more=False)

    tasks: list[Task] = _changed(Task, pid, after, high, limit_value + 1)
    links: list[TaskLink] = _changed(TaskLink, pid, after, high, limit_value + 1)
    merged: list[Task | TaskLink] = sorted([*tasks, *links], key=lambda row: row.sync_number)
    page = merged[:limit_value]
    has_more = len(merged) > limit_value
    cursor = page[-1].sync_number if page else after
    return Delta(
        since=after,
        cursor=cursor,
        has_more=has_more,
        tasks=[row for row in page if isinstance(row, Task)],
        links=[row for row in page if isinstance(row, TaskLink)],
    )


def _changed(model: Any, project_id: str, after: int, high: int, limit: int) -> list[Any]:
    """Rows of `model` (Task or TaskLink) numbered in (after, high], lowest first: a range scan
    of the (project_id, sync_number) index that stops after `limit` rows."""
    query = (
        select(model)
        .where(model.project_id == project_id, model.sync_number > after, model.sync_number <= high)
        .order_by(model.sync_number)
        .limit(limit)
        # Fresh values even when the session already holds these rows.
        .execution_options(populate_existing=True)
    )
    if model is Task:
        # One query for every assignee, whatever the page size.
        query = query.options(subqueryload(Task.assignees))
    return list(db.session.scalars(query))
