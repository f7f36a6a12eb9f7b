"""Portfolio (SPEC §22): every project the person belongs to, one row each, read-only.

Every figure comes from the definitions the schedule uses, imported, never copied: the link
statuses and their order (`ppm.links.status`), the per-link attention bits and the per-task codes
(`ppm.links.attention.link_bits` / `task_bits`). Three queries for any number of projects, tasks
and links: the person's projects with their roles, one aggregate over their tasks (links grouped
per task first, as the schedule's roll-up does, then tasks grouped per project), and their
webhook receivers; on PostgreSQL a fourth sets the aggregate's memory for the transaction.
Sorting and the filters run on the rows in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from ppm import models_base
from ppm.auth.models import User
from ppm.errors import ValidationError
from ppm.extensions import db
from ppm.links import attention
from ppm.links.models import TaskLink
from ppm.links.status import PRECEDENCE
from ppm.projects.models import Membership, Project, Role, Task
from ppm.webhooks.models import WebhookReceiver

SORTS = ("attention", "name", "finish_date")
DEFAULT_SORT = "attention"
# The status columns in the order SPEC §22 names them; the set is the schedule's (PRECEDENCE).
STATUSES = ("open", "draft", "merged", "closed", "unknown")
assert set(STATUSES) == set(PRECEDENCE)
# The statuses counted by name; a link with any other value counts as unknown, as the roll-up's
# rank does (ppm.links.status.rank_expression).
_NAMED = tuple(status for status in STATUSES if status != "unknown")
_TRUE = ("1", "true", "on", "yes")
_FALSE = ("", "0", "false", "off", "no")


# --- the choices: sort and filters, from and back to the URL ----------------------------


@dataclass(frozen=True)
class Choices:
    sort: str = DEFAULT_SORT
    attention_only: bool = False
    include_archived: bool = False

    def query(self, **changes: Any) -> str:
        """The query string of these choices (with `changes`), defaults left out: "" or "?…"."""
        chosen = replace(self, **changes)
        params: list[tuple[str, str]] = []
        if chosen.sort != DEFAULT_SORT:
            params.append(("sort", chosen.sort))
        if chosen.attention_only:
            params.append(("attention_only", "1"))
        if chosen.include_archived:
            params.append(("include_archived", "1"))
        return "?" + urlencode(params) if params else ""


def parse_choices(args: Mapping[str, str], strict: bool = True) -> Choices:
    """`?sort=&attention_only=&include_archived=`. Strict (the JSON API): a wrong value is a 400
    `validation_error` naming the parameter. Lenient (the page): a wrong value is the default, as
    the schedule page treats an unknown view."""
    errors: dict[str, list[str]] = {}
    sort = (args.get("sort") or DEFAULT_SORT).strip()
    if sort not in SORTS:
        errors["sort"] = [f"Unknown sort “{sort[:40]}”. Use one of: {', '.join(SORTS)}."]
        sort = DEFAULT_SORT
    flags: dict[str, bool] = {}
    for name in ("attention_only", "include_archived"):
        raw = (args.get(name) or "").strip().lower()
        if raw not in _TRUE and raw not in _FALSE:
            errors[name] = [f"{name} must be 1 or 0 (or true or false), not “{raw[:40]}”."]
        flags[name] = raw in _TRUE
    if errors and strict:
        raise ValidationError(errors)
    return Choices(sort=sort, **flags)


# --- the rows -----------------------------------------------------------------------------


@dataclass
class ProjectHealth:
    id: str
    key: str | None
    name: str
    role: Role
    archived: bool
    total: int = 0  # leaf tasks
    done: int = 0
    finish_date: date | None = None  # the latest of its live tasks
    late: bool = False
    links: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    attention: dict[str, int] = field(default_factory=lambda: dict.fromkeys(attention.CODES, 0))
    webhook_count: int = 0
    last_delivery_at: datetime | None = None
    last_delivery_result: str | None = None

    @property
    def attention_total(self) -> int:
        return sum(self.attention.values())

    @property
    def link_total(self) -> int:
        return sum(self.links.values())


def portfolio(actor: User, choices: Choices) -> list[ProjectHealth]:
    """The person's projects with their health, filtered and sorted as chosen: three queries (four
    on PostgreSQL), whatever the number of projects, tasks and links."""
    projects = _projects(actor, choices.include_archived)
    if projects:
        _room_for_the_aggregate()
        _add_task_figures(actor, choices.include_archived, projects)
        _add_webhooks(actor, choices.include_archived, projects)
    rows = list(projects.values())
    if choices.attention_only:
        rows = [row for row in rows if row.attention_total]
    return sort_rows(rows, choices.sort)


def sort_rows(rows: list[ProjectHealth], sort: str) -> list[ProjectHealth]:
    """By name (A–Z); by attention total, most first; by finish date, soonest first, projects
    without tasks last. Ties by name, then id, so the order is stable."""
    rows = sorted(rows, key=lambda row: (row.name.casefold(), row.name, row.id))
    if sort == "attention":
        rows.sort(key=lambda row: -row.attention_total)
    elif sort == "finish_date":
        rows.sort(key=lambda row: (row.finish_date is None, row.finish_date or date.min))
    return rows


def _member_of(actor: User, include_archived: bool) -> Any:
    """The ids of the projects shown: the person is a member, and archived only when asked."""
    query = select(Membership.project_id).where(Membership.user_id == actor.id)
    if not include_archived:
        query = query.join(Project, Project.id == Membership.project_id).where(Project.archived.is_(False))
    return query


def _projects(actor: User, include_archived: bool) -> dict[str, ProjectHealth]:
    query = (
        select(Project.id, Project.key, Project.name, Project.archived, Membership.role)
        .join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == actor.id)
    )
    if not include_archived:
        query = query.where(Project.archived.is_(False))
    return {
        row.id: ProjectHealth(id=row.id, key=row.key, name=row.name, role=Role[row.role], archived=row.archived)
        for row in db.session.execute(query)
    }


def _is_done() -> ColumnElement[bool]:
    """A task that is done (SPEC §21); a summary task's state is kept derived from its leaves."""
    return Task.state == "done"


# Hashing the links of 100,000 tasks by task takes about 30 MB; with PostgreSQL's default 4 MB the
# planner sorts them on disk instead (twice the time), and its JIT compiles the query for longer
# than it then runs. Before the tables are analysed (right after a bulk load) it may also take
# them for nearly empty and re-aggregate the links once per task in a nested loop (minutes at
# 4,000 links); the aggregate never gains from one. These settings last until this request's
# transaction ends (set_config's `is_local`), so nothing else in the process or server changes.
_POSTGRESQL_SETTINGS = {"work_mem": "64MB", "jit": "off", "enable_nestloop": "off"}


def _room_for_the_aggregate() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(*(func.set_config(name, value, True) for name, value in _POSTGRESQL_SETTINGS.items()))
        )


def _links_per_task(project_ids: Any) -> Any:
    """Per task of those projects: its live links counted per status and the attention bits of
    its links (ppm.links.attention), aggregated before the join as the schedule's roll-up is."""
    return (
        select(
            TaskLink.task_id.label("task_id"),
            func.count().label("link_count"),
            *(func.count(case((TaskLink.status == status, 1))).label(f"n_{status}") for status in _NAMED),
            attention.link_bits().label("attention_bits"),
        )
        .where(TaskLink.project_id.in_(project_ids), TaskLink.deleted_at.is_(None))
        .group_by(TaskLink.task_id)
        .subquery()
    )


def _add_task_figures(actor: User, include_archived: bool, projects: dict[str, ProjectHealth]) -> None:
    """One query: per project and per combination of attention codes (the task's bits, at most
    2**6 of them), its tasks' figures; the codes are then counted from the bits, as the schedule's
    bar counts them (`ppm.schedule.attention.count_codes`), so the task's bits are computed once
    per task. Late (SPEC §22: a leaf task not done past its finish date) is SPEC §21's `overdue`
    code, so the one definition decides both."""
    today = models_base.utc_today()
    project_ids = _member_of(actor, include_archived)
    links = _links_per_task(project_ids)
    bits = attention.task_bits(links.c.attention_bits, today).label("bits")
    leaf = Task.is_summary.is_(False)
    zero_if_none = func.coalesce
    query = (
        select(
            Task.project_id,
            bits,
            func.count().label("tasks"),
            func.count(case((leaf, 1))).label("total"),
            func.count(case((and_(leaf, _is_done()), 1))).label("done"),
            func.max(Task.finish_date).label("finish_date"),
            func.sum(zero_if_none(links.c.link_count, 0)).label("link_count"),
            *(func.sum(zero_if_none(links.c[f"n_{status}"], 0)).label(f"n_{status}") for status in _NAMED),
        )
        .outerjoin(links, links.c.task_id == Task.id)
        .where(Task.project_id.in_(project_ids), Task.deleted_at.is_(None))
        .group_by(Task.project_id, bits)
    )
    seen: set[str] = set()
    for row in db.session.execute(query):
        health = projects.get(row.project_id)
        if health is None:
            continue
        if row.project_id not in seen:  # the first group of this project: start from nothing
            seen.add(row.project_id)
            health.links = dict.fromkeys(STATUSES, 0)
            health.attention = dict.fromkeys(attention.CODES, 0)
        health.total += int(row.total or 0)
        health.done += int(row.done or 0)
        finish = _as_date(row.finish_date)
        if finish is not None and (health.finish_date is None or finish > health.finish_date):
            health.finish_date = finish
        named = {status: int(getattr(row, f"n_{status}") or 0) for status in _NAMED}
        for status, count in named.items():
            health.links[status] += count
        health.links["unknown"] += int(row.link_count or 0) - sum(named.values())
        for code in attention.codes_of(row.bits):
            health.attention[code] += int(row.tasks)
        health.late = health.late or bool(int(row.bits or 0) & attention.BITS["overdue"])


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))  # SQLite's MAX of a date column is its text


def _add_webhooks(actor: User, include_archived: bool, projects: dict[str, ProjectHealth]) -> None:
    """One query: every receiver of those projects; the latest delivery among a project's
    receivers gives its time and result."""
    query = select(
        WebhookReceiver.project_id, WebhookReceiver.last_delivery_at, WebhookReceiver.last_delivery_result
    ).where(WebhookReceiver.project_id.in_(_member_of(actor, include_archived)))
    for project_id, delivered_at, result in db.session.execute(query):
        health = projects.get(project_id)
        if health is None:
            continue
        health.webhook_count += 1
        if delivered_at is not None and (health.last_delivery_at is None or delivered_at > health.last_delivery_at):
            health.last_delivery_at, health.last_delivery_result = delivered_at, result
