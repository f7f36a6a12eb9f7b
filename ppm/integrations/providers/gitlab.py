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
# The segment that starts an object's part of a path, and what may follow it.
_KIND_WORDS = frozenset({"merge_requests", "issues", "work_items", "commit"})
# A number longer than this is no pull, merge request or issue (SPEC §27): it is never matched
# and never reaches a query.
MAX_NUMBER_DIGITS = 18


def is_number(text: str) -> bool:
    """ASCII digits only (`str.isdigit` also takes `²` and other scripts' digits), at most 18."""
    return 0 < len(text) <= MAX_NUMBER_DIGITS and text.isascii() and text.isdigit()


def _object_at(rest: list[str]) -> tuple[str, str] | None:
    """(kind, id) when `rest` (the segments after the project) begins with an object's shape."""
    for shape in _ISSUE_SHAPES:
        width = len(shape)
        if len(rest) > width and tuple(rest[:width]) == shape and is_number(rest[width]):
            return "issues", rest[width]
    if len(rest) < 2:
        return None
    kind, ident = rest[0], rest[1]
    if kind == "merge_requests" and is_number(ident):
        return kind, ident
    if kind == "commit" and COMMIT_SHA.fullmatch(ident):
        return kind, ident
    return None


def parse_object_path(path: str, *, undashed: bool = False) -> tuple[str, str, str] | None:
    """The one parser of GitLab object addresses, shared by refresh and webhook matching, linear
    in the path's length (SPEC §27): (project path, kind, id) with kind `merge_requests`,
    `issues` (every issue shape folded into one) or `commit`.

    The project is everything before the first `-` segment (at least a namespace and a name).
    `undashed` also reads the older addresses without the `-` (GitLab's own payload examples
    use them): then the project ends at the first kind word that starts an object's shape.
    Group-level work items (`groups/{group}/-/work_items/N`, epics) are not project items."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] == "groups":
        return None
    try:
        dash = parts.index("-")
    except ValueError:
        dash = -1
    if dash >= 0:
        found = _object_at(parts[dash + 1 : dash + 4]) if dash >= 2 else None
        return ("/".join(parts[:dash]), *found) if found else None
    if not undashed:
        return None
    for index in range(2, len(parts)):
        if parts[index] in _KIND_WORDS:
            found = _object_at(parts[index : index + 3])
            if found:
                return ("/".join(parts[:index]), *found)
    return None


def object_ref(path: str) -> tuple[str, str, str] | None:
    """(project path, kind, id) of the object a path below the GitLab root points at (see
    `parse_object_path`; refresh reads only the current addresses, with the `-`).
    `group/sub/project/-/merge_requests/5/diffs` → ("group/sub/project", "merge_requests", "5")."""
    return parse_object_path(path)


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
    return record_extras(checks, verdict, head, changes_requested=changes)
