"""Per-user limits on calls that reach the outside world, shared by the JSON API and the pages."""

from __future__ import annotations

from flask_login import current_user

from ppm.extensions import limiter

CREDENTIAL_WRITES = "10 per minute"
LINK_REFRESHES = "30 per minute"  # git status and cloud-file previews together


def _user_key() -> str:
    return f"user:{current_user.id}"  # the user, not the session: logging in again resets nothing


credential_write_limit = limiter.shared_limit(CREDENTIAL_WRITES, scope="credential-writes", key_func=_user_key)

link_refresh_limit = limiter.shared_limit(LINK_REFRESHES, scope="link-refresh", key_func=_user_key)
