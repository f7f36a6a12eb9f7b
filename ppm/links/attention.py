"""Needs attention (SPEC §16): why a task needs a look, most urgent first.

The codes are computed in SQL, in the same listing query as the link roll-up (SPEC §8): the
roll-up subquery carries one integer of per-link bits (`link_bits`), and the listing turns it
into the task's bits (`task_bits`), so a filter or the bar's counts never cost a query per task.
Bit i stands for CODES[i]; the `overdue_open` bit starts as "has open or draft work" and only
survives when the task's finish date is before today (UTC) and it is not done. `overdue` (SPEC
§21) comes from the task alone: not done and finishing before today, milestones included.
This is the one definition of each code: the schedule, the JSON and the portfolio import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Integer, String, and_, case, cast, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ppm import models_base
from ppm.errors import ValidationError
from ppm.extensions import db
from ppm.integrations.registry import TASK_LINK_PROVIDERS
from ppm.links.models import TaskLink
from ppm.projects.models import Task

CODES = ("closed_unmerged", "failing_checks", "changes_requested", "overdue_open", "overdue", "stale")
BITS = {code: 1 << index for index, code in enumerate(CODES)}
LABELS = {
    "closed_unmerged": "Closed without merge",
    "failing_checks": "Failing checks",
    "changes_requested": "Changes requested",
    "overdue_open": "Overdue with open work",
    "overdue": "Overdue",
    "stale": "Stale",
}
STALE_AFTER = timedelta(hours=24)
PULL, ISSUE = "pull", "issue"


# --- what a link points at --------------------------------------------------------------


def link_kind(provider_id: str, url: str, base_url: str) -> str:
    """PULL (a pull or merge request), ISSUE, or "" (no live status: commits, pages, files).
    The provider decides what has a live status; the path says which of the two it is."""
    provider = TASK_LINK_PROVIDERS.get(provider_id)
    path = urlsplit(url).path
    if base_url:
        path = path[len(urlsplit(base_url).path.rstrip("/")) :]
    if provider is None or provider.has_live_status is None or not provider.has_live_status(path):
        return ""
    parts = [part for part in path.split("/") if part]
    if provider_id == "github":
        return PULL if parts[2] == "pull" else ISSUE
    after_dash = parts[parts.index("-") + 1] if "-" in parts else ""
    return PULL if after_dash == "merge_requests" else ISSUE


# --- in SQL ---------------------------------------------------------------------------


def _has_refresh_error() -> ColumnElement[bool]:
    # A cleared error is stored as JSON null, a never-set one as SQL NULL: neither counts.
    return and_(TaskLink.refresh_error.is_not(None), cast(TaskLink.refresh_error, String) != "null")


def link_bits(now: datetime | None = None) -> ColumnElement[int]:
    """An aggregate for the roll-up's GROUP BY task_id over live links: the OR of the link-side
    bits, as a sum of one MAX per code (portable: SQLite has no BIT_OR)."""
    now = now or models_base.utcnow()
    flags = {
        "closed_unmerged": and_(TaskLink.kind == PULL, TaskLink.status == "closed"),
        # checks and review are null for everything but pull and merge requests (SPEC §15).
        "failing_checks": TaskLink.checks == "failing",
        "changes_requested": TaskLink.review == "changes_requested",
        "overdue_open": TaskLink.status.in_(("open", "draft")),
        "stale": and_(
            TaskLink.kind != "",
            or_(TaskLink.fetched_at.is_(None), TaskLink.fetched_at < now - STALE_AFTER, _has_refresh_error()),
        ),
    }
    total: ColumnElement[int] = sum(  # type: ignore[assignment]
        (func.max(case((flag, BITS[code]), else_=0)) for code, flag in flags.items()),
        start=_zero(),
    )
    return total


def _zero() -> ColumnElement[int]:
    return cast(0, Integer)


def _and(value: ColumnElement[int], bits: int) -> ColumnElement[int]:
    return value.op("&", precedence=6, return_type=Integer)(bits)


def task_bits(link_bits_column: Any, today: Any = None) -> ColumnElement[int]:
    """The task's bits from its links' bits and its own state and dates: none on summary tasks;
    on milestones only `overdue`; open work is only a reason when the finish date is before today
    and the task is not done, and `overdue` is a task not done finishing before today."""
    today = today or models_base.utc_today()
    bits = func.coalesce(link_bits_column, 0)
    late = and_(Task.finish_date < today, Task.state != "done")
    without_open = bits - _and(bits, BITS["overdue_open"])
    return case(
        (Task.is_summary.is_(True), 0),
        (Task.is_milestone.is_(True), case((late, BITS["overdue"]), else_=0)),
        (late, bits + BITS["overdue"]),
        else_=without_open,
    )


def mask(codes: Iterable[str]) -> int:
    return sum(BITS[code] for code in set(codes))


# --- in Python ------------------------------------------------------------------------


def codes_of(bits: int | None) -> list[str]:
    """The codes in SPEC §16 order."""
    value = int(bits or 0)
    return [code for code in CODES if value & BITS[code]]


def parse_filter(values: Iterable[str]) -> tuple[str, ...]:
    """`?attention=a,b` (the parameter may repeat): the codes asked for, in SPEC order, or a 400
    on `attention` naming what is not a code. Blank means no filter."""
    asked = [part.strip() for value in values for part in value.split(",") if part.strip()]
    unknown = [code for code in asked if code not in BITS]
    if unknown:
        shown = ", ".join(f"“{code[:40]}”" for code in unknown[:3])
        raise ValidationError({"attention": [f"Unknown attention code {shown}. Use any of: {', '.join(CODES)}."]})
    return tuple(code for code in CODES if code in asked)


def _bits_per_task(project_id: str) -> Any:
    """The link-side bits per task on their own (the listing gets them from the roll-up)."""
    return (
        select(TaskLink.task_id.label("task_id"), link_bits().label("attention_bits"))
        .where(TaskLink.project_id == project_id, TaskLink.deleted_at.is_(None))
        .group_by(TaskLink.task_id)
        .subquery()
    )


def bits_query(project_id: str) -> Any:
    """Every live task's id and bits, from one query."""
    links = _bits_per_task(project_id)
    return (
        select(Task.id, task_bits(links.c.attention_bits).label("bits"))
        .outerjoin(links, links.c.task_id == Task.id)
        .where(Task.project_id == project_id, Task.deleted_at.is_(None))
    )


def task_codes(task: Task) -> list[str]:
    """One task's codes (the JSON detail): one query."""
    row = db.session.execute(bits_query(task.project_id).where(Task.id == task.id)).first()
    return codes_of(row.bits if row else 0)
