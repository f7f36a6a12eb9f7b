"""Gitea / Forgejo bodies for tests (SPEC §24), built field by field from Gitea's own API
description and webhook structs (go-gitea/gitea, MIT licence):

- API answers follow the swagger definitions in `templates/swagger/v1_json.tmpl`, which are
  generated from `modules/structs`: `User` (user.go), `PullRequest` and `PRBranchInfo` (pull.go),
  `Issue` (issue.go), `PullReview` (pull_review.go; `state` is a `ReviewStateType`: APPROVED,
  PENDING, COMMENT, REQUEST_CHANGES, REQUEST_REVIEW), `CombinedStatus` and `CommitStatus`
  (status.go; `state` is a `CommitStatusState`: pending, success, error, failure, warning).
- Deliveries follow `modules/structs/hook.go`: `PullRequestPayload` (action, number,
  pull_request, requested_reviewer, repository, sender, commit_id, review), `IssuePayload`
  (action, number, issue, repository, sender, commit_id) and `CommitStatusPayload` (id, sha,
  context, description, state, target_url, commit, repository, sender, created_at, updated_at).
  The event names are `HookEventType.Event()` of `modules/webhook/type.go`; the headers those
  that `services/webhook/deliver.go` sets (X-Gitea-*, and X-Forgejo-* on Forgejo).

Only the keys ppm reads and their neighbours are filled; values are illustrative. Times are
what Gitea's JSON encoder writes for a `time.Time`: RFC 3339 with the server's offset.
"""

from __future__ import annotations

import copy
from typing import Any

HEAD_SHA = "b0f1c3a5d7e9f1a3c5e7b9d1f3a5c7e9b1d3f5a7"
REPO_HTML = "https://codeberg.org/forgejo/website"


def _user(login: str, ident: int) -> dict[str, Any]:
    """swagger `User`."""
    return {
        "id": ident,
        "login": login,
        "login_name": "",
        "full_name": login.title(),
        "email": f"{login}@noreply.codeberg.org",
        "avatar_url": f"https://codeberg.org/avatars/{ident}",
        "html_url": f"https://codeberg.org/{login}",
        "language": "en-US",
        "is_admin": False,
        "last_login": "2026-11-30T09:12:44+01:00",
        "created": "2021-03-02T10:00:00+01:00",
        "restricted": False,
        "active": True,
        "prohibit_login": False,
        "location": "",
        "website": "",
        "description": "",
        "visibility": "public",
        "followers_count": 3,
        "following_count": 1,
        "starred_repos_count": 7,
        "username": login,
    }


USER = _user("earl-warren", 12)


def _repository(html: str = REPO_HTML) -> dict[str, Any]:
    """swagger `Repository` (the keys a payload reader might look at)."""
    owner, name = html.rstrip("/").split("/")[-2:]
    return {
        "id": 77,
        "owner": _user(owner, 5),
        "name": name,
        "full_name": f"{owner}/{name}",
        "private": False,
        "fork": False,
        "html_url": html,
        "clone_url": f"{html}.git",
        "default_branch": "main",
        "updated_at": "2026-12-01T12:00:00+01:00",
    }


def _branch(ref: str, sha: str, html: str = REPO_HTML) -> dict[str, Any]:
    """swagger `PRBranchInfo`."""
    return {"label": ref, "ref": ref, "sha": sha, "repo_id": 77, "repo": _repository(html)}


def pull_request(number: int = 7, html: str = REPO_HTML, **changes: Any) -> dict[str, Any]:
    """swagger `PullRequest`: open, not merged, not a draft, one requested reviewer."""
    body: dict[str, Any] = {
        "id": 4242,
        "url": f"{html}/pulls/{number}",
        "number": number,
        "user": _user("gusted", 31),
        "title": "Update the contribution guide",
        "body": "The guide still names the old mailing list.",
        "labels": [],
        "milestone": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [_user("earl-warren", 12)],
        "requested_reviewers_teams": [],
        "state": "open",
        "draft": False,
        "is_locked": False,
        "comments": 2,
        "review_comments": 0,
        "additions": 12,
        "deletions": 3,
        "changed_files": 1,
        "html_url": f"{html}/pulls/{number}",
        "diff_url": f"{html}/pulls/{number}.diff",
        "patch_url": f"{html}/pulls/{number}.patch",
        "mergeable": True,
        "merged": False,
        "merged_at": None,
        "merge_commit_sha": None,
        "merged_by": None,
        "allow_maintainer_edit": False,
        "base": _branch("main", "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b", html),
        "head": _branch("contrib-guide", HEAD_SHA, html),
        "merge_base": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b",
        "due_date": None,
        "created_at": "2026-12-01T10:00:00+01:00",
        "updated_at": "2026-12-02T11:30:00+01:00",
        "closed_at": None,
        "pin_order": 0,
    }
    body.update(changes)
    return body


def issue(number: int = 3, html: str = REPO_HTML, **changes: Any) -> dict[str, Any]:
    """swagger `Issue`: an open issue (`pull_request` null: not a pull request)."""
    body: dict[str, Any] = {
        "id": 5151,
        "url": f"{html.replace('https://codeberg.org', 'https://codeberg.org/api/v1/repos')}/issues/{number}",
        "html_url": f"{html}/issues/{number}",
        "number": number,
        "user": _user("gusted", 31),
        "original_author": "",
        "original_author_id": 0,
        "title": "Broken link on the download page",
        "body": "The link to the signing key answers 404.",
        "ref": "",
        "labels": [],
        "milestone": None,
        "assignee": None,
        "assignees": None,
        "state": "open",
        "is_locked": False,
        "comments": 0,
        "created_at": "2026-11-28T08:00:00+01:00",
        "updated_at": "2026-12-02T09:45:00+01:00",
        "closed_at": None,
        "due_date": None,
        "pull_request": None,
        "repository": {"id": 77, "name": "website", "owner": "forgejo", "full_name": "forgejo/website"},
        "pin_order": 0,
    }
    body.update(changes)
    return body


def review(ident: int, login: str, user_id: int, state: str, *, dismissed: bool = False) -> dict[str, Any]:
    """swagger `PullReview`."""
    return {
        "id": ident,
        "user": _user(login, user_id),
        "team": None,
        "state": state,
        "body": "",
        "commit_id": HEAD_SHA,
        "stale": False,
        "official": state in ("APPROVED", "REQUEST_CHANGES"),
        "dismissed": dismissed,
        "comments_count": 0,
        "submitted_at": "2026-12-02T11:00:00+01:00",
        "updated_at": "2026-12-02T11:00:00+01:00",
        "html_url": f"{REPO_HTML}/pulls/7#issuecomment-{ident}",
        "pull_request_url": f"{REPO_HTML}/pulls/7",
    }


def commit_status(ident: int, state: str, context: str = "ci/woodpecker/push/test") -> dict[str, Any]:
    """swagger `CommitStatus`."""
    return {
        "id": ident,
        "status": state,
        "target_url": f"https://ci.codeberg.org/repos/77/pipeline/{ident}",
        "description": f"Pipeline {state}",
        "url": f"https://codeberg.org/api/v1/repos/forgejo/website/statuses/{HEAD_SHA}",
        "context": context,
        "creator": _user("woodpecker", 90),
        "created_at": "2026-12-02T11:05:00+01:00",
        "updated_at": "2026-12-02T11:09:00+01:00",
    }


def combined_status(state: str, statuses: list[dict[str, Any]]) -> dict[str, Any]:
    """swagger `CombinedStatus` (an empty one is what Gitea answers for a commit without CI)."""
    return {
        "state": state,
        "sha": HEAD_SHA,
        "total_count": len(statuses),
        "statuses": statuses,
        "repository": _repository(),
        "commit_url": f"https://codeberg.org/api/v1/repos/forgejo/website/commits/{HEAD_SHA}",
        "url": f"https://codeberg.org/api/v1/repos/forgejo/website/commits/{HEAD_SHA}/status",
    }


# --- deliveries (modules/structs/hook.go) ------------------------------------------------


def pull_request_payload(action: str = "opened", **pull_changes: Any) -> dict[str, Any]:
    """`PullRequestPayload` as delivered for X-Gitea-Event: pull_request."""
    pull = pull_request(**pull_changes)
    return {
        "action": action,
        "number": pull["number"],
        "pull_request": pull,
        "requested_reviewer": None,
        "repository": _repository(pull["html_url"].rsplit("/pulls/", 1)[0]),
        "sender": _user("gusted", 31),
        "commit_id": "",
        "review": None,
    }


def review_payload(kind: str, **pull_changes: Any) -> dict[str, Any]:
    """`PullRequestPayload` with its `review` (`ReviewPayload`), as for pull_request_approved /
    pull_request_rejected: `kind` is the review's type (`pull_request_review_approved`, …)."""
    payload = pull_request_payload("reviewed", **pull_changes)
    payload["review"] = {"type": kind, "content": "Looks good to me."}
    return payload


def issue_payload(action: str = "opened", **issue_changes: Any) -> dict[str, Any]:
    """`IssuePayload` as delivered for X-Gitea-Event: issues."""
    found = issue(**issue_changes)
    return {
        "action": action,
        "number": found["number"],
        "issue": found,
        "repository": _repository(found["html_url"].rsplit("/issues/", 1)[0]),
        "sender": _user("gusted", 31),
        "commit_id": "",
    }


def status_payload(state: str = "success", sha: str = HEAD_SHA) -> dict[str, Any]:
    """`CommitStatusPayload` as delivered for X-Gitea-Event: status."""
    return {
        "commit": {"id": sha, "message": "Update the contribution guide\n", "url": f"{REPO_HTML}/commit/{sha}"},
        "context": "ci/woodpecker/push/test",
        "created_at": "2026-12-02T11:05:00+01:00",
        "description": f"Pipeline {state}",
        "id": 901,
        "repository": _repository(),
        "sender": _user("woodpecker", 90),
        "sha": sha,
        "state": state,
        "target_url": "https://ci.codeberg.org/repos/77/pipeline/12",
        "updated_at": "2026-12-02T11:09:00+01:00",
    }


def fresh(body: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(body)
