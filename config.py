"""Configuration read from the environment (SPEC §11, §12).

`create_app(config)` picks a class by `PPM_ENV` and then applies the dict of overrides.
Secrets that are missing in development are generated once into the instance folder.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _seconds_list(name: str) -> list[int] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return [int(part) for part in raw.split(",") if part.strip()]


def _hosts(name: str) -> list[str]:
    raw = os.environ.get(name, "")
    return [h.strip().lower() for h in raw.split(",") if h.strip()]


class Config:
    ENV_NAME = "development"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    INTEGRATION_ENCRYPTION_KEY: str | None = os.environ.get("INTEGRATION_ENCRYPTION_KEY")
    # None means "a SQLite file in the instance folder", filled in by create_app.
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    # hide_parameters: a failed statement's log line must never carry a value (a ciphertext).
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True, "hide_parameters": True}
    INTEGRATION_ALLOWED_HOSTS = _hosts("INTEGRATION_ALLOWED_HOSTS")
    EGRESS_ALLOWLISTED_HOSTS = _hosts("EGRESS_ALLOWLISTED_HOSTS")
    NOTIFY_ALLOWLISTED_HOSTS = _hosts("NOTIFY_ALLOWLISTED_HOSTS")
    INTEGRATION_ALLOW_HTTP = _bool("INTEGRATION_ALLOW_HTTP")
    ALLOW_SIGNUP = _bool("ALLOW_SIGNUP")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # The job queue (SPEC §14): unset means no background refresh; the rest of ppm works as before.
    REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
    LINK_REFRESH_INTERVAL = int(os.environ.get("LINK_REFRESH_INTERVAL", "900") or 0)  # seconds; 0: off
    # An open schedule page asks for changes this often (SPEC §23); seconds, 0: never.
    LIVE_INTERVAL = int(os.environ.get("LIVE_INTERVAL", "10") or 0)
    WTF_CSRF_ENABLED = True
    # CSRF is checked by our own before_request so that authentication is judged first.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Reverse proxies in front of ppm whose X-Forwarded-* headers are trusted (0: none).
    PROXY_HOPS = int(os.environ.get("PPM_PROXY_HOPS", "0") or 0)
    # The public root of ppm (https://ppm.example.org) for webhook payload URLs behind a proxy;
    # unset: the request's own scheme and host.
    PPM_BASE_URL: str | None = os.environ.get("PPM_BASE_URL") or None
    WEBHOOK_DELIVERY_LIMIT = "6000 per minute"  # per receiver (SPEC §13)
    # Notifications out (SPEC §25). Unset: the spec's waits between tries (10 s … 6 h); the
    # lease that keeps one deliverer per subscription; how often a worker looks at the outbox.
    NOTIFY_RETRY_WAITS: list[int] | None = _seconds_list("NOTIFY_RETRY_WAITS")
    NOTIFY_LEASE_SECONDS = float(os.environ.get("NOTIFY_LEASE_SECONDS", "15") or 15)
    NOTIFY_TICK_SECONDS = float(os.environ.get("NOTIFY_TICK_SECONDS", "1") or 1)
    TESTING = False


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    PREFERRED_URL_SCHEME = "https"


def config_for_environment(env: str | None = None) -> type[Config]:
    """`env` (a PPM_ENV override given to create_app) wins over the environment variable."""
    chosen = env if env is not None else os.environ.get("PPM_ENV", "")
    if str(chosen).strip().lower() == "production":
        return ProductionConfig
    return Config
