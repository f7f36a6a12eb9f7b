"""Which links a review or CI event is about (SPEC §15): the live pull and merge request links of
the receiver's project that point at the addresses the event names, or, when it names none, the
ones whose head commit is the event's SHA. One query per address (an event names one or a few)
or one for all SHAs; never a query per link."""

from __future__ import annotations

from sqlalchemy import select

from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.webhooks.matching import link_matcher, object_number
from ppm.webhooks.review_events import Refresh

# An event naming more pull requests than this is read for its first ones only.
MOST_ADDRESSES = 50


def matching_link_ids(project_id: str, provider: str, event: Refresh) -> list[str]:
    if event.urls:
        found: dict[str, None] = {}
        for url in event.urls[:MOST_ADDRESSES]:
            found.update(dict.fromkeys(_links_to(project_id, provider, url)))
        return list(found)
    if not event.shas:
        return []
    return list(
        db.session.scalars(
            select(TaskLink.id)
            .where(
                TaskLink.project_id == project_id,
                TaskLink.provider == provider,
                TaskLink.deleted_at.is_(None),
                TaskLink.head_sha.in_(event.shas),
            )
            .order_by(TaskLink.id)
        )
    )


def _links_to(project_id: str, provider: str, url: str) -> list[str]:
    number = object_number(provider, url)
    if number is None:
        return []
    matches = link_matcher(provider, url)
    segment = f"/{number}"
    rows = db.session.execute(
        select(TaskLink.id, TaskLink.url, TaskLink.base_url)
        .where(
            TaskLink.project_id == project_id,
            TaskLink.provider == provider,
            TaskLink.deleted_at.is_(None),
            TaskLink.kind == "pull",
            TaskLink.url_key.contains(segment, autoescape=True),  # a cheap filter; the matcher decides
        )
        .order_by(TaskLink.id)
    )
    return [row.id for row in rows if matches(row.url, row.base_url)]
