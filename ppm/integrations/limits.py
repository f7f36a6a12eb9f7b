"""Credential writes share one limit per user, across the JSON API and the page."""

from __future__ import annotations

from flask_login import current_user

from ppm.extensions import limiter

CREDENTIAL_WRITES = "10 per minute"


def _user_key() -> str:
    return f"user:{current_user.get_id()}"


credential_write_limit = limiter.shared_limit(
    CREDENTIAL_WRITES, scope="credential-writes", key_func=_user_key)
