"""In-process events inside a writer's transaction (ARCHITECTURE, part three).

A lower room (links, projects) announces what changed; rooms above it (automations,
notifications) subscribe at app start. Listeners run synchronously in the writer's transaction,
so a change, what it causes and its outbox row commit together or not at all. Listeners never
call out (no HTTP, no Redis) and never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

E = TypeVar("E")

_listeners: dict[type, list[Callable[[Any], None]]] = {}


def subscribe(kind: type[E], listener: Callable[[E], None]) -> None:
    """Registers `listener` for events of `kind`; registering the same one twice is a no-op,
    so app factories called once per test don't stack listeners."""
    bucket = _listeners.setdefault(kind, [])
    if listener not in bucket:
        bucket.append(listener)


def emit(event: object) -> None:
    """Runs every listener of the event's type, in subscription order, in the caller's
    transaction. An exception propagates: the writer's transaction then rolls back whole."""
    for listener in list(_listeners.get(type(event), ())):
        listener(event)


@dataclass(frozen=True)
class LinkState:
    """What a link looked like before or after a write: the fields that events care about."""

    status: str
    checks: str | None
    review: str | None
    closes: bool
    kind: str  # pull | issue | file | … (TaskLink.kind)
    url: str
    display_title: str


@dataclass(frozen=True)
class LinkChanged:
    """A live link was added (before is None), changed, or removed (after is None)."""

    project_id: str
    task_id: str
    link_id: str
    before: LinkState | None
    after: LinkState | None


@dataclass(frozen=True)
class TaskStateChanged:
    """A task's state moved (a person's edit or an automation)."""

    project_id: str
    task_id: str
    before: str
    after: str
    source: str  # person | automation
    link_id: str | None = None  # the link whose change caused an automation


@dataclass(frozen=True)
class TaskChanged:
    """A task's own fields were edited (dates, milestone, place): what the attention codes of
    SPEC §16 may depend on besides its links. Emitted by projects' task update."""

    project_id: str
    task_id: str
