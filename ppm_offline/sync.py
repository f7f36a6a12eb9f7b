"""The sync loop of SPEC §9: ask for `since=cursor`, apply the page, repeat while `has_more`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ppm_offline.remote import BadResponse
from ppm_offline.store import Store

# (since, limit) -> the decoded JSON page
FetchPage = Callable[[int, int], dict[str, Any]]


@dataclass
class SyncResult:
    pages: int = 0
    tasks_updated: int = 0
    tasks_deleted: int = 0
    links_updated: int = 0
    links_deleted: int = 0
    cursor: int = 0
    complete: bool = False  # False when stopped by max_pages while the server had more

    @property
    def changes(self) -> int:
        return self.tasks_updated + self.tasks_deleted + self.links_updated + self.links_deleted


def check_page(page: Any, since: int) -> dict[str, Any]:
    """The page, if it is the shape SPEC §9 promises for this `since`; else BadResponse."""

    def bad(why: str) -> BadResponse:
        return BadResponse(f"The server's sync answer is not valid: {why}.")

    if not isinstance(page, dict):
        raise bad("not a JSON object")
    for key in ("since", "cursor"):
        value = page.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(f"`{key}` is not a non-negative integer")
    if page["since"] != since:
        raise bad(f"it answers since={page['since']}, not the since={since} asked for")
    if page["cursor"] < since:
        raise bad("the cursor went backwards")
    if not isinstance(page.get("has_more"), bool):
        raise bad("`has_more` is not true or false")
    if page["has_more"] and page["cursor"] == since:
        raise bad("it says there is more but the cursor did not move")
    for group in ("tasks", "task_links"):
        section = page.get(group)
        if not isinstance(section, dict):
            raise bad(f"`{group}` is missing")
        updated, deleted = section.get("updated"), section.get("deleted")
        if not isinstance(updated, list) or not all(
            isinstance(row, dict) and isinstance(row.get("id"), str) for row in updated
        ):
            raise bad(f"`{group}.updated` is not a list of objects with ids")
        if not isinstance(deleted, list) or not all(isinstance(i, str) for i in deleted):
            raise bad(f"`{group}.deleted` is not a list of ids")
        if group == "task_links" and not all(isinstance(row.get("task_id"), str) for row in updated):
            raise bad("a link has no `task_id`")
    return page


def sync_project(
    store: Store,
    project_id: str,
    server: str,
    fetch: FetchPage,
    *,
    limit: int = 500,
    full: bool = False,
    max_pages: int | None = None,
) -> SyncResult:
    """Brings the local copy of `project_id` up to date, page by page, from its stored cursor.

    Each page is applied with its cursor in one local transaction: stopping at any point (the
    server goes away, Ctrl+C) loses nothing, and the next run resumes from there."""
    state = store.start(project_id, server, full=full)
    result = SyncResult(cursor=state.cursor)
    since = state.cursor
    while max_pages is None or result.pages < max_pages:
        page = check_page(fetch(since, limit), since)
        store.apply_page(project_id, page)
        result.pages += 1
        result.tasks_updated += len(page["tasks"]["updated"])
        result.tasks_deleted += len(page["tasks"]["deleted"])
        result.links_updated += len(page["task_links"]["updated"])
        result.links_deleted += len(page["task_links"]["deleted"])
        result.cursor = since = page["cursor"]
        if not page["has_more"]:
            result.complete = True
            break
    return result
