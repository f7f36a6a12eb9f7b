"""Use cases for projects, members and tasks. Every project-scoped read goes through
`load_project`, so membership scoping and role checks live in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import subqueryload

from ppm import events, sqlite_locking
from ppm.auth.models import User
from ppm.auth.services import find_user_by_email
from ppm.errors import Conflict, Forbidden, NotFound, ProjectArchived, ValidationCollector, ValidationError
from ppm.extensions import db
from ppm.models_base import utc_today, utcnow
from ppm.projects.models import ROLE_NAMES, TASK_STATES, Membership, Project, Role, Task
from ppm.text import readable_object, text_problem, unreadable

NAME_MAX = 200
DESCRIPTION_MAX = 20000
# Task dates a plan can hold (SPEC §19): far enough for any real plan, near enough that every
# date arithmetic (a bar's end, a chart's axis) stays inside the calendar.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2199, 12, 31)

# Called inside delete_task's transaction with (project_id, removed task ids), so capabilities
# that hang rows off tasks (links) remove theirs too; projects never imports them.
TASK_REMOVAL_HOOKS: list[Callable[[str, list[str]], None]] = []


@dataclass(frozen=True)
class Access:
    """A project as seen by one member."""

    project: Project
    role: Role

    def can(self, role: Role) -> bool:
        return self.role >= role


# --- access ---------------------------------------------------------------------------


def safe_id(value: object) -> str:
    """An id from a URL or a body, ready to compare in SQL: the one place ids are read. An id
    with NUL, another control character or a lone surrogate (which PostgreSQL refuses: a 500)
    becomes "", which matches no row, so it answers 404 like any unknown id."""
    text = str(value)
    return "" if unreadable(text) else text


def load_project(actor: User, project_id: str, need: Role = Role.viewer, *, write: bool = False) -> Access:
    """Non-members get 404 (existence is not revealed); weak roles 403; archived writes 403."""
    row = db.session.execute(
        select(Project, Membership.role)
        .join(Membership, Membership.project_id == Project.id)
        .where(Project.id == safe_id(project_id), Membership.user_id == actor.id)
    ).first()
    if row is None:
        raise NotFound("Project not found.")
    access = Access(project=row[0], role=Role[row[1]])
    if not access.can(need):
        raise Forbidden(f"This needs the {need.name} role or higher on the project.")
    if write and access.project.archived:
        raise ProjectArchived()
    return access


def next_sync_number(project_id: str) -> int:
    """Draws the project's next sync number inside the caller's transaction. Updating the
    project row serialises writers of one project, so numbers commit in order."""
    # No autoflush: the project row is locked before the caller's pending row changes are
    # written, so a writer never holds a task or link row while it waits for the project row
    # (another writer holding the project row and wanting that task row would deadlock).
    with db.session.no_autoflush:
        number = db.session.execute(
            update(Project)
            .where(Project.id == project_id)
            # Keeping updated_at as it is: drawing a number is not an edit of the project.
            .values(sync_counter=Project.sync_counter + 1, updated_at=Project.updated_at)
            .returning(Project.sync_counter)
        ).scalar_one()
    return int(number)


def next_sync_numbers(project_id: str, count: int) -> list[int]:
    """`count` consecutive sync numbers in one statement, for a batch write (a webhook delivery
    that changes many links); same lock and ordering as `next_sync_number`."""
    if count <= 0:
        return []
    with db.session.no_autoflush:
        last = db.session.execute(
            update(Project)
            .where(Project.id == project_id)
            .values(sync_counter=Project.sync_counter + count, updated_at=Project.updated_at)
            .returning(Project.sync_counter)
        ).scalar_one()
    return list(range(int(last) - count + 1, int(last) + 1))


def lock_sequence(project_id: str) -> None:
    """Takes the lock `next_sync_number` takes, up front, for writes that change rows before
    they draw a number (moves, renumbering, removal) and for member changes: every writer of a
    project then locks the project row first and they queue instead of deadlocking, and reads
    after it see the latest commits, so the checks they make (no loop, one owner left, not yet
    a member) still hold at commit. (On SQLite, which renders no FOR UPDATE, the database write
    lock is taken instead, if the transaction does not hold it yet: ppm.sqlite_locking.)"""
    with db.session.no_autoflush:
        sqlite_locking.take_write_lock(db.session.connection())
        db.session.execute(select(Project.id).where(Project.id == project_id).with_for_update(key_share=True))


def is_archived(project_id: str) -> bool:
    """The archived flag as committed now (not the session's cached project): read it after
    `lock_sequence`, and a writer sees any archiving that has answered (SPEC §27). A project
    that is gone counts as archived: nothing of it may change."""
    archived = db.session.scalar(select(Project.archived).where(Project.id == project_id))
    return archived is None or bool(archived)


# --- input helpers --------------------------------------------------------------------


def _text(
    data: Mapping[str, Any], key: str, errors: ValidationCollector, *, label: str, max_len: int, required: bool
) -> str | None:
    if key not in data:
        if required:
            errors.add(key, f"Enter a {label}.")
        return None
    value = data[key]
    if not isinstance(value, str):
        errors.add(key, f"The {label} must be text.")
        return None
    value = value.strip()
    problem = text_problem(value, multiline=key == "description")
    if problem:
        errors.add(key, f"The {label} {problem}.")
        return None
    if required and not value:
        errors.add(key, f"Enter a {label}.")
        return None
    if len(value) > max_len:
        errors.add(key, f"The {label} must be at most {max_len} characters.")
        return None
    return value


def _date(data: Mapping[str, Any], key: str, errors: ValidationCollector, label: str) -> date | None:
    value = data.get(key)
    if not isinstance(value, str):
        errors.add(key, f"Enter the {label} as a date like 2026-03-31.")
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        errors.add(key, f"Enter the {label} as a real date like 2026-03-31.")
        return None
    if not DATE_MIN <= day <= DATE_MAX:
        errors.add(key, f"The {label} must be from {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}.")
        return None
    return day


def _bool(data: Mapping[str, Any], key: str, errors: ValidationCollector) -> bool | None:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, bool):
        errors.add(key, "This must be true or false.")
        return None
    return value


def require_mapping(data: Any) -> Mapping[str, Any]:
    return readable_object(data)


# --- projects -------------------------------------------------------------------------


def list_projects(actor: User) -> list[Access]:
    rows = db.session.execute(
        select(Project, Membership.role)
        .join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == actor.id)
        .order_by(Project.archived, func.lower(Project.name), Project.id)
    ).all()
    return [Access(project=p, role=Role[r]) for p, r in rows]


def create_project(actor: User, data: Any) -> Access:
    data = require_mapping(data)
    errors = ValidationCollector()
    name = _text(data, "name", errors, label="project name", max_len=NAME_MAX, required=True)
    errors.raise_if_any()
    project = Project(name=name)
    db.session.add(project)
    db.session.flush()
    db.session.add(Membership(project_id=project.id, user_id=actor.id, role=Role.owner.name))
    db.session.commit()
    return Access(project=project, role=Role.owner)


def update_project(actor: User, project_id: str, data: Any) -> Access:
    access = load_project(actor, project_id, Role.admin, write=True)
    data = require_mapping(data)
    errors = ValidationCollector()
    name = _text(data, "name", errors, label="project name", max_len=NAME_MAX, required=False)
    if "name" in data and name == "" and not errors.has("name"):
        errors.add("name", "Enter a project name.")
    errors.raise_if_any()
    if name:
        access.project.name = name
    db.session.commit()
    return access


def set_archived(actor: User, project_id: str, archived: bool) -> Access:
    # Unarchiving is the one write an archived project accepts.
    access = load_project(actor, project_id, Role.admin, write=archived)
    # An exclusive lock of the project row (FOR UPDATE, stronger than lock_sequence's key
    # share): archiving waits for the writers that hold the project, and writers after it see
    # the flag (SPEC §27 "archived means frozen"). On SQLite, the database write lock.
    sqlite_locking.take_write_lock(db.session.connection())
    db.session.execute(select(Project.id).where(Project.id == access.project.id).with_for_update())
    access.project.archived = archived
    db.session.commit()
    return access


def delete_project(actor: User, project_id: str) -> None:
    access = load_project(actor, project_id, Role.owner)
    db.session.delete(access.project)
    db.session.commit()


# --- members --------------------------------------------------------------------------


def list_members(actor: User, project_id: str) -> list[Membership]:
    access = load_project(actor, project_id)
    return _memberships(access.project.id)


def _memberships(project_id: str) -> list[Membership]:
    query = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.project_id == project_id)
        .order_by(func.lower(User.name), User.email)
    )
    return list(db.session.scalars(query))


def _role_from(data: Mapping[str, Any], errors: ValidationCollector) -> Role | None:
    value = data.get("role")
    if not isinstance(value, str) or value not in ROLE_NAMES:
        errors.add("role", "Choose a role: " + ", ".join(ROLE_NAMES) + ".")
        return None
    return Role[value]


def _locked_access(actor: User, project_id: str, need: Role) -> Access:
    """A member change: the project lock, then the actor's role read again under it, so a role
    a racing request just changed is the one that counts."""
    lock_sequence(load_project(actor, project_id, need, write=True).project.id)
    return load_project(actor, project_id, need, write=True)


def _owner_count(project_id: str) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.project_id == project_id, Membership.role == Role.owner.name)
        )
        or 0
    )


def _check_owner_change(access: Access, *roles: Role) -> None:
    # Only an owner may make someone an owner or change an owner's role.
    if Role.owner in roles and not access.can(Role.owner):
        raise Forbidden("Only an owner can grant or change the owner role.")


def add_member(actor: User, project_id: str, data: Any) -> Membership:
    access = _locked_access(actor, project_id, Role.admin)  # a racing add of the same person then sees this one
    data = require_mapping(data)
    errors = ValidationCollector()
    email = _text(data, "email", errors, label="email address", max_len=254, required=True)
    role = _role_from(data, errors)
    user = find_user_by_email(email) if email else None
    if email and user is None:
        errors.add("email", "No ppm user has this email address. Ask them to sign up first.")
    errors.raise_if_any()
    assert user is not None and role is not None
    _check_owner_change(access, role)
    exists = db.session.scalar(
        select(Membership).where(Membership.project_id == access.project.id, Membership.user_id == user.id)
    )
    if exists:
        raise Conflict(f"{user.email} is already a member of this project.", code="already_member")
    membership = Membership(project_id=access.project.id, user_id=user.id, role=role.name)
    db.session.add(membership)
    try:
        _commit_keeping(membership)
    except IntegrityError:
        # The unique (project, user) pair, should anything write memberships without the lock.
        db.session.rollback()
        raise Conflict(f"{user.email} is already a member of this project.", code="already_member") from None
    return membership


def _membership(project_id: str, user_id: str) -> Membership:
    membership = db.session.scalar(
        select(Membership).where(Membership.project_id == project_id, Membership.user_id == safe_id(user_id))
    )
    if membership is None:
        raise NotFound("This person is not a member of the project.")
    return membership


def change_member_role(actor: User, project_id: str, user_id: str, data: Any) -> Membership:
    access = _locked_access(actor, project_id, Role.admin)  # two owners stepping down: the second sees the first
    data = require_mapping(data)
    errors = ValidationCollector()
    role = _role_from(data, errors)
    errors.raise_if_any()
    assert role is not None
    membership = _membership(access.project.id, user_id)
    _check_owner_change(access, role, membership.rank)
    if membership.rank == Role.owner and role != Role.owner and _owner_count(access.project.id) <= 1:
        raise Conflict("A project needs at least one owner. Make someone else owner first.", code="last_owner")
    membership.role = role.name
    _commit_keeping(membership)
    return membership


def _commit_keeping(membership: Membership) -> None:
    """Commit, keeping the membership as saved in memory: the answer is built from it, and a
    racing request may delete the row right after (the member leaving), which must not turn
    this request's success into a 500 when the answer re-reads it."""
    membership.user  # noqa: B018 - loaded now, so the answer needs no query
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def remove_member(actor: User, project_id: str, user_id: str) -> None:
    leaving_self = str(user_id) == actor.id
    # Two owners leaving at once: the second sees the first gone.
    access = _locked_access(actor, project_id, Role.viewer if leaving_self else Role.admin)
    membership = _membership(access.project.id, user_id)
    if not leaving_self:
        _check_owner_change(access, membership.rank)
    if membership.rank == Role.owner and _owner_count(access.project.id) <= 1:
        raise Conflict("A project needs at least one owner. Make someone else owner first.", code="last_owner")
    db.session.delete(membership)
    db.session.commit()


# --- tasks ----------------------------------------------------------------------------


def list_tasks(actor: User, project_id: str) -> list[Task]:
    """Live tasks in WBS order (depth-first, by position). Three queries whatever the size."""
    access = load_project(actor, project_id)
    return wbs_order(live_tasks(access.project.id))


def live_tasks(project_id: str) -> list[Task]:
    query = (
        select(Task)
        .where(Task.project_id == project_id, Task.deleted_at.is_(None))
        .order_by(Task.position, Task.created_at, Task.id)
        # One query for all assignees: the default selectin loading asks once per 500 tasks.
        .options(subqueryload(Task.assignees))
    )
    return list(db.session.scalars(query))


class TreeNode(Protocol):
    """Anything with a task's id and parent_id (a Task, or a schedule row)."""

    @property
    def id(self) -> str: ...
    @property
    def parent_id(self) -> str | None: ...


NodeT = TypeVar("NodeT", bound=TreeNode)


def wbs_order(tasks: Iterable[NodeT]) -> list[NodeT]:
    children: dict[str | None, list[NodeT]] = {}
    for task in tasks:
        children.setdefault(task.parent_id, []).append(task)
    ordered: list[NodeT] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        task = stack.pop()
        ordered.append(task)
        stack.extend(reversed(children.get(task.id, [])))
    return ordered


def task_depths(tasks: Iterable[TreeNode]) -> dict[str, int]:
    """Depth of each task in WBS order (parents come before their children)."""
    depths: dict[str, int] = {}
    for task in tasks:
        depths[task.id] = depths.get(task.parent_id, -1) + 1 if task.parent_id else 0
    return depths


def get_task(actor: User, project_id: str, task_id: str) -> Task:
    access = load_project(actor, project_id)
    return _live_task(access.project.id, task_id)


def _live_task(project_id: str, task_id: str) -> Task:
    task = db.session.scalar(
        select(Task)
        .where(Task.id == safe_id(task_id), Task.project_id == project_id, Task.deleted_at.is_(None))
        # Read afresh even if this request loaded it before taking the project lock.
        .execution_options(populate_existing=True)
    )
    if task is None:
        raise NotFound("Task not found.")
    return task


def _children(task_id: str) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task).where(Task.parent_id == task_id, Task.deleted_at.is_(None)).order_by(Task.position, Task.id)
        )
    )


def _descendant_ids(project_id: str, task_id: str) -> set[str]:
    rows = db.session.execute(
        select(Task.id, Task.parent_id).where(Task.project_id == project_id, Task.deleted_at.is_(None))
    ).all()
    kids: dict[str | None, list[str]] = {}
    for tid, parent in rows:
        kids.setdefault(parent, []).append(tid)
    found: set[str] = set()
    stack = [task_id]
    while stack:
        for child in kids.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _stamp(task: Task) -> None:
    task.sync_number = next_sync_number(task.project_id)
    task.updated_at = utcnow()


def _parent_from(
    data: Mapping[str, Any], project_id: str, errors: ValidationCollector, task: Task | None
) -> tuple[bool, Task | None]:
    """Returns (given, parent)."""
    if "parent_id" not in data:
        return False, None
    value = data["parent_id"]
    if value is None or value == "":
        return True, None
    if not isinstance(value, str):
        errors.add("parent_id", "The parent must be a task id.")
        return True, None
    parent = db.session.scalar(
        select(Task).where(Task.id == safe_id(value), Task.project_id == project_id, Task.deleted_at.is_(None))
    )
    if parent is None:
        errors.add("parent_id", "There is no such task in this project to be the parent.")
        return True, None
    if task is not None and (parent.id == task.id or parent.id in _descendant_ids(project_id, task.id)):
        errors.add("parent_id", "A task cannot be placed under itself or its own subtasks.")
        return True, None
    if parent.is_milestone:
        errors.add("parent_id", "A milestone cannot have subtasks.")
        return True, None
    return True, parent


def _assignees_from(data: Mapping[str, Any], project_id: str, errors: ValidationCollector) -> list[User] | None:
    if "assignee_ids" not in data:
        return None
    value = data["assignee_ids"]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add("assignee_ids", "Assignees must be a list of user ids.")
        return None
    wanted = list(dict.fromkeys(safe_id(v) for v in value))
    users = list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project_id, User.id.in_(wanted))
        )
    )
    if len(users) != len(wanted):
        errors.add("assignee_ids", "Every assignee must be a member of this project.")
        return None
    return users


def _position_from(data: Mapping[str, Any], errors: ValidationCollector) -> int | None:
    if "position" not in data:
        return None
    value = data["position"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.add("position", "The position must be a whole number from 0.")
        return None
    return value


def _place(task: Task, position: int | None) -> None:
    """Put `task` at `position` among its siblings and renumber them (re-stamping moved ones)."""
    siblings = [t for t in _siblings(task) if t.id != task.id]
    index = len(siblings) if position is None else min(position, len(siblings))
    siblings.insert(index, task)
    for number, sibling in enumerate(siblings):
        if sibling.position != number:
            sibling.position = number
            if sibling is not task:
                _stamp(sibling)


def _siblings(task: Task) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task)
            .where(
                Task.project_id == task.project_id,
                Task.parent_id.is_(None) if task.parent_id is None else Task.parent_id == task.parent_id,
                Task.deleted_at.is_(None),
            )
            .order_by(Task.position, Task.created_at, Task.id)
        )
    )


def _roll_up(task_id: str | None) -> None:
    """Recompute summary flags, dates and derived state from a task up to the root. Stops at a
    task it has already seen: a loop in the data must not make a writer spin holding the write
    lock."""
    seen: set[str] = set()
    while task_id is not None and task_id not in seen:
        seen.add(task_id)
        parent = db.session.get(Task, task_id)
        if parent is None:
            return
        kids = _children(parent.id)
        before = (parent.is_summary, parent.start_date, parent.finish_date, parent.state)
        parent.is_summary = bool(kids)
        if kids:
            parent.start_date = min(k.start_date for k in kids)
            parent.finish_date = max(k.finish_date for k in kids)
            _put_state(parent, derived_state(k.state for k in kids))
        if before != (parent.is_summary, parent.start_date, parent.finish_date, parent.state):
            _stamp(parent)
        task_id = parent.parent_id


# --- task state (SPEC §21) ------------------------------------------------------------


def derived_state(child_states: Iterable[str]) -> str:
    """A summary's state from its children's (a child summary's is already derived from its
    leaves, so this is the leaves' rule): done when all are done, in progress when any is in
    progress or done, else to do."""
    states = list(child_states)
    if states and all(state == "done" for state in states):
        return "done"
    if any(state in ("in_progress", "done") for state in states):
        return "in_progress"
    return "todo"


def _put_state(task: Task, state: str) -> None:
    if task.state == state:
        return
    task.state = state
    task.done_at = utcnow() if state == "done" else None


def set_task_state(task: Task, state: str, source: str, *, cause: str = "", link_id: str | None = None) -> bool:
    """The one function that sets a task's state (SPEC §21): a person's edit and an automation
    both call it, inside their transaction and holding the project lock. Stamps `done_at`
    (set on becoming done, cleared on leaving it), `state_source` and a sync number, rolls the
    derived state up to the summaries above, and announces `TaskStateChanged`. A summary task has
    no state of its own: refused. Returns whether anything changed (the same state: nothing)."""
    if state not in TASK_STATES or source not in ("person", "automation"):
        raise ValueError(f"unknown task state {state!r} or source {source!r}")
    if task.is_summary:
        raise ValueError("a summary task's state is derived from its subtasks")
    before = task.state
    if before == state:
        return False
    _put_state(task, state)
    task.state_source = source
    task.state_cause = cause[:2048] if source == "automation" else ""
    _stamp(task)
    db.session.flush()
    _roll_up(task.parent_id)
    events.emit(
        events.TaskStateChanged(
            project_id=task.project_id, task_id=task.id, before=before, after=state, source=source, link_id=link_id
        )
    )
    return True


def parse_state_filter(values: Iterable[str]) -> tuple[str, ...]:
    """`?state=todo,in_progress` (the parameter may repeat): the states asked for, or a 400 on
    `state` naming what is not a state. Blank means no filter."""
    asked = [part.strip() for value in values for part in value.split(",") if part.strip()]
    unknown = [value for value in asked if value not in TASK_STATES]
    if unknown:
        shown = ", ".join(f"“{value[:40]}”" for value in unknown[:3])
        raise ValidationError({"state": [f"Unknown state {shown}. Use any of: {', '.join(TASK_STATES)}."]})
    return tuple(state for state in TASK_STATES if state in asked)


def _state_from(data: Mapping[str, Any], task: Task, errors: ValidationCollector) -> str | None:
    if "state" not in data:
        return None
    value = data["state"]
    if not isinstance(value, str) or value not in TASK_STATES:
        errors.add("state", "Choose a state: " + ", ".join(TASK_STATES) + ".")
        return None
    if task.is_summary:
        errors.add("state", "A summary task's state comes from its subtasks; change those instead.")
        return None
    return value


def _validate_dates(errors: ValidationCollector, start: date | None, finish: date | None, milestone: bool) -> None:
    if start is None or finish is None:
        return
    if finish < start:
        errors.add("finish_date", "The finish date must be on or after the start date.")
    elif milestone and finish != start:
        errors.add("finish_date", "A milestone's finish date must equal its start date.")


def create_task(actor: User, project_id: str, data: Any) -> Task:
    access = load_project(actor, project_id, Role.member, write=True)
    pid = access.project.id
    lock_sequence(pid)
    data = require_mapping(data)
    errors = ValidationCollector()
    name = _text(data, "name", errors, label="task name", max_len=NAME_MAX, required=True)
    description = _text(data, "description", errors, label="description", max_len=DESCRIPTION_MAX, required=False) or ""
    milestone = _bool(data, "is_milestone", errors) or False
    # Absent, null or "" means "choose for me"; anything else must be a real date.
    start = _date(data, "start_date", errors, "start date") if data.get("start_date") not in (None, "") else None
    finish = _date(data, "finish_date", errors, "finish date") if data.get("finish_date") not in (None, "") else None
    if start is None and not errors.has("start_date"):
        # A milestone given only its finish date sits on that day.
        start = finish if finish and (milestone or finish < utc_today()) else utc_today()
    if finish is None and not errors.has("finish_date"):
        finish = start
    _validate_dates(errors, start, finish, milestone)
    _, parent = _parent_from(data, pid, errors, None)
    assignees = _assignees_from(data, pid, errors)
    position = _position_from(data, errors)
    errors.raise_if_any()
    assert name is not None and start is not None and finish is not None
    task = Task(
        project_id=pid,
        parent_id=parent.id if parent else None,
        name=name,
        description=description,
        start_date=start,
        finish_date=finish,
        is_milestone=milestone,
        assignees=assignees or [],
        position=0,
    )
    db.session.add(task)
    db.session.flush()
    _place(task, position)
    _stamp(task)
    _roll_up(task.parent_id)
    db.session.commit()
    return task


def update_task(actor: User, project_id: str, task_id: str, data: Any) -> Task:
    access = load_project(actor, project_id, Role.member, write=True)
    pid = access.project.id
    lock_sequence(pid)
    task = _live_task(pid, task_id)
    data = require_mapping(data)
    errors = ValidationCollector()
    name = _text(data, "name", errors, label="task name", max_len=NAME_MAX, required=False)
    if "name" in data and name == "" and not errors.has("name"):
        errors.add("name", "Enter a task name.")
    description = _text(data, "description", errors, label="description", max_len=DESCRIPTION_MAX, required=False)
    milestone = _bool(data, "is_milestone", errors)
    start = _date(data, "start_date", errors, "start date") if "start_date" in data else None
    finish = _date(data, "finish_date", errors, "finish date") if "finish_date" in data else None
    if task.is_summary and (start or finish) and (start, finish) != (None, None):
        changed = (start and start != task.start_date) or (finish and finish != task.finish_date)
        if changed:
            errors.add(
                "start_date" if start else "finish_date",
                "A summary task's dates come from its subtasks; change those instead.",
            )
    if task.is_summary and milestone:
        errors.add("is_milestone", "A task with subtasks cannot be a milestone.")
    new_start = start or task.start_date
    new_finish = finish or task.finish_date
    is_milestone = task.is_milestone if milestone is None else milestone
    # A milestone is one day: moving one of its dates moves the other with it.
    if is_milestone and finish is None and start is not None:
        new_finish = new_start
    elif is_milestone and start is None and finish is not None:
        new_start = new_finish
    _validate_dates(errors, new_start, new_finish, is_milestone)
    parent_given, parent = _parent_from(data, pid, errors, task)
    assignees = _assignees_from(data, pid, errors)
    position = _position_from(data, errors)
    state = _state_from(data, task, errors)
    errors.raise_if_any()

    old_parent_id = task.parent_id
    if name:
        task.name = name
    if description is not None:
        task.description = description
    task.start_date, task.finish_date, task.is_milestone = new_start, new_finish, is_milestone
    if assignees is not None:
        task.assignees = assignees
    moved = parent_given and (parent.id if parent else None) != old_parent_id
    if moved:
        task.parent_id = parent.id if parent else None
        db.session.flush()
        _renumber_after_leaving(pid, old_parent_id)
    if moved or position is not None:
        _place(task, position)
    _stamp(task)
    db.session.flush()
    _roll_up(task.parent_id)
    if moved:
        _roll_up(old_parent_id)
    if state is not None:
        set_task_state(task, state, "person")
    db.session.commit()
    return task


def change_task_state(actor: User, project_id: str, task_id: str, data: Any) -> Task:
    """A person sets a task's state (the drawer's control): `{"state": …}`, member and above."""
    access = load_project(actor, project_id, Role.member, write=True)
    lock_sequence(access.project.id)
    task = _live_task(access.project.id, task_id)
    data = require_mapping(data)
    errors = ValidationCollector()
    if "state" not in data:
        errors.add("state", "Choose a state: " + ", ".join(TASK_STATES) + ".")
    state = _state_from(data, task, errors)
    errors.raise_if_any()
    assert state is not None
    set_task_state(task, state, "person")
    db.session.commit()
    return task


def _renumber_after_leaving(project_id: str, parent_id: str | None) -> None:
    siblings = list(
        db.session.scalars(
            select(Task)
            .where(
                Task.project_id == project_id,
                Task.parent_id.is_(None) if parent_id is None else Task.parent_id == parent_id,
                Task.deleted_at.is_(None),
            )
            .order_by(Task.position, Task.created_at, Task.id)
        )
    )
    for number, sibling in enumerate(siblings):
        if sibling.position != number:
            sibling.position = number
            _stamp(sibling)


def delete_task(actor: User, project_id: str, task_id: str) -> list[str]:
    """Soft-deletes the task and its subtasks; returns the removed ids."""
    access = load_project(actor, project_id, Role.member, write=True)
    lock_sequence(access.project.id)
    task = _live_task(access.project.id, task_id)
    removed = [task.id, *_descendant_ids(access.project.id, task.id)]
    now = utcnow()
    for row in db.session.scalars(select(Task).where(Task.id.in_(removed))):
        row.deleted_at = now
        _stamp(row)
    for hook in TASK_REMOVAL_HOOKS:
        hook(access.project.id, removed)
    db.session.flush()
    _renumber_after_leaving(access.project.id, task.parent_id)
    _roll_up(task.parent_id)
    db.session.commit()
    return removed
