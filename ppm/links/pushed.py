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

from sqlalchemy import func, insert, or_, select, update

from ppm import events
from ppm.events import LinkChanged, LinkState
from ppm.extensions import db
from ppm.links import changes as link_changes
from ppm.links.attention import link_kind
from ppm.links.models import LinkRemoval, TaskLink
from ppm.links.status import RANK
from ppm.models_base import new_id, utcnow
from ppm.projects import services as projects
from ppm.projects.models import Task


@dataclass(frozen=True)
class PushedState:
    status: str  # open | draft | merged | closed
    title: str  # "" keeps the cached title
    updated_at: datetime | None  # the provider's version of the object
    # SPEC §26, internal: the head commit (GitHub `head.sha`, GitLab `last_commit.id`) and a merge
    # request's source branch; None leaves what the link knows.
    head_sha: str | None = None
    source_branch: str | None = None


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
                TaskLink.head_sha,
                TaskLink.source_branch,
                TaskLink.closes_set_by_person,
            ).where(TaskLink.project_id == project_id, TaskLink.id.in_(link_ids), TaskLink.deleted_at.is_(None))
        )
    )


def _is_older(row: Any, state: PushedState) -> bool:
    """A version older to the second, or one without a time once a time was applied."""
    known = row.provider_updated_at
    return known is not None and (state.updated_at is None or older_version(state.updated_at, known))


def _needs_internal_write(row: Any, state: PushedState) -> bool:
    """A newer head commit or source branch (a push: `synchronize`) is kept even when nothing a
    person sees changes, so CI events for that commit find the link (SPEC §26)."""
    if _is_older(row, state):
        return False
    return bool(
        (state.head_sha and state.head_sha != row.head_sha)
        or (state.source_branch and state.source_branch != row.source_branch)
    )


def _needs_write(row: Any, state: PushedState) -> bool:
    """Never backwards (a version older to the second, or one without a time once a time was
    applied); and a delivery that changes nothing a person sees moves nothing."""
    if _is_older(row, state):
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
    current = _current(project_id, link_ids)
    rows = [row for row in current if _needs_write(row, state)]
    _write_head([row for row in current if row not in rows and _needs_internal_write(row, state)], state)
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
                "head_sha": state.head_sha or row.head_sha,
                "source_branch": state.source_branch or row.source_branch,
                "sync_number": number,
                "updated_at": now,
            }
            for row, number in zip(rows, numbers, strict=True)
        ],
    )
    # The one link-write path's announcement, per changed link, from the rows already read:
    # no query per link (listeners run after the whole batch is written).
    for row in rows:
        after = link_changes.state_of(_Written(row, state.status, state.title or row.title))
        link_changes.announce(project_id, row.task_id, row.id, link_changes.state_of(row), after)
    return len(rows)


class _Written:
    """A candidate row as the batch wrote it (status and title replaced)."""

    def __init__(self, row: Any, status: str, title: str) -> None:
        self._row, self.status, self.title = row, status, title

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def _write_head(rows: list[Any], state: PushedState) -> None:
    """Internal fields only: no sync number, no `fetched_at` (nothing a person sees changed)."""
    if not rows:
        return
    db.session.execute(
        update(TaskLink),
        [
            {
                "id": row.id,
                "head_sha": state.head_sha or row.head_sha,
                "source_branch": state.source_branch or row.source_branch,
            }
            for row in rows
        ],
    )


# --- automatic links (SPEC §20) -------------------------------------------------------


@dataclass(frozen=True)
class NamedTasks:
    """A pull or merge request that names task keys: the object's canonical address (stored as
    a new link's url, with its duplicate key), the self-hosted root ("" on a SaaS host), the
    object's identity for remembered removals, and per task number whether it closes."""

    url: str
    url_key: str
    base_url: str
    object: str
    intents: dict[int, bool]


def _named_task_ids(project_id: str, intents: dict[int, bool]) -> dict[str, bool]:
    """Live tasks of the project by number -> whether the delivery closes them (one query)."""
    if not intents:
        return {}
    rows = db.session.execute(
        select(Task.id, Task.number).where(
            Task.project_id == project_id, Task.number.in_(list(intents)), Task.deleted_at.is_(None)
        )
    )
    return {row.id: intents[row.number] for row in rows}


def _removed_on(task_ids: list[str], obj: str) -> set[str]:
    if not task_ids:
        return set()
    rows = db.session.scalars(
        select(LinkRemoval.task_id).where(LinkRemoval.object == obj, LinkRemoval.task_id.in_(task_ids))
    )
    return set(rows)


def _next_positions(task_ids: list[str]) -> dict[str, int]:
    if not task_ids:
        return {}
    rows = db.session.execute(
        select(TaskLink.task_id, func.max(TaskLink.position))
        .where(TaskLink.task_id.in_(task_ids))
        .group_by(TaskLink.task_id)
    )
    last = {task_id: position for task_id, position in rows}
    return {task_id: (last[task_id] + 1 if last.get(task_id) is not None else 0) for task_id in task_ids}


def _older(row: Any, state: PushedState) -> bool:
    """The delivery is an older version than the one the link applied (as `_needs_write`)."""
    known = row.provider_updated_at
    return known is not None and (state.updated_at is None or older_version(state.updated_at, known))


def _already_linked(task_ids: list[str], url_key: str) -> set[str]:
    """Named tasks with a live link to the object's own address, read under the lock: a link a
    racing delivery made after the caller matched links is not made twice."""
    if not task_ids or not url_key:
        return set()
    rows = db.session.scalars(
        select(TaskLink.task_id).where(
            TaskLink.task_id.in_(task_ids), TaskLink.url_key == url_key, TaskLink.deleted_at.is_(None)
        )
    )
    return set(rows)


def _link_state(
    status: str, checks: str | None, review: str | None, closes: bool, kind: str, url: str, title: str
) -> LinkState:
    return LinkState(
        status=status, checks=checks, review=review, closes=closes, kind=kind, url=url, display_title=title
    )


def apply_pull_request(
    project_id: str, provider: str, link_ids: list[str], state: PushedState, named: NamedTasks
) -> tuple[int, int]:
    """A pull or merge request delivery (SPEC §13, §20), inside the caller's transaction (the
    caller holds the project lock; `link_ids` are the live links to the object it matched
    before): its state goes to those links, as `apply_pushed_state`; links to it on the tasks
    it names follow its closing intent unless a person set theirs; each named live task without
    a link to it, and whose link to it a person never removed, gets an automatic one. Returns
    (links changed, links created). A handful of queries whatever the number of links and keys."""
    if state.status not in RANK:
        return 0, 0
    intents = _named_task_ids(project_id, named.intents)
    rows = _current(project_id, link_ids) if link_ids else []
    now = utcnow()
    changes: list[tuple[Any, bool, bool]] = []  # (row, state written, closes after)
    for row in rows:
        closes = row.closes
        intent = intents.get(row.task_id)
        if intent is not None and not row.closes_set_by_person and not _older(row, state):
            closes = intent
        writes_state = _needs_write(row, state)
        if writes_state or closes != row.closes:
            changes.append((row, writes_state, closes))
    changed_ids = {row.id for row, _writes, _closes in changes}
    _write_head([row for row in rows if row.id not in changed_ids and _needs_internal_write(row, state)], state)
    linked = {row.task_id for row in rows}
    unlinked = [task_id for task_id in intents if task_id not in linked]
    linked = _already_linked(unlinked, named.url_key)
    unlinked = [task_id for task_id in unlinked if task_id not in linked]
    removed = _removed_on(unlinked, named.object)
    creating = [task_id for task_id in unlinked if task_id not in removed]
    positions = _next_positions(creating)
    numbers = projects.next_sync_numbers(project_id, len(changes) + len(creating))
    if changes:
        db.session.execute(
            update(TaskLink),
            [
                {
                    "id": row.id,
                    "status": state.status if writes else row.status,
                    "title": (state.title or row.title) if writes else row.title,
                    "fetched_at": now if writes else row.fetched_at,
                    "refresh_error": None if writes else row.refresh_error,
                    "provider_updated_at": (state.updated_at or row.provider_updated_at)
                    if writes
                    else row.provider_updated_at,
                    "head_sha": (state.head_sha or row.head_sha)
                    if writes or _needs_internal_write(row, state)
                    else row.head_sha,
                    "source_branch": (state.source_branch or row.source_branch)
                    if writes or _needs_internal_write(row, state)
                    else row.source_branch,
                    "closes": closes,
                    "sync_number": sync_number,
                    "updated_at": now,
                }
                for (row, writes, closes), sync_number in zip(changes, numbers, strict=False)
            ],
        )
    title = state.title[:300]
    new_rows: list[dict[str, Any]] = [
        {
            "id": new_id(),
            "project_id": project_id,
            "task_id": task_id,
            "url": named.url,
            "url_key": named.url_key,
            "provider": provider,
            "base_url": named.base_url,
            "title": title,
            "status": state.status,
            "fetched_at": now,
            "provider_updated_at": state.updated_at,
            "head_sha": state.head_sha,
            "source_branch": state.source_branch,
            "position": positions[task_id],
            "source": "auto",
            "closes": intents[task_id],
            "sync_number": sync_number,
            "created_at": now,
            "updated_at": now,
        }
        for task_id, sync_number in zip(creating, numbers[len(changes) :], strict=True)
    ]
    if new_rows:
        db.session.execute(insert(TaskLink), new_rows)
    for row, writes, closes in changes:
        status = state.status if writes else row.status
        shown = row.custom_title or ((state.title or row.title) if writes else row.title) or row.url
        events.emit(
            LinkChanged(
                project_id,
                row.task_id,
                row.id,
                _link_state(
                    row.status,
                    row.checks,
                    row.review,
                    row.closes,
                    row.kind,
                    row.url,
                    row.custom_title or row.title or row.url,
                ),
                _link_state(status, row.checks, row.review, closes, row.kind, row.url, shown),
            )
        )
    for new in new_rows:
        kind = link_kind(provider, named.url, named.base_url)
        events.emit(
            LinkChanged(
                project_id,
                new["task_id"],
                new["id"],
                None,
                _link_state(state.status, None, None, new["closes"], kind, named.url, title or named.url),
            )
        )
    return len(changes), len(new_rows)
