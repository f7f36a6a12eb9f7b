"""Read models for the schedule: a project's rows in WBS order and one task's detail for the
drawer, each loaded in a fixed number of queries whatever the size of the project.

Writes go through `ppm.projects.services` (create_task, update_task): this module only reads.
The rows are plain objects built from column queries, not ORM instances: at 5,000 tasks that
is several times faster, and the assignees come from one query instead of one per 500 tasks.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, select

from ppm.auth.models import User
from ppm.errors import NotFound
from ppm.extensions import db
from ppm.links import attention, review_status
from ppm.links import services as link_services
from ppm.links.status import status_for_rank
from ppm.projects import services as project_services
from ppm.projects.models import Task, task_assignees
from ppm.projects.services import Access

TONES = 6  # avatar colour classes (tone-0 … tone-5); the initials and name carry the meaning


@dataclass(slots=True)
class Person:
    id: str
    name: str
    initials: str
    tone: int


@dataclass(slots=True)
class Row:
    """One live task as the schedule shows it."""

    id: str
    parent_id: str | None
    name: str
    start_date: date
    finish_date: date
    is_milestone: bool
    is_summary: bool
    depth: int = 0
    assignees: list[Person] = field(default_factory=list)
    link_count: int = 0
    worst_status: str | None = None  # of the live links (SPEC §8), None when there are none
    attention: int = 0  # bits of the SPEC §16 codes (ppm.links.attention)
    checks: str | None = None  # the worst checks and review of its links (SPEC §15)
    review: str | None = None
    muted: bool = False  # shown only as the parent of rows a filter picked
    state: str = "todo"  # SPEC §21 (a summary's is derived from its leaves)
    leaves_done: int = 0  # a summary's progress: its leaf tasks done, of `leaves`
    leaves: int = 0

    @property
    def kind(self) -> str:
        """'s' summary, 'm' milestone, 't' task (short: it is repeated in every row's markup)."""
        return "s" if self.is_summary else "m" if self.is_milestone else "t"


@dataclass(slots=True)
class Schedule:
    access: Access
    rows: list[Row]

    def by_id(self) -> dict[str, Row]:
        return {row.id: row for row in self.rows}

    def ancestors(self, task_id: str) -> list[Row]:
        """The task's parents, nearest first."""
        index = self.by_id()
        found: list[Row] = []
        row = index.get(task_id)
        while row is not None and row.parent_id is not None:
            row = index.get(row.parent_id)
            if row is not None:
                found.append(row)
        return found


@dataclass(slots=True)
class Detail:
    """What the drawer shows for one task."""

    task: Task
    ancestors: list[tuple[str, str]]  # (id, name), root first
    child_count: int
    leaves: int = 0  # a summary's leaf tasks, and how many are done (SPEC §21)
    leaves_done: int = 0


class TaskRemoved(NotFound):
    detail = "That task was removed."


def initials(name: str) -> str:
    parts = name.split()
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:2].upper()
    return (parts[0][0] + parts[-1][0]).upper()


def person(user_id: str, name: str) -> Person:
    return Person(id=user_id, name=name, initials=initials(name), tone=sum(map(ord, user_id)) % TONES)


def _live(project_id: str) -> ColumnElement[bool]:
    return and_(Task.project_id == project_id, Task.deleted_at.is_(None))


def load_schedule(actor: User, project_id: str) -> Schedule:
    """The project's live tasks in WBS order with depths and assignees: three queries (the
    project and role, the tasks, the assignees) for any number of tasks."""
    access = project_services.load_project(actor, project_id)
    return Schedule(access=access, rows=schedule_rows(access.project.id))


def schedule_rows(project_id: str) -> list[Row]:
    links = link_services.summary_subquery(project_id)  # aggregated per task before the join
    rows = [
        Row(
            id=r.id,
            parent_id=r.parent_id,
            name=r.name,
            start_date=r.start_date,
            finish_date=r.finish_date,
            is_milestone=r.is_milestone,
            is_summary=r.is_summary,
            link_count=r.link_count or 0,
            worst_status=status_for_rank(r.worst_rank),
            attention=r.attention,
            checks=review_status.checks_for_rank(r.worst_checks),
            review=review_status.review_for_rank(r.worst_review),
            state=r.state,
        )
        for r in db.session.execute(
            select(
                Task.id,
                Task.parent_id,
                Task.name,
                Task.start_date,
                Task.finish_date,
                Task.is_milestone,
                Task.is_summary,
                Task.state,
                links.c.link_count,
                links.c.worst_rank,
                attention.task_bits(links.c.attention_bits).label("attention"),
                links.c.worst_checks,
                links.c.worst_review,
            )
            .outerjoin(links, links.c.task_id == Task.id)
            .where(_live(project_id))
            .order_by(Task.position, Task.created_at, Task.id)
        )
    ]
    ordered = project_services.wbs_order(rows)
    depths = project_services.task_depths(ordered)
    index: dict[str, Row] = {}
    for row in ordered:
        row.depth = depths[row.id]
        index[row.id] = row
    count_leaves(ordered, index)
    people: dict[str, Person] = {}
    assigned = db.session.execute(
        select(task_assignees.c.task_id, User.id, User.name)
        .join(User, User.id == task_assignees.c.user_id)
        .join(Task, Task.id == task_assignees.c.task_id)
        .where(_live(project_id))
        .order_by(User.name, User.id)
    )
    for task_id, user_id, name in assigned:
        owner = index.get(task_id)
        if owner is not None:
            who = people.get(user_id)
            if who is None:
                who = people[user_id] = person(user_id, name)
            owner.assignees.append(who)
    return ordered


def count_leaves(ordered: list[Row], index: dict[str, Row]) -> None:
    """Each summary's progress (SPEC §21): its leaf tasks, and how many are done, from the rows
    in WBS order (children after their parent: walked backwards, each adds to its parent)."""
    for row in reversed(ordered):
        if not row.is_summary:
            row.leaves, row.leaves_done = 1, int(row.state == "done")
        parent = index.get(row.parent_id) if row.parent_id else None
        if parent is not None:
            parent.leaves += row.leaves
            parent.leaves_done += row.leaves_done
    for row in ordered:
        if not row.is_summary:
            row.leaves = row.leaves_done = 0


def task_detail(access: Access, task_id: str) -> Detail:
    """One live task of a project the caller has loaded (`load_project` checked the role),
    with its assignees, its chain of parents and its number of subtasks: three queries."""
    project_id = access.project.id
    task = db.session.scalar(select(Task).where(_live(project_id), Task.id == project_services.safe_id(task_id)))
    if task is None:
        removed = select(Task.id).where(Task.project_id == project_id, Task.id == project_services.safe_id(task_id))
        raise TaskRemoved() if db.session.scalar(removed) else NotFound("Task not found.")
    tree = db.session.execute(
        select(Task.id, Task.parent_id, Task.name, Task.is_summary, Task.state).where(_live(project_id))
    ).all()
    parents = {tid: (parent, name) for tid, parent, name, _, _ in tree}
    chain: list[tuple[str, str]] = []
    current = task.parent_id
    while current is not None and current in parents and len(chain) < len(parents):
        parent, name = parents[current]
        chain.append((current, name))
        current = parent
    chain.reverse()
    children = sum(1 for _, parent, _, _, _ in tree if parent == task.id)
    leaves = leaves_done = 0
    if task.is_summary:
        kids: dict[str | None, list[Any]] = {}
        for row in tree:
            kids.setdefault(row.parent_id, []).append(row)
        stack, seen = [task.id], {task.id}
        while stack:
            for kid in kids.get(stack.pop(), []):
                if kid.id in seen:
                    continue
                seen.add(kid.id)
                if kid.is_summary:
                    stack.append(kid.id)
                else:
                    leaves += 1
                    leaves_done += kid.state == "done"
    return Detail(task=task, ancestors=chain, child_count=children, leaves=leaves, leaves_done=leaves_done)


def task_list(
    actor: User, project_id: str, attention_filter: list[str] | None = None, state_filter: list[str] | None = None
) -> list[tuple[Any, list[str], dict[str, Any], list[str]]]:
    """The JSON task list's data: each live task as a row of columns named like Task's, its
    assignee ids, its link summary (SPEC §8) and its attention codes (SPEC §16), in WBS order.
    Three queries (the project and role, the tasks with their link roll-up, the assignees)
    whatever the size; no ORM objects, which were four fifths of the time at 5,000 tasks. With
    `attention_filter` (`?attention=a,b`) only tasks with one of those codes, picked after the
    WBS walk, which needs every task: a filter never adds a query."""
    access = project_services.load_project(actor, project_id)
    wanted = attention.mask(attention.parse_filter(attention_filter or []))
    states = project_services.parse_state_filter(state_filter or [])  # SPEC §21 `?state=`
    project = access.project.id
    links = link_services.summary_subquery(project)
    rows = db.session.execute(
        select(
            Task.id,
            Task.project_id,
            Task.parent_id,
            Task.name,
            Task.description,
            Task.start_date,
            Task.finish_date,
            Task.is_milestone,
            Task.is_summary,
            Task.position,
            Task.state,
            Task.done_at,
            Task.state_source,
            Task.created_at,
            Task.updated_at,
            links.c.link_count,
            links.c.worst_rank,
            attention.task_bits(links.c.attention_bits).label("attention"),
        )
        .outerjoin(links, links.c.task_id == Task.id)
        .where(_live(project))
        .order_by(Task.position, Task.created_at, Task.id)
    ).all()
    assignees: dict[str, list[str]] = {}
    for task_id, user_id in db.session.execute(
        select(task_assignees.c.task_id, task_assignees.c.user_id)
        .join(Task, Task.id == task_assignees.c.task_id)
        .join(User, User.id == task_assignees.c.user_id)
        .where(_live(project))
        .order_by(User.name, User.id)  # as Task.assignees orders them
    ):
        assignees.setdefault(task_id, []).append(user_id)
    return [
        (
            row,
            assignees.get(row.id, []),
            link_services.summary(row.link_count, row.worst_rank),
            attention.codes_of(row.attention),
        )
        for row in project_services.wbs_order(rows)
        if (not wanted or row.attention & wanted) and (not states or row.state in states)
    ]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Build and render a big schedule without the cyclic garbage collector. The thousands of
    row objects of one page stay alive until it is rendered, so every collection in between
    scans them again: at 5,000 rows that was a third of the time and made it grow faster than
    the rows. Nothing here makes reference cycles that need the collector; it runs again as
    soon as the page is built. (Process-wide: the thread that paused it resumes it.)"""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
