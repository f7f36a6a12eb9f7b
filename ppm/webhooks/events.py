"""What each provider event means for ppm (SPEC §13, §15): one table per provider from the event
name to a reader of its payload. The status mapping is the one refresh uses (§6, §18).

Review and CI events (§15) name the pull or merge requests to refresh (`review_events.Refresh`);
the delivery queues those refreshes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ppm.integrations.providers import github, gitlab
from ppm.integrations.providers.base import RefreshFailed, UnrepresentableTime, plain_title, provider_time
from ppm.links.pushed import PushedState
from ppm.webhooks import review_events
from ppm.webhooks.review_events import Refresh


class BadPayload(Exception):
    """The body is not the payload this event promises; `detail` says what is missing."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Apply:
    """Apply `state` to the links that point at the object at `url`."""

    url: str
    state: PushedState


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


def _pushed(obj: Mapping[str, Any], url_key: str, status: str) -> Apply:
    return Apply(_url(obj, url_key), PushedState(status, plain_title(obj.get("title")), _updated_at(obj)))


# --- GitHub ---------------------------------------------------------------------------


def github_pull_request(payload: Mapping[str, Any]) -> Outcome:
    pull = _object(payload, "pull_request", "pull_request")
    return _pushed(pull, "html_url", _status(github.pull_request_status, pull))


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


def gitlab_merge_request(payload: Mapping[str, Any]) -> Outcome:
    attrs = _object(payload, "object_attributes", "Merge Request Hook")
    return _pushed(attrs, "url", _status(gitlab.merge_request_status, attrs))


def gitlab_issue(payload: Mapping[str, Any]) -> Outcome:
    attrs = _object(payload, "object_attributes", "Issue Hook")
    return _pushed(attrs, "url", _status(gitlab.issue_status, attrs))


GITLAB_EVENTS: dict[str, Reader] = {
    "Merge Request Hook": gitlab_merge_request,
    "Issue Hook": gitlab_issue,
    "Confidential Issue Hook": gitlab_issue,
    # §15: queue a refresh of the pipeline's merge request links.
    "Pipeline Hook": review_events.gitlab_pipeline,
}

EVENTS: dict[str, dict[str, Reader]] = {"github": GITHUB_EVENTS, "gitlab": GITLAB_EVENTS}
