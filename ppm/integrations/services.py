"""Connected accounts (SPEC §5): connect, rotate and revoke a user's own provider tokens.

Every query here is scoped to the acting user; no function takes another user's id. Tokens are
checked, then verified with the provider, then encrypted; nothing is stored unless all pass.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ppm import crypto
from ppm.auth.models import User
from ppm.errors import DomainError, NotFound, ValidationCollector
from ppm.extensions import db
from ppm.integrations.models import Credential
from ppm.integrations.providers.base import CredentialCheckFailed, VerifiedAccount
from ppm.integrations.registry import TASK_LINK_PROVIDERS, Provider, connectable_providers
from ppm.models_base import iso, utcnow
from ppm.text import readable_object

log = logging.getLogger("ppm.integrations")

TOKEN_MAX = 4096
BASE_URL_MAX = 2048
EXPIRY_WARNING_DAYS = 14
# The expiries a credential can hold (SPEC §19): inside them every date sum stays in the calendar.
EXPIRY_MIN = datetime(1970, 1, 1, tzinfo=UTC)
EXPIRY_MAX = datetime.combine(date(2199, 12, 31), time.max, tzinfo=UTC)
_HOST_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class CredentialRefused(DomainError):
    """A connect or rotate that stored nothing (SPEC §5 outcomes)."""

    status = 422
    code = "token_rejected"


@dataclass
class Account:
    """One provider's section as its owner sees it."""

    provider: Provider
    credential: Credential | None
    readable: bool = True

    @property
    def connected(self) -> bool:
        return self.credential is not None

    def expiry_state(self, now: datetime | None = None) -> str | None:
        """None, "ok", "soon" (within 14 days) or "expired"."""
        if self.credential is None or self.credential.expires_at is None:
            return None
        now = now or utcnow()
        expires = _aware(self.credential.expires_at)
        if expires <= now:
            return "expired"
        return "soon" if (expires - now).days < EXPIRY_WARNING_DAYS else "ok"

    def days_left(self) -> int:
        assert self.credential is not None and self.credential.expires_at is not None
        return max(0, (_aware(self.credential.expires_at) - utcnow()).days)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- lookups --------------------------------------------------------------------------


def connectable(provider_id: str) -> Provider:
    provider = TASK_LINK_PROVIDERS.get(provider_id)
    if provider is None:
        raise NotFound("There is no such provider.", code="unknown_provider")
    if not provider.connectable:
        raise NotFound(f"{provider.label} links need no connected account.")
    return provider


def _credential(user: User, provider_id: str) -> Credential | None:
    return db.session.scalar(
        select(Credential).where(Credential.user_id == user.id, Credential.provider == provider_id)
    )


def _is_readable(credential: Credential) -> bool:
    try:
        crypto.decrypt(credential.ciphertext)
    except crypto.UnreadableSecret:
        return False
    return True


def list_accounts(user: User, *, by_id: bool = True) -> list[Account]:
    """One account per connectable provider: ordered by id (the API), or in the registry's
    order (the page shows GitHub and GitLab before Generic)."""
    rows = {c.provider: c for c in db.session.scalars(select(Credential).where(Credential.user_id == user.id))}
    providers = connectable_providers()
    if not by_id:
        providers = [p for p in TASK_LINK_PROVIDERS.values() if p.connectable]
    return [Account(p, rows.get(p.id), _is_readable(rows[p.id]) if p.id in rows else True) for p in providers]


def get_account(user: User, provider_id: str) -> Account:
    provider = connectable(provider_id)
    credential = _credential(user, provider.id)
    return Account(provider, credential, _is_readable(credential) if credential else True)


def read_token(credential: Credential) -> str:
    """The plaintext token for an outbound call (raises crypto.UnreadableSecret)."""
    return crypto.decrypt(credential.ciphertext)


def credential_for(user: User, provider_id: str, base_url: str) -> Credential | None:
    """The user's credential for a provider *and* host (links use it to refresh)."""
    credential = _credential(user, provider_id)
    if credential is None or credential.base_url != base_url:
        return None
    return credential


def self_hosted_credentials(user: User) -> list[Credential]:
    return list(db.session.scalars(select(Credential).where(Credential.user_id == user.id, Credential.base_url != "")))


def mark_used(credential: Credential) -> None:
    """Stamp `last_used_at` only: `updated_at` tells when the token was last connected or rotated."""
    _touch(credential, last_used_at=utcnow())


def _touch(credential: Credential, **values: Any) -> None:
    db.session.execute(
        update(Credential).where(Credential.id == credential.id).values(updated_at=Credential.updated_at, **values)
    )
    for key, value in values.items():
        set_committed_value(credential, key, value)


# --- connect / rotate -----------------------------------------------------------------


def _clean_token(data: Mapping[str, Any], errors: ValidationCollector) -> str | None:
    value = data.get("token")
    if not isinstance(value, str):
        errors.add("token", "Paste the access token.")
        return None
    token = value.strip()
    if not token:
        errors.add("token", "Paste the access token.")
    elif len(token) > TOKEN_MAX:
        errors.add("token", f"This is longer than any access token ({TOKEN_MAX} characters at most).")
    elif not token.isascii() or not token.isprintable() or " " in token:
        # Tokens are printable ASCII; anything else (a pasted zero-width space, a smart dash)
        # could never be sent as a header and must not reach the network code.
        errors.add("token", "The token contains spaces or invisible characters; paste just the token.")
    else:
        return token
    return None


def normalize_base_url(raw: str, errors: ValidationCollector) -> tuple[str, str] | None:
    """Returns (base_url, host) for a well-formed https://host[:port][/path], else records why."""
    allow_http = bool(current_app.config.get("INTEGRATION_ALLOW_HTTP"))
    problem = _base_url_problem(raw, allow_http)
    if problem:
        errors.add("base_url", problem)
        return None
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    netloc = host + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/')}", host


def _base_url_problem(raw: str, allow_http: bool) -> str | None:
    schemes = "https:// (or http://)" if allow_http else "https://"
    example = f"Enter the host URL like https://gitlab.example.org, starting with {schemes}."
    if len(raw) > BASE_URL_MAX or any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in raw):
        return example
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return example
    if parts.scheme.lower() not in ({"https", "http"} if allow_http else {"https"}):
        return "Only https:// host URLs are allowed." if parts.scheme.lower() == "http" else example
    if "@" in parts.netloc:
        return "Leave out any user name or password: enter just the host URL."
    if "?" in raw or "#" in raw:
        return "Leave out any ?query or #fragment: enter just the host URL."
    host = (parts.hostname or "").lower()
    if not host or not (_HOST_RE.match(host) or _is_ip(host)) or port == 0:
        return example
    segments = parts.path.split("/")
    if "%" in parts.path or any(seg in (".", "..") for seg in segments):
        return "Enter the host URL without ./.. or %-escapes in its path."
    return None


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _clean_expiry(data: Mapping[str, Any], errors: ValidationCollector) -> tuple[bool, datetime | None]:
    """Returns (given, value); a date means the end of that day in UTC."""
    if "expires_at" not in data:
        return False, None
    value = data["expires_at"]
    if value is None or value == "":
        return True, None
    if not isinstance(value, str):
        errors.add("expires_at", "Enter the expiry as a date like 2026-12-31.")
        return True, None
    text = value.strip()
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        else:
            parsed = _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        errors.add("expires_at", "Enter the expiry as a real date like 2026-12-31.")
        return True, None
    try:
        expiry: datetime | None = parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset leaves the calendar in UTC
        expiry = None
    if expiry is None or not in_expiry_range(expiry):
        errors.add("expires_at", "The expiry must be a date from 1970-01-01 to 2199-12-31.")
        return True, None
    return True, expiry


def in_expiry_range(expiry: datetime) -> bool:
    return EXPIRY_MIN <= expiry <= EXPIRY_MAX


def provider_expiry(account: VerifiedAccount) -> datetime | None:
    """The provider's word on when the token expires, within the range a credential holds. A
    date after 2199 means "never" in practice: it is treated as no expiry known, as for a token
    that never expires. One before 1970 has passed: connect refuses the token as expired."""
    expiry = account.expires_at
    if expiry is None or _aware(expiry) > EXPIRY_MAX:
        return None
    return max(_aware(expiry), EXPIRY_MIN)


def _allowed_base_url(provider: Provider, base_url: str, host: str) -> str:
    """The stored base_url: "" for the SaaS host, the URL for an operator-allowed host."""
    if provider.id == "generic":
        return base_url
    if host in provider.saas_hosts:
        return ""
    allowed = {h.lower() for h in current_app.config.get("INTEGRATION_ALLOWED_HOSTS", [])}
    if host in allowed:
        return base_url
    raise DomainError(
        f"{host} is not a {provider.label} host this ppm may contact. Ask your ppm operator to "
        "add it to INTEGRATION_ALLOWED_HOSTS.",
        code="base_url_not_allowed",
        status=400,
    )


def _recheck_stored(base_url: str) -> tuple[str, str]:
    errors = ValidationCollector()
    cleaned = normalize_base_url(base_url, errors)
    if cleaned is None:
        raise DomainError(
            "The saved host URL is no longer allowed by this ppm's settings. Enter the host URL again.",
            code="base_url_not_allowed",
            status=400,
        )
    return cleaned


def host_still_allowed(provider_id: str, base_url: str) -> bool:
    """For refresh: a self-hosted root the operator has since withdrawn is not contacted."""
    provider = TASK_LINK_PROVIDERS.get(provider_id)
    if provider is None or not base_url:
        return True
    errors = ValidationCollector()
    cleaned = normalize_base_url(base_url, errors)
    if cleaned is None:
        return False
    try:
        _allowed_base_url(provider, cleaned[0], cleaned[1])
    except DomainError:
        return False
    return True


def _refuse(code: str, detail: str) -> CredentialRefused:
    return CredentialRefused(detail, code=code)


def connect(user: User, provider_id: str, data: Any) -> Account:
    """Connect or rotate. Checks run in SPEC §5's order; the first failure stores nothing."""
    provider = connectable(provider_id)
    data = readable_object(data, "Send a JSON object with the token.")
    existing = _credential(user, provider.id)
    errors = ValidationCollector()
    token = _clean_token(data, errors)
    base_url, host = (existing.base_url if existing else ""), ""
    if "base_url" in data:
        raw = data["base_url"]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            base_url = ""
        elif not isinstance(raw, str):
            errors.add("base_url", "Enter the host URL as text.")
        else:
            cleaned = normalize_base_url(raw.strip(), errors)
            if cleaned:
                base_url, host = cleaned
    expiry_given, user_expiry = _clean_expiry(data, errors)
    errors.raise_if_any()
    assert token is not None
    if base_url and not host:
        # The stored host is checked again: the operator may have withdrawn it since.
        base_url, host = _recheck_stored(base_url)
    if host:
        base_url = _allowed_base_url(provider, base_url, host)
    if token.startswith(provider.foreign_token_prefixes):
        other = "GitLab" if provider.id == "github" else "GitHub"
        raise _refuse(
            "wrong_provider_token",
            f"This looks like a {other} token, not a {provider.label} one. Paste it in the "
            f"{other} section instead; it was not sent anywhere.",
        )
    if not expiry_given and existing and existing.expires_at and _aware(existing.expires_at) > utcnow():
        user_expiry = existing.expires_at  # left out on rotate: keep what we knew
    if user_expiry is not None and _aware(user_expiry) <= utcnow():
        raise _refuse(
            "token_expired", "That expiry date has passed: this token has expired. Create a new one with the provider."
        )
    account = _verify(provider, token, base_url)
    expires_at = provider_expiry(account) or user_expiry
    if expires_at is not None and _aware(expires_at) <= utcnow():
        raise _refuse("token_expired", f"{provider.label} says this token has expired. Create a new one.")
    return _store(user, provider, token, base_url, account, expires_at)


def _verify(provider: Provider, token: str, base_url: str) -> VerifiedAccount:
    if provider.verify is None:
        return VerifiedAccount(login=None)
    try:
        return provider.verify(token, base_url)
    except CredentialCheckFailed as failure:
        log.info("%s token for a user was not accepted: %s", provider.id, failure.code)
        refusal = _refuse(failure.code, failure.detail)
        if failure.retry_at is not None:
            refusal.extra["retry_at"] = iso(failure.retry_at)
        raise refusal from None


def _store(
    user: User, provider: Provider, token: str, base_url: str, account: VerifiedAccount, expires_at: datetime | None
) -> Account:
    scopes = [str(scope)[:100] for scope in account.scopes[:100]] if account.scopes is not None else None
    values = {
        "ciphertext": crypto.encrypt(token),
        "base_url": base_url,
        "account_login": (account.login or "")[:255] or None,
        "scopes": scopes,
        "expires_at": expires_at,
    }
    credential = _credential(user, provider.id)
    if credential is None:
        credential = Credential(user_id=user.id, provider=provider.id, **values)
        db.session.add(credential)
        try:
            db.session.commit()
        except IntegrityError:
            # A racing connect inserted first: the unique constraint kept one row; update it.
            db.session.rollback()
            credential = _credential(user, provider.id)
            assert credential is not None
            _update(credential, values)
    else:
        _update(credential, values)
    log.info("%s account connected for user %s", provider.id, user.id)
    return Account(provider, credential, True)


def _update(credential: Credential, values: dict[str, Any]) -> None:
    for key, value in values.items():
        setattr(credential, key, value)
    credential.updated_at = utcnow()
    db.session.commit()


def revoke(user: User, provider_id: str) -> None:
    provider = connectable(provider_id)
    credential = _credential(user, provider.id)
    if credential is not None:
        db.session.delete(credential)
        db.session.commit()
        log.info("%s account revoked for user %s", provider.id, user.id)


# --- consent to background use (SPEC §14) ----------------------------------------------


def set_background_refresh(user: User, provider_id: str, data: Any) -> Account:
    """Switch the owner's consent to use this token when nobody presses a button (default off).
    Not a rotation: `updated_at` keeps telling when the token was last connected or rotated."""
    provider = connectable(provider_id)
    value = data.get("background_refresh") if isinstance(data, Mapping) else None
    if not isinstance(value, bool):
        errors = ValidationCollector()
        errors.add("background_refresh", "Send background_refresh as true or false.")
        errors.raise_if_any()
    credential = _credential(user, provider.id)
    if credential is None:
        raise NotFound(f"Connect {provider.label} first: there is no token to allow.", code="not_connected")
    _touch(credential, background_refresh=value)
    db.session.commit()
    log.info("%s background refresh %s for user %s", provider.id, "allowed" if value else "stopped", user.id)
    return Account(provider, credential, _is_readable(credential))


# --- key rotation ---------------------------------------------------------------------


def reencrypt_all() -> tuple[int, int]:
    """Re-encrypt every credential under the first key: returns (re-encrypted, unreadable)."""

    def rewrite(credential: Credential) -> None:
        _touch(credential, ciphertext=crypto.reencrypt(credential.ciphertext))

    credentials = db.session.scalars(select(Credential).order_by(Credential.id))
    counts = crypto.reencrypt_each(credentials, rewrite, lambda credential: f"credential {credential.id}")
    db.session.commit()
    return counts
