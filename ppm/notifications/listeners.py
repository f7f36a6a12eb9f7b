"""The events notifications listen to (ppm.events), subscribed at app start. Each writes outbox
rows in the writer's transaction; none calls out or commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ppm import events
from ppm.notifications import services

LIVE_KINDS = ("pull", "issue")  # git links: the ones with a status, checks and review


def _link_fields(state: events.LinkState) -> dict[str, Any]:
    return {"status": state.status, "checks": state.checks, "review": state.review}


def on_link_changed(event: events.LinkChanged) -> None:
    before, after = event.before, event.after
    if before is not None and after is not None and (before.kind in LIVE_KINDS or after.kind in LIVE_KINDS):
        previous, current = _link_fields(before), _link_fields(after)
        if previous != current:
            to = services.listening(event.project_id, "link.status_changed")
            if to:
                link = {"id": event.link_id, "url": after.url, "display_title": after.display_title, **current}
                services.enqueue(
                    event.project_id,
                    event.task_id,
                    "link.status_changed",
                    {"link": link, "previous": previous, "current": current},
                    to,
                )
    services.attention_check(event.project_id, event.task_id)


def on_task_state_changed(event: events.TaskStateChanged) -> None:
    if event.before == event.after:
        return
    to = services.listening(event.project_id, "task.state_changed")
    services.enqueue(
        event.project_id,
        event.task_id,
        "task.state_changed",
        {"previous": {"state": event.before}, "current": {"state": event.after}, "source": event.source},
        to,
    )
    services.attention_check(event.project_id, event.task_id)  # a done task is not overdue


def on_task_changed(event: events.TaskChanged) -> None:
    services.attention_check(event.project_id, event.task_id)


def subscribe() -> None:
    if not sa_event.contains(Session, "after_transaction_end", services.forget_listening):
        sa_event.listen(Session, "after_transaction_end", services.forget_listening)
    events.subscribe(events.LinkChanged, on_link_changed)
    events.subscribe(events.TaskStateChanged, on_task_state_changed)
    events.subscribe(events.TaskChanged, on_task_changed)
