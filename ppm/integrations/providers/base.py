"""What every provider's verification shares: the outcome of a call, mapped to SPEC §5 codes."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from ppm import egress
from ppm.models_base import utcnow

log = logging.getLogger("ppm.integrations")

VERIFY_BUDGET_SECONDS = 5.0


class CredentialCheckFailed(Exception):
    """The token cannot be stored; `code` and `detail` go to the person who pasted it."""

    def __init__(self, code: str, detail: str, status: int = 422, retry_at: datetime | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status
        self.retry_at = retry_at


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


def check_status(label: str, response: egress.EgressResponse, scope_help: str = "") -> None:
    """SPEC §5 outcomes, refined by what the provider's error body says (§18)."""
    status = response.status
    if 200 <= status < 300:
        return
    if status == 401:
        raise CredentialCheckFailed(*_unauthorized(label, response))
    if is_rate_limited(response):
        at = retry_at(response.headers)
        raise CredentialCheckFailed(
            "provider_rate_limited",
            f"{label} is rate-limiting requests, so ppm could not check this token; nothing was saved. "
            + (f"{rate_limit_words(label, at)}: try again after that." if at else "Try again in a few minutes."),
            retry_at=at,
        )
    if status == 403 and says_insufficient_scope(response) and scope_help:
        raise CredentialCheckFailed("insufficient_scope", scope_help)
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


def _unauthorized(label: str, response: egress.EgressResponse) -> tuple[str, str]:
    """A 401 at connect: an expired token gets its own code; any other is rejected."""
    if says_expired(response):
        return "token_expired", f"{label} says this token has expired: create a new token and paste it here."
    if says_revoked(response):
        return "token_rejected", f"The provider rejected this token: {label} says it was revoked. Create a new one."
    return (
        "token_rejected",
        f"The provider rejected this token: {label} says it is not valid. "
        "Check that you copied all of it, or create a new one.",
    )


# --- what an error answer says (GitLab's API guard answers the OAuth 2.0 way) -------------


def oauth_error(response: egress.EgressResponse) -> tuple[str, str]:
    """(error, error_description) of an OAuth-style error body such as GitLab's
    `{"error": "invalid_token", "error_description": "Token is expired. …"}`; "" when absent."""
    try:
        data = response.json()
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    error, description = data.get("error"), data.get("error_description")
    return (error if isinstance(error, str) else ""), (description if isinstance(description, str) else "")


def _bearer_challenge(response: egress.EgressResponse) -> str:
    return response.headers.get("WWW-Authenticate", "")


def says_expired(response: egress.EgressResponse) -> bool:
    error, description = oauth_error(response)
    if error == "invalid_token":
        return "expired" in description.lower()
    challenge = _bearer_challenge(response)
    return 'error="invalid_token"' in challenge and "expired" in challenge.lower()


def says_revoked(response: egress.EgressResponse) -> bool:
    error, description = oauth_error(response)
    return error == "invalid_token" and "revoked" in description.lower()


def says_insufficient_scope(response: egress.EgressResponse) -> bool:
    return oauth_error(response)[0] == "insufficient_scope" or 'error="insufficient_scope"' in _bearer_challenge(
        response
    )


def is_rate_limited(response: egress.EgressResponse) -> bool:
    """429; or a 403 that says the quota is used up (GitHub `X-RateLimit-Remaining: 0`, GitLab
    `RateLimit-Remaining: 0`) or asks to wait (`Retry-After`: GitHub's secondary limits)."""
    if response.status == 429:
        return True
    if response.status != 403 or says_insufficient_scope(response):
        return False
    headers = response.headers
    return (
        headers.get("X-RateLimit-Remaining", "").strip() == "0"
        or headers.get("RateLimit-Remaining", "").strip() == "0"
        or "Retry-After" in headers
    )


# A wait longer than this is not believed (and cannot overflow a datetime).
_LONGEST_WAIT = timedelta(days=366)
# Reset headers below this are seconds from now (the IETF draft's meaning), not epoch seconds.
_EPOCH_FLOOR = 1_000_000_000


def retry_at(headers: Mapping[str, str], now: datetime | None = None) -> datetime | None:
    """When the provider says to try again: `Retry-After` (seconds or an HTTP date), else
    `RateLimit-Reset` (GitLab) / `X-RateLimit-Reset` (GitHub), epoch seconds. None if unsaid."""
    now = now or utcnow()
    lowered = {name.lower(): value for name, value in headers.items()}
    after = _retry_after(lowered.get("retry-after", ""), now)
    if after is not None:
        return after
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        reset = _reset(lowered.get(name, ""), now)
        if reset is not None:
            return reset
    return None


def _retry_after(value: str, now: datetime) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return _believable(now + timedelta(seconds=int(value)), now) if len(value) < 12 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return _believable(when if when.tzinfo else when.replace(tzinfo=UTC), now)


def _reset(value: str, now: datetime) -> datetime | None:
    value = value.strip()
    if not value.isdigit() or len(value) > 11:
        return None
    seconds = int(value)
    if seconds < _EPOCH_FLOOR:
        return _believable(now + timedelta(seconds=seconds), now)
    return _believable(datetime.fromtimestamp(seconds, UTC), now)


def _believable(when: datetime, now: datetime) -> datetime | None:
    when = when.astimezone(UTC).replace(microsecond=0)
    return when if when - now <= _LONGEST_WAIT else None


def rate_limit_words(label: str, at: datetime, now: datetime | None = None) -> str:
    """Words such as "GitHub's rate limit resets at 14:05 UTC", with the day when it is not today."""
    now = now or utcnow()
    shown = at.astimezone(UTC)
    day = "" if shown.date() == now.astimezone(UTC).date() else f" on {shown:%Y-%m-%d}"
    return f"{label}'s rate limit resets at {shown:%H:%M} UTC{day}"


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
    """The outside world did not give a usable answer; cached values must be kept.
    `retry_at` is when the provider said to try again (rate limits), else None."""

    def __init__(self, code: str, detail: str, retry_at: datetime | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.retry_at = retry_at


@dataclass
class StatusResult:
    status: str  # open | draft | merged | closed | unknown
    title: str = ""
    updated_at: datetime | None = None  # the provider's, so a late webhook never goes backwards
    # SPEC §15, pull and merge requests only; None leaves the cached value as it is.
    checks: str | None = None
    review: str | None = None


@dataclass
class Extras:
    """What a pull or merge request's extra calls found (SPEC §15): `checks` / `review` None
    keeps the cached value (a call failed); `memory` is what the next refresh needs to make
    them conditional (per call URL: its ETag and the value it gave)."""

    checks: str | None = None
    review: str | None = None
    head_sha: str | None = None
    memory: dict[str, Any] = field(default_factory=dict)


class NotModified(Exception):
    """A conditional refresh was answered 304: the cached values still hold (SPEC §14)."""


@dataclass
class Exchange:
    """One refresh's conditional-request bookkeeping (SPEC §14): the validators of the last good
    answer go out on its first call, and what that call answered comes back here. Set by the
    links' refresh service around a provider call, so providers need no extra parameters."""

    etag: str | None = None
    last_modified: str | None = None
    sent: bool = False
    new_etag: str | None = None
    new_last_modified: str | None = None
    # The headers of the last answer (rate-limit reset times are read from them).
    headers: Mapping[str, str] = field(default_factory=dict)
    # SPEC §15: the link's head SHA and the extra calls' memory going in, their findings out.
    head_sha: str | None = None
    memory: Mapping[str, Any] = field(default_factory=dict)
    extras: Extras | None = None
    # One deadline for the whole refresh: every call's timeout is what is left of it.
    deadline: float = 0.0

    def request_headers(self) -> dict[str, str]:
        found = {"If-None-Match": self.etag or "", "If-Modified-Since": self.last_modified or ""}
        return {name: value for name, value in found.items() if value}

    def observe(self, response: egress.EgressResponse, first: bool) -> None:
        self.headers = response.headers
        if first and 200 <= response.status < 300:
            self.new_etag = (response.headers.get("ETag") or "").strip()[:512] or None
            self.new_last_modified = (response.headers.get("Last-Modified") or "").strip()[:64] or None


_exchange: ContextVar[Exchange | None] = ContextVar("refresh_exchange", default=None)

# The refresh budget's clock (tests replace it with a stub, never reading wall time).
clock: Callable[[], float] = time.monotonic


@contextmanager
def conditional(
    etag: str | None,
    last_modified: str | None,
    head_sha: str | None = None,
    memory: Mapping[str, Any] | None = None,
) -> Iterator[Exchange]:
    """Send these validators with the refresh made inside the block; see what came back. Every
    call inside shares one budget of REFRESH_BUDGET_SECONDS."""
    exchange = Exchange(etag, last_modified, head_sha=head_sha, memory=memory or {})
    exchange.deadline = clock() + REFRESH_BUDGET_SECONDS
    token = _exchange.set(exchange)
    try:
        yield exchange
    finally:
        _exchange.reset(token)


def refresh_fetch(
    label: str,
    url: str,
    headers: dict[str, str],
    *,
    timeout: float = REFRESH_BUDGET_SECONDS,
    max_bytes: int = egress.DEFAULT_MAX_BYTES,
) -> egress.EgressResponse:
    """One GET for a refresh (status or preview) through the egress guard; every way it can
    fail becomes a RefreshFailed with the SPEC §12 code. Non-2xx answers are returned; a 304
    to the conditional first call of a refresh raises NotModified."""
    exchange = _exchange.get()
    first = exchange is not None and not exchange.sent
    if exchange is not None and first:
        headers = {**headers, **exchange.request_headers()}
        exchange.sent = True
    if exchange is not None:
        timeout = min(timeout, exchange.deadline - clock())
        if timeout <= 0:
            raise RefreshFailed("provider_timeout", f"{label} did not answer in time.")
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
    if exchange is not None:
        exchange.observe(response, first)
        if first and response.status == 304 and exchange.request_headers():
            raise NotModified(url)
    return response


def fetch_json(label: str, url: str, headers: dict[str, str], *, scope: str = "") -> dict[str, Any]:
    """GET a provider API object, mapping every failure to a refresh error code. `scope` names
    the token scope the call needs, for the `insufficient_scope` sentence."""
    response = refresh_fetch(label, url, headers)
    _raise_for_refresh_status(label, response, scope)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise RefreshFailed("provider_bad_response", f"{label} gave an answer ppm could not read.")
    return data


def remembered_call(
    label: str, url: str, headers: dict[str, str], reduce: Callable[[Any], Any], scope: str = ""
) -> Any:
    """One of a refresh's extra calls (SPEC §15), conditional on its own ETag: a 304 gives the
    value its last good answer gave, a 2xx the reduction of its body. A failure raises
    RefreshFailed (the caller keeps the cached value) and keeps the last good answer's memory."""
    last = remembered(url)
    etag = last.get("etag") if last else None
    sent = {**headers, "If-None-Match": etag} if isinstance(etag, str) else headers
    try:
        response = refresh_fetch(label, url, sent)
        if response.status == 304 and last is not None and isinstance(etag, str):
            _remember(url, last)
            return last.get("value")
        _raise_for_refresh_status(label, response, scope)
        try:
            value = reduce(response.json())
        except ValueError:
            raise RefreshFailed("provider_bad_response", f"{label} gave an answer ppm could not read.") from None
    except RefreshFailed:
        if last is not None:
            _remember(url, last)
        raise
    new_etag = (response.headers.get("ETag") or "").strip()[:512]
    if new_etag:
        _remember(url, {"etag": new_etag, "value": value})
    return value


def _extras() -> Extras:
    """The current refresh's findings (a throwaway one outside a refresh)."""
    exchange = _exchange.get()
    if exchange is None:
        return Extras()
    if exchange.extras is None:
        exchange.extras = Extras()
    return exchange.extras


def _remember(url: str, entry: dict[str, Any]) -> None:
    _extras().memory.setdefault("calls", {})[url] = entry


def remembered(url: str) -> dict[str, Any] | None:
    """What the last refresh kept of this extra call: {"etag", "value"}, or None."""
    exchange = _exchange.get()
    calls = exchange.memory.get("calls") if exchange is not None else None
    entry = calls.get(url) if isinstance(calls, dict) else None
    return entry if isinstance(entry, dict) else None


def recalled(fact: str, default: Any = None) -> Any:
    """A fact the last refresh kept about the object itself (for when it answers 304)."""
    exchange = _exchange.get()
    return exchange.memory.get(fact, default) if exchange is not None else default


def stored_head_sha() -> str | None:
    exchange = _exchange.get()
    return exchange.head_sha if exchange is not None else None


def record_extras(checks: str | None, review: str | None, head_sha: str | None, **facts: Any) -> Extras:
    """Hand the extra calls' findings to the refresh service (it stores them with the status)."""
    extras = _extras()
    extras.checks, extras.review, extras.head_sha = checks, review, head_sha
    extras.memory.update(facts)
    return extras


def _raise_for_refresh_status(label: str, response: egress.EgressResponse, scope: str = "") -> None:
    status = response.status
    if 200 <= status < 300:
        return
    if status == 401:
        if says_expired(response):
            raise RefreshFailed(
                "token_rejected",
                f"{label} says your token has expired: create a new token and rotate it in Connected accounts.",
            )
        raise RefreshFailed("token_rejected", f"{label} rejected your token. Rotate it in Connected accounts.")
    if status == 403 and says_insufficient_scope(response):
        raise RefreshFailed(
            "insufficient_scope",
            f"Your {label} token may not read this: rotate your {label} token with {scope or 'more scopes'} "
            "in Connected accounts.",
        )
    if is_rate_limited(response):
        raise rate_limited(label, response.headers)
    if status == 403:
        raise RefreshFailed("provider_forbidden", f"{label} refused access with your token.")
    if status == 404:
        raise RefreshFailed("not_found", f"{label} could not find it, or your token cannot see it.")
    if status >= 500:
        raise RefreshFailed("provider_unreachable", f"{label} is having trouble ({status}).")
    raise RefreshFailed("provider_bad_response", f"{label} gave an unexpected answer ({status}).")


def rate_limited(label: str, headers: Mapping[str, str]) -> RefreshFailed:
    """The refresh error for a rate-limited answer, saying in words when to try again."""
    at = retry_at(headers)
    when = f"{rate_limit_words(label, at)}." if at else "Try again later."
    return RefreshFailed("provider_rate_limited", f"{label} is rate-limiting requests. {when}", retry_at=at)


def required_state(label: str, data: Mapping[str, Any], known: tuple[str, ...]) -> str:
    """The object's `state`, one the mapping knows; a 2xx answer without it changes nothing
    (SPEC §19: `provider_bad_response`, the cached status stays)."""
    state = data.get("state")
    if not isinstance(state, str) or state not in known:
        raise RefreshFailed("provider_bad_response", f"{label} answered without a state ppm knows.")
    return state


COMMIT_SHA = re.compile(r"[0-9a-fA-F]{7,64}")

# --- strings from providers: cleaned here, once, before anything stores them ----------------

# Control characters (other than the whitespace ones, collapsed below), bidi overrides and
# isolates, the BOM, lone surrogates and non-characters: never part of a title or a name.
INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)


def clean_text(value: str | None, limit: int) -> str:
    """Plain text for storage: no control characters, whitespace collapsed, trimmed, capped."""
    if not value:
        return ""
    text = " ".join(INVISIBLE.sub("", value).split())
    return text[:limit].rstrip()


def plain_title(value: object) -> str:
    """A provider's title as stored: clean text only, at most 300 characters."""
    return clean_text(value, 300) if isinstance(value, str) else ""


def first_line(message: object) -> str:
    """A commit message's subject: its first non-blank line, cleaned like a title."""
    if not isinstance(message, str):
        return ""
    return next((plain_title(line) for line in message.splitlines() if plain_title(line)), "")


FUTURE_SLACK = timedelta(days=1)


class UnrepresentableTime(RefreshFailed):
    """A provider time that reads as a date but cannot be held (year 1 or 9999 with an offset,
    month 13): refresh records `provider_bad_response`, a delivery answers 400 (SPEC §27)."""

    def __init__(self) -> None:
        super().__init__("provider_bad_response", "The provider gave an updated_at time that cannot be represented.")


def provider_time(value: object) -> datetime | None:
    """A provider's timestamp in UTC: GitHub's `2019-05-15T15:20:33Z`, GitLab's
    `2013-12-03 17:23:34 UTC`, or ISO 8601 with an offset; anything else is None. A time more
    than a day ahead counts as now (a provider's clock gone wrong must not freeze a link), and
    a date that cannot be represented raises UnrepresentableTime (SPEC §27)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    if text.upper().endswith(" UTC"):
        text = text[:-4] + "+00:00"
    elif text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError as error:
        if str(error).startswith("Invalid isoformat string"):
            return None  # not a time at all: as if absent
        raise UnrepresentableTime() from None
    except OverflowError:
        raise UnrepresentableTime() from None
    now = utcnow()
    return now if moment > now + FUTURE_SLACK else moment
