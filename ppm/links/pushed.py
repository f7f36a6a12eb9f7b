"""State a provider pushed to ppm (a webhook delivery, SPEC §13), applied to every live link of
one project that points at the object. One SELECT of candidates and one UPDATE batch, whatever
the number of links; each changed link gets its own sync number, as a refresh would give it."""

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


def _candidates(project_id: str, provider: str, number: str) -> list[Any]:
    """Live links of the project and provider whose address has `/<number>` as a whole segment:
    a cheap filter in SQL; the caller's matcher decides exactly."""
    segment = f"/{number}"
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
                TaskLink.base_url,
                TaskLink.status,
                TaskLink.title,
                TaskLink.fetched_at,
                TaskLink.refresh_error,
                TaskLink.provider_updated_at,
            ).where(
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
    )


def _needs_write(row: Any, state: PushedState) -> bool:
    """Never backwards; and a delivery that changes nothing a person sees moves nothing."""
    known = _aware(row.provider_updated_at)
    if state.updated_at is not None and known is not None and state.updated_at < known:
        return False
    title = state.title or row.title
    return bool(
        row.status != state.status or row.title != title or row.refresh_error is not None or row.fetched_at is None
    )


def apply_pushed_state(project_id: str, provider: str, number: str, state: PushedState, matches: LinkMatcher) -> int:
    """Writes `state` to the matching links inside the caller's transaction (the caller holds
    the project lock); returns how many links changed."""
    if state.status not in RANK:
        return 0
    rows = [
        row
        for row in _candidates(project_id, provider, number)
        if matches(row.url, row.base_url) and _needs_write(row, state)
    ]
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
