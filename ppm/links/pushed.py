"""State a provider pushed to ppm (a webhook delivery, SPEC §13), applied to every live link of
one project that points at the object. One SELECT of candidates and one UPDATE batch, whatever
the number of links; each changed link gets its own sync number, as a refresh would give it.

Finding the links (`matching_link_ids`: parsing and matching addresses) happens before the
project lock is taken; only the few writes happen under it (SPEC §27)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update

from ppm.extensions import db
from ppm.links import changes
from ppm.links.models import TaskLink
from ppm.links.status import RANK
from ppm.models_base import utcnow
from ppm.projects import services as projects


@dataclass(frozen=True)
class PushedState:
    status: str  # open | draft | merged | closed
    title: str  # "" keeps the cached title
    updated_at: datetime | None  # the provider's version of the object


# (link url, link base_url) -> whether the link points at the pushed object
LinkMatcher = Callable[[str, str], bool]


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes, which are UTC here."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def older_version(new: datetime, known: datetime | None) -> bool:
    """Is the provider's `new` version older than the `known` one? Compared to the second: API
    times may carry milliseconds, webhook times never do (SPEC §26)."""
    if known is None:
        return False
    known = _aware(known)
    assert known is not None
    return _aware(new).replace(microsecond=0) < known.replace(microsecond=0)  # type: ignore[union-attr]


def matching_link_ids(project_id: str, provider: str, number: str, matches: LinkMatcher) -> list[str]:
    """Live links of the project and provider that point at the object: a cheap filter in SQL
    (the address has `/<number>` as a whole segment), then the matcher decides exactly. A read
    only: the caller takes no lock for it."""
    segment = f"/{number}"
    rows = db.session.execute(
        select(TaskLink.id, TaskLink.url, TaskLink.base_url).where(
            TaskLink.project_id == project_id,
            TaskLink.provider == provider,
            TaskLink.deleted_at.is_(None),
            or_(
                TaskLink.url_key.like(f"%{segment}"),
                TaskLink.url_key.like(f"%{segment}/%"),
                TaskLink.url_key.like(f"%{segment}?%"),
                TaskLink.url_key.like(f"%{segment}#%"),
            ),
        )
    )
    return [row.id for row in rows if matches(row.url, row.base_url)]


def _current(project_id: str, link_ids: list[str]) -> list[Any]:
    """The matched links as they are now, under the lock (removed ones drop out)."""
    return list(
        db.session.execute(
            select(
                TaskLink.id,
                TaskLink.task_id,
                TaskLink.kind,
                TaskLink.custom_title,
                TaskLink.checks,
                TaskLink.review,
                TaskLink.closes,
                TaskLink.url,
                TaskLink.status,
                TaskLink.title,
                TaskLink.fetched_at,
                TaskLink.refresh_error,
                TaskLink.provider_updated_at,
            ).where(TaskLink.project_id == project_id, TaskLink.id.in_(link_ids), TaskLink.deleted_at.is_(None))
        )
    )


def _needs_write(row: Any, state: PushedState) -> bool:
    """Never backwards (a version older to the second, or one without a time once a time was
    applied); and a delivery that changes nothing a person sees moves nothing."""
    known = row.provider_updated_at
    if known is not None and (state.updated_at is None or older_version(state.updated_at, known)):
        return False
    title = state.title or row.title
    return bool(
        row.status != state.status or row.title != title or row.refresh_error is not None or row.fetched_at is None
    )


def apply_pushed_state(project_id: str, link_ids: list[str], state: PushedState) -> int:
    """Writes `state` to the matched links inside the caller's transaction (the caller holds
    the project lock); returns how many links changed."""
    if state.status not in RANK or not link_ids:
        return 0
    rows = [row for row in _current(project_id, link_ids) if _needs_write(row, state)]
    if not rows:
        return 0
    now = utcnow()
    numbers = projects.next_sync_numbers(project_id, len(rows))
    db.session.execute(
        update(TaskLink),
        [
            {
                "id": row.id,
                "status": state.status,
                "title": state.title or row.title,
                "fetched_at": now,
                "refresh_error": None,
                "provider_updated_at": state.updated_at or row.provider_updated_at,
                "sync_number": number,
                "updated_at": now,
            }
            for row, number in zip(rows, numbers, strict=True)
        ],
    )
    # The one link-write path's announcement, per changed link, from the rows already read:
    # no query per link (listeners run after the whole batch is written).
    for row in rows:
        after = changes.state_of(_Written(row, state.status, state.title or row.title))
        changes.announce(project_id, row.task_id, row.id, changes.state_of(row), after)
    return len(rows)


class _Written:
    """A candidate row as the batch wrote it (status and title replaced)."""

    def __init__(self, row: Any, status: str, title: str) -> None:
        self._row, self.status, self.title = row, status, title

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)
