"""What every provider's verification shares: the outcome of a call, mapped to SPEC §5 codes."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ppm import egress

log = logging.getLogger("ppm.integrations")

VERIFY_BUDGET_SECONDS = 5.0


class CredentialCheckFailed(Exception):
    """The token cannot be stored; `code` and `detail` go to the person who pasted it."""

    def __init__(self, code: str, detail: str, status: int = 422) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status


@dataclass
class VerifiedAccount:
    login: str | None
    scopes: list[str] | None = None
    expires_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def call(label: str, url: str, headers: dict[str, str]) -> egress.EgressResponse:
    """One verification request through the egress guard; failures become CredentialCheckFailed.
    Log lines carry the URL and outcome, never the headers (they hold the token)."""
    try:
        response = egress.fetch("GET", url, headers=headers, timeout=VERIFY_BUDGET_SECONDS)
    except egress.EgressBlocked as error:
        log.warning("verification call to %s refused by the egress guard: %s", url, error)
        raise CredentialCheckFailed(
            "blocked_host", f"ppm is not allowed to contact this {label} host: {error}"
        ) from None
    except egress.EgressTimeout:
        log.warning("verification call to %s timed out", url)
        raise CredentialCheckFailed(
            "provider_timeout",
            f"{label} did not answer within {VERIFY_BUDGET_SECONDS:g} seconds. Try again later.",
        ) from None
    except egress.EgressError as error:
        log.warning("verification call to %s failed: %s", url, error)
        raise CredentialCheckFailed(
            "provider_unreachable", f"ppm could not reach {label}. Check the host URL or try again later."
        ) from None
    log.info("verification call to %s answered %s", url, response.status)
    return response


def check_status(label: str, response: egress.EgressResponse) -> None:
    status = response.status
    if 200 <= status < 300:
        return
    if status == 401:
        raise CredentialCheckFailed(
            "token_rejected",
            f"The provider rejected this token: {label} says it is not valid. "
            "Check that you copied all of it, or create a new one.",
        )
    if status in (403, 404):
        raise CredentialCheckFailed(
            "token_rejected",
            f"The provider rejected this token: {label} refused access with it ({status}). "
            "Check its permissions, or create a new one.",
        )
    if status >= 500:
        raise CredentialCheckFailed("provider_unreachable", f"{label} is having trouble ({status}). Try again later.")
    raise CredentialCheckFailed(
        "provider_unreachable", f"{label} gave an unexpected answer ({status}). Try again later."
    )


def json_object(label: str, response: egress.EgressResponse) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise CredentialCheckFailed(
            "provider_unreachable", f"{label} gave an answer ppm could not read. Is the host URL right?"
        )
    return data


# --- link status refresh (SPEC §6, §12 refresh error codes) -------------------------------

REFRESH_BUDGET_SECONDS = 5.0


class RefreshFailed(Exception):
    """The outside world did not give a usable answer; cached values must be kept."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass
class StatusResult:
    status: str  # open | draft | merged | closed | unknown
    title: str = ""
    updated_at: datetime | None = None  # the provider's, so a late webhook never goes backwards


def refresh_fetch(
    label: str,
    url: str,
    headers: dict[str, str],
    *,
    timeout: float = REFRESH_BUDGET_SECONDS,
    max_bytes: int = egress.DEFAULT_MAX_BYTES,
) -> egress.EgressResponse:
    """One GET for a refresh (status or preview) through the egress guard; every way it can
    fail becomes a RefreshFailed with the SPEC §12 code. Non-2xx answers are returned."""
    try:
        response = egress.fetch("GET", url, headers=headers, timeout=timeout, max_bytes=max_bytes)
    except egress.EgressBlocked as error:
        log.warning("refresh call to %s refused by the egress guard: %s", url, error)
        raise RefreshFailed("blocked_host", f"ppm is not allowed to contact this host: {error}") from None
    except egress.EgressTimeout:
        log.warning("refresh call to %s timed out", url)
        raise RefreshFailed("provider_timeout", f"{label} did not answer in time.") from None
    except egress.EgressTooLarge:
        log.warning("refresh call to %s passed %s bytes", url, max_bytes)
        raise RefreshFailed(
            "provider_bad_response", f"{label} sent more than {max_bytes // 1024} KiB; ppm reads no more than that."
        ) from None
    except egress.EgressError as error:
        log.warning("refresh call to %s failed: %s", url, error)
        raise RefreshFailed("provider_unreachable", f"ppm could not reach {label}.") from None
    log.info("refresh call to %s answered %s", url, response.status)
    return response


def fetch_json(label: str, url: str, headers: dict[str, str]) -> dict[str, Any]:
    """GET a provider API object, mapping every failure to a refresh error code."""
    response = refresh_fetch(label, url, headers)
    _raise_for_refresh_status(label, response)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise RefreshFailed("provider_bad_response", f"{label} gave an answer ppm could not read.")
    return data


def _raise_for_refresh_status(label: str, response: egress.EgressResponse) -> None:
    status = response.status
    if 200 <= status < 300:
        return
    if status == 401:
        raise RefreshFailed("token_rejected", f"{label} rejected your token. Rotate it in Connected accounts.")
    if status == 429 or (status == 403 and response.headers.get("X-RateLimit-Remaining") == "0"):
        raise RefreshFailed("provider_rate_limited", f"{label} is rate-limiting requests. Try again later.")
    if status == 403:
        raise RefreshFailed("provider_forbidden", f"{label} refused access with your token.")
    if status == 404:
        raise RefreshFailed("not_found", f"{label} could not find it, or your token cannot see it.")
    if status >= 500:
        raise RefreshFailed("provider_unreachable", f"{label} is having trouble ({status}).")
    raise RefreshFailed("provider_bad_response", f"{label} gave an unexpected answer ({status}).")


COMMIT_SHA = re.compile(r"[0-9a-fA-F]{7,64}")


def plain_title(value: object) -> str:
    """A provider's title as stored: text only, trimmed, at most 300 characters."""
    return value.strip()[:300] if isinstance(value, str) else ""


def provider_time(value: object) -> datetime | None:
    """A provider's timestamp in UTC: GitHub's `2019-05-15T15:20:33Z`, GitLab's
    `2013-12-03 17:23:34 UTC`, or ISO 8601 with an offset; anything else is None."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    if text.upper().endswith(" UTC"):
        text = text[:-4] + "+00:00"
    elif text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
