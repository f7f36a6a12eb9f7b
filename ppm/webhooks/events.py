"""What each provider event means for ppm (SPEC §13, §15): one table per provider from the event
name to a reader of its payload. The status mapping is the one refresh uses (§6, §18).

Review and CI events (§15) name the pull or merge requests to refresh (`review_events.Refresh`);
the delivery queues those refreshes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ppm.integrations.providers import gitea, github, gitlab
from ppm.integrations.providers.base import RefreshFailed, UnrepresentableTime, plain_title, provider_time
from ppm.integrations.registry import provider_for_host
from ppm.links.pushed import PushedState
from ppm.webhooks import review_events
from ppm.webhooks.review_events import Refresh


class BadPayload(Exception):
    """The body is not the payload this event promises; `detail` says what is missing."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Named:
    """Where a pull or merge request may name task keys (SPEC §20), and the root of the host it
    lives on ("" on github.com and gitlab.com), for the links made from it."""

    branch: str
    title: str
    body: str
    base_url: str


@dataclass(frozen=True)
class Apply:
    """Apply `state` to the links that point at the object at `url`; a pull or merge request
    also says where it names task keys (`named`)."""

    url: str
    state: PushedState
    named: Named | None = None


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Later:
    """Known, but handled by a later part of ppm (§15 review and CI: the job queue)."""


Outcome = Apply | Ping | Later | Refresh | None  # None: processed, nothing to apply
Reader = Callable[[Mapping[str, Any]], Outcome]


def _object(payload: Mapping[str, Any], key: str, label: str) -> Mapping[str, Any]:
    value = payload.get(key)
    if not isinstance(value, dict):
        raise BadPayload(f"The {label} payload has no “{key}” object.")
    return value


def _url(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadPayload(f"The payload's object has no “{key}”.")
    return value.strip()


def _status(mapping: Callable[[Mapping[str, Any]], str], obj: Mapping[str, Any]) -> str:
    """The provider's own status mapping, the one refresh uses (§6, §18)."""
    try:
        return mapping(obj)
    except RefreshFailed:
        raise BadPayload("The payload's object has no state ppm knows.") from None


def _updated_at(obj: Mapping[str, Any]) -> Any:
    try:
        return provider_time(obj.get("updated_at"))
    except UnrepresentableTime:
        raise BadPayload("The payload's “updated_at” is a time that cannot be represented.") from None


def _pushed(
    obj: Mapping[str, Any], url_key: str, status: str, head_sha: str | None = None, source_branch: str | None = None
) -> Apply:
    state = PushedState(status, plain_title(obj.get("title")), _updated_at(obj), head_sha, source_branch)
    return Apply(_url(obj, url_key), state)


def _sha(value: Any) -> str | None:
    found = review_events.sha_of(value)
    return found[0] if found else None


def _branch(value: Any) -> str | None:
    """A branch name as GitLab sends it (`source_branch`); at most 255 characters are kept."""
    return value.strip()[:255] if isinstance(value, str) and value.strip() else None


# --- GitHub ---------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _root(url: str, web_url: Any, path: Any) -> str:
    """The self-hosted root an object's address lives under: the repository's address without
    its path (`https://git.example.com/gitlab` for `…/gitlab/group/app`); "" on a SaaS host or
    when the payload does not say."""
    if provider_for_host((urlsplit(url).hostname or "").lower()).id != "generic":
        return ""
    web, repository = _text(web_url).rstrip("/"), _text(path).strip("/")
    if not web or not repository or not web.lower().endswith("/" + repository.lower()):
        return ""
    root = web[: len(web) - len(repository) - 1]
    return root if url.lower().startswith(root.lower() + "/") else ""


def github_pull_request(payload: Mapping[str, Any]) -> Outcome:
    pull = _object(payload, "pull_request", "pull_request")
    head, repository = _dict(pull.get("head")), _dict(payload.get("repository"))
    # SPEC §26: every action (`synchronize` included) says the head commit CI events name.
    sha = _sha(head.get("sha"))
    applied = _pushed(pull, "html_url", _status(github.pull_request_status, pull), sha)
    if not isinstance(applied, Apply):
        return applied
    named = Named(
        _text(head.get("ref")),
        _text(pull.get("title")),
        _text(pull.get("body")),
        _root(applied.url, repository.get("html_url"), repository.get("full_name")),
    )
    return replace(applied, named=named)


def github_issue(payload: Mapping[str, Any]) -> Outcome:
    issue = _object(payload, "issue", "issues")
    if "pull_request" in issue:
        return None  # a pull request seen as an issue: its own pull_request events say more
    return _pushed(issue, "html_url", _status(github.issue_status, issue))


def ping(payload: Mapping[str, Any]) -> Outcome:
    return Ping()


GITHUB_EVENTS: dict[str, Reader] = {
    "ping": ping,
    "pull_request": github_pull_request,
    "issues": github_issue,
    # §15: queue a refresh of the matching links.
    "check_suite": review_events.github_check("check_suite"),
    "check_run": review_events.github_check("check_run"),
    "status": review_events.github_status,
    "pull_request_review": review_events.github_pull_request_review,
}


# --- GitLab ---------------------------------------------------------------------------


# SPEC §26: approval actions change no state a delivery carries; the review is read again.
APPROVAL_ACTIONS = frozenset({"approved", "approval", "unapproved", "unapproval"})


def gitlab_merge_request(payload: Mapping[str, Any]) -> Outcome:
    attrs = _object(payload, "object_attributes", "Merge Request Hook")
    if attrs.get("action") in APPROVAL_ACTIONS:
        return Refresh((_url(attrs, "url"),))
    last_commit = attrs.get("last_commit")
    sha = _sha(last_commit.get("id") if isinstance(last_commit, dict) else None)
    status = _status(gitlab.merge_request_status, attrs)
    applied = _pushed(attrs, "url", status, sha, _branch(attrs.get("source_branch")))
    if not isinstance(applied, Apply):
        return applied
    project = _dict(payload.get("project"))
    named = Named(
        _text(attrs.get("source_branch")),
        _text(attrs.get("title")),
        _text(attrs.get("description")),
        _root(applied.url, project.get("web_url"), project.get("path_with_namespace")),
    )
    return replace(applied, named=named)


def gitlab_system_hook(payload: Mapping[str, Any]) -> Outcome:
    """SPEC §26: a System Hook's merge request events carry the Merge Request Hook's payload
    (`object_kind: merge_request`); its other events are not ppm's business."""
    if payload.get("object_kind") == "merge_request" or payload.get("event_type") == "merge_request":
        return gitlab_merge_request(payload)
    return Later()


def gitlab_issue(payload: Mapping[str, Any]) -> Outcome:
    attrs = _object(payload, "object_attributes", "Issue Hook")
    return _pushed(attrs, "url", _status(gitlab.issue_status, attrs))


GITLAB_EVENTS: dict[str, Reader] = {
    "Merge Request Hook": gitlab_merge_request,
    "System Hook": gitlab_system_hook,
    "Issue Hook": gitlab_issue,
    "Confidential Issue Hook": gitlab_issue,
    # §15: queue a refresh of the pipeline's merge request links.
    "Pipeline Hook": review_events.gitlab_pipeline,
}


# --- Gitea and Forgejo (SPEC §24) -----------------------------------------------------


def gitea_pull_request(payload: Mapping[str, Any]) -> Outcome:
    pull = _object(payload, "pull_request", "pull_request")
    head = pull.get("head")
    # As §26 for GitHub: every action (`synchronized` included) says the head commit `status` names.
    sha = _sha(head.get("sha") if isinstance(head, dict) else None)
    return _pushed(pull, "html_url", _status(gitea.pull_request_status, pull), sha)


def gitea_issue(payload: Mapping[str, Any]) -> Outcome:
    issue = _object(payload, "issue", "issues")
    if isinstance(issue.get("pull_request"), dict):
        return None  # a pull request seen as an issue: its own pull_request events say more
    return _pushed(issue, "html_url", _status(gitea.issue_status, issue))


# The `X-Gitea-Event` / `X-Forgejo-Event` names: Gitea folds assign, label, milestone, sync and
# review-request changes into `pull_request` and `issues`; reviews arrive as their own events
# carrying the pull request, and a commit status as `status` (its `sha`).
GITEA_EVENTS: dict[str, Reader] = {
    "pull_request": gitea_pull_request,
    "issues": gitea_issue,
    # §15: queue a refresh of the matching links.
    "pull_request_approved": review_events.github_pull_request_review,
    "pull_request_rejected": review_events.github_pull_request_review,
    "pull_request_review": review_events.github_pull_request_review,
    "status": review_events.github_status,
}

EVENTS: dict[str, dict[str, Reader]] = {"github": GITHUB_EVENTS, "gitlab": GITLAB_EVENTS, "gitea": GITEA_EVENTS}
