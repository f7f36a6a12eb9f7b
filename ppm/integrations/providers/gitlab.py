"""GitLab.com and self-hosted GitLab (CE/EE, also under a relative root): verification (SPEC §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from ppm.integrations.providers.base import (
    COMMIT_SHA,
    CredentialCheckFailed,
    StatusResult,
    VerifiedAccount,
    call,
    check_status,
    fetch_json,
    json_object,
    plain_title,
    provider_time,
)

SAAS_ROOT = "https://gitlab.com"
SAAS_HOSTS = frozenset({"gitlab.com", "www.gitlab.com"})
NEEDED_SCOPES = ("read_api", "api")


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
    check_status("GitLab", response)
    login = json_object("GitLab", response).get("username")
    if not isinstance(login, str) or not login:
        raise CredentialCheckFailed(
            "provider_unreachable", "GitLab gave an answer without an account name. Is the host URL right?"
        )
    details = call("GitLab", f"{root}/personal_access_tokens/self", headers)
    check_status("GitLab", details)
    info = json_object("GitLab", details)
    raw_scopes = info.get("scopes")
    scopes = [str(s) for s in raw_scopes] if isinstance(raw_scopes, list) else None
    if scopes is not None and not any(s in scopes for s in NEEDED_SCOPES):
        raise CredentialCheckFailed(
            "insufficient_scope",
            "This GitLab token lacks the “read_api” scope (or “api”), which ppm needs to read "
            "merge requests and issues. Create a token with read_api.",
        )
    return VerifiedAccount(login=login, scopes=scopes, expires_at=_expiry(info.get("expires_at")))


# --- link status ----------------------------------------------------------------------


def _ref(path: str) -> tuple[str, str, str] | None:
    """(project path, kind, id) from `group/sub/project/-/merge_requests/5[/diffs]`."""
    parts = [p for p in path.split("/") if p]
    if "-" not in parts:
        return None
    dash = parts.index("-")
    project, rest = parts[:dash], parts[dash + 1 :]
    if len(project) < 2 or len(rest) < 2:
        return None
    kind, ident = rest[0], rest[1]
    if kind in ("merge_requests", "issues") and ident.isdigit():
        return "/".join(project), kind, ident
    if kind == "commit" and COMMIT_SHA.fullmatch(ident):
        return "/".join(project), kind, ident
    return None


def has_live_status(path: str) -> bool:
    ref = _ref(path)
    return ref is not None and ref[1] in ("merge_requests", "issues")


def fetch_status(token: str, base_url: str, path: str) -> StatusResult:
    ref = _ref(path)
    if ref is None:
        return StatusResult("unknown")
    project, kind, ident = ref
    root = f"{api_root(base_url)}/projects/{quote(project, safe='')}"
    headers = auth_headers(token)
    if kind == "merge_requests":
        data = fetch_json("GitLab", f"{root}/merge_requests/{ident}", headers)
        state = data.get("state")
        if state == "merged":
            status = "merged"
        elif state in ("closed", "locked"):
            status = "closed"
        elif data.get("draft") is True or data.get("work_in_progress") is True:
            status = "draft"
        else:
            status = "open"
        return StatusResult(status, plain_title(data.get("title")), provider_time(data.get("updated_at")))
    if kind == "issues":
        data = fetch_json("GitLab", f"{root}/issues/{ident}", headers)
        state = "open" if data.get("state") == "opened" else "closed"
        return StatusResult(state, plain_title(data.get("title")), provider_time(data.get("updated_at")))
    data = fetch_json("GitLab", f"{root}/repository/commits/{quote(ident, safe='')}", headers)
    return StatusResult("unknown", plain_title(data.get("title")))
