"""GitLab.com and self-hosted GitLab (CE/EE, also under a relative root): verification (SPEC §5)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from ppm.integrations.providers import review
from ppm.integrations.providers.base import (
    COMMIT_SHA,
    CredentialCheckFailed,
    NotModified,
    RefreshFailed,
    StatusResult,
    VerifiedAccount,
    call,
    check_status,
    clean_text,
    fetch_json,
    json_object,
    log,
    plain_title,
    provider_time,
    recalled,
    record_extras,
    remembered_call,
    required_state,
)

SAAS_ROOT = "https://gitlab.com"
SAAS_HOSTS = frozenset({"gitlab.com", "www.gitlab.com"})
NEEDED_SCOPES = ("read_api", "api")
SCOPE_HELP = (
    "This GitLab token needs read_api: ppm reads merge requests and issues with that scope "
    "(“api” works too). Create a token with read_api and paste it here."
)


def api_root(base_url: str) -> str:
    return f"{base_url or SAAS_ROOT}/api/v4"


def auth_headers(token: str) -> dict[str, str]:
    return {"PRIVATE-TOKEN": token, "Accept": "application/json"}


def _expiry(value: Any) -> datetime | None:
    """GitLab reports the day a token expires; it stops working at the start of that day (UTC)."""
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def verify(token: str, base_url: str) -> VerifiedAccount:
    root = api_root(base_url)
    headers = auth_headers(token)
    response = call("GitLab", f"{root}/user", headers)
    check_status("GitLab", response, SCOPE_HELP)
    username = json_object("GitLab", response).get("username")
    login = clean_text(username, 255) if isinstance(username, str) else ""
    if not login:
        raise CredentialCheckFailed(
            "provider_unreachable", "GitLab gave an answer without an account name. Is the host URL right?"
        )
    details = call("GitLab", f"{root}/personal_access_tokens/self", headers)
    if details.status == 404:
        return VerifiedAccount(login=login)  # GitLab before 15.5 has no such route: scopes unknown
    if details.status == 400:
        # GitLab answers 400 here for any token that is not a personal access token.
        raise CredentialCheckFailed(
            "token_rejected",
            "The provider rejected this token: GitLab says it is not a personal access token. "
            "ppm supports only personal access tokens: create one under Preferences → Access tokens.",
        )
    check_status("GitLab", details, SCOPE_HELP)
    info = json_object("GitLab", details)
    raw_scopes = info.get("scopes")
    scopes = [clean_text(str(s), 100) for s in raw_scopes] if isinstance(raw_scopes, list) else None
    if scopes is not None and not any(s in scopes for s in NEEDED_SCOPES):
        raise CredentialCheckFailed("insufficient_scope", SCOPE_HELP)
    return VerifiedAccount(login=login, scopes=scopes, expires_at=_expiry(info.get("expires_at")))


# --- link status ----------------------------------------------------------------------


# The three addresses of a project issue: the classic page, gitlab.com's newer work item page,
# and an incident (an issue of type incident). All are read from the issues endpoint.
_ISSUE_SHAPES = (("issues",), ("work_items",), ("issues", "incident"))


def object_ref(path: str) -> tuple[str, str, str] | None:
    """(project path, kind, id) of the object a path below the GitLab root points at, with kind
    `merge_requests`, `issues` (every issue shape folded into one) or `commit`; None for anything
    else, including group-level work items (`groups/{group}/-/work_items/N`, epics) which are not
    project items. `group/sub/project/-/merge_requests/5/diffs` → ("group/sub/project",
    "merge_requests", "5"). Webhook matching reads it too, so one issue is one issue."""
    parts = [p for p in path.split("/") if p]
    if "-" not in parts or parts[0] == "groups":
        return None
    dash = parts.index("-")
    project, rest = parts[:dash], parts[dash + 1 :]
    if len(project) < 2 or len(rest) < 2:
        return None
    for shape in _ISSUE_SHAPES:
        width = len(shape)
        if tuple(rest[:width]) == shape and len(rest) > width and rest[width].isdigit():
            return "/".join(project), "issues", rest[width]
    kind, ident = rest[0], rest[1]
    if kind == "merge_requests" and ident.isdigit():
        return "/".join(project), kind, ident
    if kind == "commit" and COMMIT_SHA.fullmatch(ident):
        return "/".join(project), kind, ident
    return None


def has_live_status(path: str) -> bool:
    ref = object_ref(path)
    return ref is not None and ref[1] in ("merge_requests", "issues")


def fetch_status(token: str, base_url: str, path: str) -> StatusResult:
    ref = object_ref(path)
    if ref is None:
        return StatusResult("unknown")
    project, kind, ident = ref
    root = f"{api_root(base_url)}/projects/{quote(project, safe='')}"
    headers = auth_headers(token)
    if kind == "merge_requests":
        try:
            data = fetch_json("GitLab", f"{root}/merge_requests/{ident}", headers, scope="read_api")
        except NotModified:
            _pipeline_and_approvals(headers, f"{root}/merge_requests/{ident}", None)
            raise
        status = merge_request_status(data)
        found = _pipeline_and_approvals(headers, f"{root}/merge_requests/{ident}", data)
        updated_at = provider_time(data.get("updated_at"))
        return StatusResult(status, plain_title(data.get("title")), updated_at, found.checks, found.review)
    if kind == "issues":
        data = fetch_json("GitLab", f"{root}/issues/{ident}", headers, scope="read_api")
        return StatusResult(issue_status(data), plain_title(data.get("title")), provider_time(data.get("updated_at")))
    data = fetch_json("GitLab", f"{root}/repository/commits/{quote(ident, safe='')}", headers, scope="read_api")
    return StatusResult("unknown", plain_title(data.get("title")))


def merge_request_status(data: Mapping[str, Any]) -> str:
    """SPEC §6 for a merge request, from the API object or a webhook's `object_attributes`."""
    state = required_state("GitLab", data, ("opened", "reopened", "closed", "locked", "merged"))
    if state == "merged":
        return "merged"
    if state in ("closed", "locked"):
        return "closed"
    return "draft" if data.get("draft") is True or data.get("work_in_progress") is True else "open"


def issue_status(data: Mapping[str, Any]) -> str:
    """An issue is open or closed; GitLab's older `reopened` reads as open."""
    return "closed" if required_state("GitLab", data, ("opened", "reopened", "closed")) == "closed" else "open"


# --- review and CI (SPEC §15) -----------------------------------------------------------


def _pipeline_and_approvals(headers: dict[str, str], merge_request_url: str, data: dict[str, Any] | None) -> Any:
    """Checks from the merge request's own `head_pipeline`; review from `detailed_merge_status`,
    else its approvals. After a 304 on the merge request (`data` None) its checks stay cached."""
    checks = review.gitlab_checks(data) if data is not None else None
    if data is not None:
        changes = review.gitlab_changes_requested(data)
    else:
        changes = recalled("changes_requested") is True
    sha = data.get("sha") if data is not None else None
    head = sha if isinstance(sha, str) and COMMIT_SHA.fullmatch(sha) else None
    verdict: str | None = "changes_requested"
    if not changes:
        try:
            verdict = remembered_call(
                "GitLab", f"{merge_request_url}/approvals", headers, review.gitlab_review, "read_api"
            )
        except RefreshFailed as failure:
            log.info("approvals of %s kept: %s", merge_request_url, failure.code)
            verdict = None
    branch = data.get("source_branch") if data is not None else None
    source_branch = branch.strip()[:255] if isinstance(branch, str) and branch.strip() else None
    return record_extras(checks, verdict, head, source_branch=source_branch, changes_requested=changes)
