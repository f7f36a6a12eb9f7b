"""The one link-write path's announcement (ARCHITECTURE, part three): every write of a live
link (add, edit, remove, refresh, a delivery, an automatic link) ends here, inside its
transaction, with what the link looked like before and after. Rooms above links (automations,
notifications) listen through `ppm.events`; links never imports them."""

from __future__ import annotations

from typing import Any

from ppm import events
from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.models_base import utcnow
from ppm.projects import services as projects


def state_of(link: Any) -> events.LinkState:
    """A TaskLink, or a row of a column query with the same names, as events see it."""
    return events.LinkState(
        status=link.status,
        checks=link.checks,
        review=link.review,
        closes=bool(link.closes),
        kind=link.kind or "",
        url=link.url,
        display_title=link.custom_title or link.title or link.url,
    )


def announce(
    project_id: str, task_id: str, link_id: str, before: events.LinkState | None, after: events.LinkState | None
) -> None:
    """Emits LinkChanged when something events care about moved (or the link came or went)."""
    if before is not None and after is not None and before == after:
        return
    events.emit(events.LinkChanged(project_id=project_id, task_id=task_id, link_id=link_id, before=before, after=after))


def written(link: TaskLink, before: events.LinkState | None) -> None:
    """A single link's write: its sync number (SPEC §9), then the announcement (the link is
    flushed, so a new one has its id and listeners' queries see it)."""
    link.sync_number = projects.next_sync_number(link.project_id)
    link.updated_at = utcnow()
    db.session.flush()
    after = None if link.deleted_at is not None else state_of(link)
    announce(link.project_id, link.task_id, link.id, before, after)
