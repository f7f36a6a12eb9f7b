"""GitLab.com and self-hosted GitLab (CE/EE, also under a relative root): verification (SPEC §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ppm.integrations.providers.base import (
    CredentialCheckFailed,
    VerifiedAccount,
    call,
    check_status,
    json_object,
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
            "provider_unreachable", "GitLab gave an answer without an account name. Is the host URL right?")
    details = call("GitLab", f"{root}/personal_access_tokens/self", headers)
    check_status("GitLab", details)
    info = json_object("GitLab", details)
    raw_scopes = info.get("scopes")
    scopes = [str(s) for s in raw_scopes] if isinstance(raw_scopes, list) else None
    if scopes is not None and not any(s in scopes for s in NEEDED_SCOPES):
        raise CredentialCheckFailed(
            "insufficient_scope",
            "This GitLab token lacks the “read_api” scope (or “api”), which ppm needs to read "
            "merge requests and issues. Create a token with read_api.")
    return VerifiedAccount(login=login, scopes=scopes, expires_at=_expiry(info.get("expires_at")))
