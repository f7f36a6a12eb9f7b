"""Which links a review or CI event is about (SPEC §15): the live pull and merge request links of
the receiver's project that point at the addresses the event names, or, when it names none, the
ones whose head commit is the event's SHA (kept from refreshes and from pull and merge request
deliveries, SPEC §26); a GitLab branch pipeline whose SHA no link has yet, the merge requests of
its repository whose source branch is its `ref`. One query per address (an event names one or a
few), one for all SHAs and one for the branch; never a query per link."""

from __future__ import annotations

from sqlalchemy import select

from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.webhooks.matching import link_matcher, object_key, object_number
from ppm.webhooks.review_events import Refresh

# An event naming more pull requests than this is read for its first ones only.
MOST_ADDRESSES = 50


def matching_link_ids(project_id: str, provider: str, event: Refresh) -> list[str]:
    if event.urls:
        found: dict[str, None] = {}
        for url in event.urls[:MOST_ADDRESSES]:
            found.update(dict.fromkeys(_links_to(project_id, provider, url)))
        return list(found)
    at_head = _links_at(project_id, provider, event.shas) if event.shas else []
    if at_head or not (event.ref and event.project_url):
        return at_head
    return _links_on_branch(project_id, provider, event.ref, event.project_url)


def _links_at(project_id: str, provider: str, shas: tuple[str, ...]) -> list[str]:
    return list(
        db.session.scalars(
            select(TaskLink.id)
            .where(
                TaskLink.project_id == project_id,
                TaskLink.provider == provider,
                TaskLink.deleted_at.is_(None),
                TaskLink.head_sha.in_(shas),
            )
            .order_by(TaskLink.id)
        )
    )


def _links_on_branch(project_id: str, provider: str, ref: str, project_url: str) -> list[str]:
    """SPEC §26: a branch pipeline whose commit no link knows yet (it ran before the merge
    request's own delivery or refresh told ppm) finds the merge requests of that repository whose
    source branch is its `ref`."""
    rows = db.session.execute(
        select(TaskLink.id, TaskLink.url, TaskLink.base_url)
        .where(
            TaskLink.project_id == project_id,
            TaskLink.provider == provider,
            TaskLink.deleted_at.is_(None),
            TaskLink.kind == "pull",
            TaskLink.source_branch == ref,
        )
        .order_by(TaskLink.id)
    )
    found = []
    for row in rows:
        key = object_key(provider, row.url, row.base_url)
        if key is None:
            continue
        # The pipeline's project, read as a merge request of the same number: same host and path?
        same = object_key(provider, f"{project_url.rstrip('/')}/-/merge_requests/{key.number}", row.base_url)
        if same == key:
            found.append(row.id)
    return found


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
