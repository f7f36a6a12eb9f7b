"""Shared by the sync and offline-client tests: stand-ins for the providers, the server's live
state read straight from the database, and a page fetcher over the Flask test client."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import responses
from sqlalchemy import select

from ppm.extensions import db
from ppm.integrations import services as accounts
from ppm.links.models import TaskLink
from ppm.links.serializers import link_json
from ppm.projects.models import Task
from ppm.projects.serializers import task_sync_json

GITHUB_API = "https://api.github.com"
# Fake public answers for the stub resolver; the connect guard never lets them leave loopback.
NAMES = {
    "api.github.com": "140.82.112.5",
    "github.com": "140.82.112.5",
    "drive.google.com": "142.250.74.46",
    "docs.google.com": "142.250.74.46",
}
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5" * 3 + "abcdef"
SYNC = "/api/v1/projects/{}/sync/"


def connect_github(mock: responses.RequestsMock, user: Any) -> None:
    """Stores a real (encrypted) GitHub credential for `user` through the connect service."""
    mock.get(f"{GITHUB_API}/user", json={"login": "octocat"}, headers={"X-OAuth-Scopes": "repo"})
    accounts.connect(user, "github", {"token": GITHUB_TOKEN})


@dataclass
class World:
    """What the outside world says right now: pull request states and share pages.

    `pulls[number]` is "open" | "draft" | "merged" | "closed" | an HTTP status (int) for a
    failure; `files[file_id]` is a (title, description) card or an HTTP status for a private
    or failing share page. Unknown entries answer 404."""

    pulls: dict[int, Any] = field(default_factory=dict)
    files: dict[str, Any] = field(default_factory=dict)

    def install(self, mock: responses.RequestsMock) -> None:
        mock.add_callback(
            responses.GET, re.compile(rf"{re.escape(GITHUB_API)}/repos/acme/api/pulls/\d+"), callback=self._pull
        )
        mock.add_callback(
            responses.GET, re.compile(r"https://drive\.google\.com/file/d/[^/]+/view"), callback=self._file
        )

    def _pull(self, request: Any) -> tuple[int, dict[str, str], str]:
        number = int(request.url.rsplit("/", 1)[1])
        state = self.pulls.get(number, 404)
        if isinstance(state, int):
            return state, {"Content-Type": "application/json"}, json.dumps({"message": "no"})
        body = {
            "number": number,
            "title": f"PR {number} ({state})",
            "state": "closed" if state in ("merged", "closed") else "open",
            "draft": state == "draft",
            "merged": state == "merged",
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def _file(self, request: Any) -> tuple[int, dict[str, str], str]:
        file_id = request.url.split("/file/d/", 1)[1].split("/", 1)[0]
        card = self.files.get(file_id, 404)
        if isinstance(card, int):
            return card, {"Content-Type": "text/html"}, "<html><body>no</body></html>"
        title, description = card
        page = (
            f'<html><head><meta property="og:title" content="{title}">'
            f'<meta property="og:description" content="{description}">'
            f'<meta property="og:image" content="https://lh3.googleusercontent.com/{file_id}.png">'
            f"<title>{title} - Google Drive</title></head><body></body></html>"
        )
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page


def live_state(project_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """({task id: sync JSON}, {link id: JSON}) of the project's live rows, read afresh."""
    db.session.expire_all()
    tasks = db.session.scalars(select(Task).where(Task.project_id == project_id, Task.deleted_at.is_(None)))
    links = db.session.scalars(select(TaskLink).where(TaskLink.project_id == project_id, TaskLink.deleted_at.is_(None)))
    return {t.id: task_sync_json(t) for t in tasks}, {link.id: link_json(link) for link in links}


def removed_ids(project_id: str) -> tuple[set[str], set[str]]:
    tasks = db.session.scalars(select(Task.id).where(Task.project_id == project_id, Task.deleted_at.is_not(None)))
    links = db.session.scalars(
        select(TaskLink.id).where(TaskLink.project_id == project_id, TaskLink.deleted_at.is_not(None))
    )
    return set(tasks), set(links)


def api_fetcher(client: Any, project_id: str) -> Callable[[int, int], dict[str, Any]]:
    """A `ppm_offline.sync.FetchPage` over the Flask test client (asserting a 200)."""

    def fetch(since: int, limit: int) -> dict[str, Any]:
        response = client.api("GET", SYNC.format(project_id) + f"?since={since}&limit={limit}")
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        assert isinstance(page, dict)
        assert page["since"] == since, page
        check_page_invariants(page)
        assert row_count(page) <= limit, page
        return page

    return fetch


def check_page_invariants(page: dict[str, Any]) -> None:
    """What any one page must hold, whatever the data: each row at most once, never both
    updated and deleted, at most `limit` rows, the cursor not behind `since`."""
    assert page["cursor"] >= page["since"], page
    for group in ("tasks", "task_links"):
        updated = [row["id"] for row in page[group]["updated"]]
        deleted = page[group]["deleted"]
        assert len(set(updated)) == len(updated), page
        assert len(set(deleted)) == len(deleted), page
        assert not set(updated) & set(deleted), page
    rows = row_count(page)
    if rows == 0:
        assert page["cursor"] == page["since"] and page["has_more"] is False, page
    else:
        assert page["cursor"] > page["since"], page
    for task in page["tasks"]["updated"]:
        assert "external_link_summary" not in task, task


def row_count(page: dict[str, Any]) -> int:
    return sum(len(page[g][k]) for g in ("tasks", "task_links") for k in ("updated", "deleted"))
