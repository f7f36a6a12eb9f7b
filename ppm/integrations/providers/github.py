"""GitHub and GitHub Enterprise Server: token verification (SPEC §5)."""

from __future__ import annotations

from datetime import UTC, datetime

from ppm.integrations.providers.base import (
    CredentialCheckFailed,
    VerifiedAccount,
    call,
    check_status,
    json_object,
)

SAAS_API = "https://api.github.com"
SAAS_HOSTS = frozenset({"github.com", "www.github.com", "api.github.com"})
NEEDED_SCOPES = ("repo", "public_repo")


def api_root(base_url: str) -> str:
    return f"{base_url}/api/v3" if base_url else SAAS_API


def auth_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


def parse_expiry(value: str | None) -> datetime | None:
    """`2026-12-31 23:59:59 UTC` or with a numeric offset; anything else is ignored."""
    if not value:
        return None
    text = value.strip()
    if text.upper().endswith(" UTC"):
        text = text[:-4] + " +0000"
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").astimezone(UTC)
    except ValueError:
        return None


def parse_scopes(value: str | None) -> list[str] | None:
    """Classic tokens list their scopes; fine-grained tokens send no header at all."""
    if value is None:
        return None
    return [scope.strip() for scope in value.split(",") if scope.strip()]


def verify(token: str, base_url: str) -> VerifiedAccount:
    response = call("GitHub", f"{api_root(base_url)}/user", auth_headers(token))
    check_status("GitHub", response)
    user = json_object("GitHub", response)
    login = user.get("login")
    if not isinstance(login, str) or not login:
        raise CredentialCheckFailed(
            "provider_unreachable", "GitHub gave an answer without an account name. Is the host URL right?")
    scopes = parse_scopes(response.headers.get("X-OAuth-Scopes"))
    if scopes is not None and not any(s in scopes for s in NEEDED_SCOPES):
        raise CredentialCheckFailed(
            "insufficient_scope",
            "This GitHub token lacks the “repo” scope (or “public_repo” for public repositories "
            "only), which ppm needs to read pull requests and issues. Create a token with it.")
    expires = parse_expiry(response.headers.get("GitHub-Authentication-Token-Expiration"))
    return VerifiedAccount(login=login, scopes=scopes, expires_at=expires)
