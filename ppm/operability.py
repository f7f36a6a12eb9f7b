"""What keeps ppm answering while a dependency is away (SPEC §11, issue #16).

- PostgreSQL down: requests answer 503 (`ppm.errors`), never hang for minutes on a dead host
  (a connect timeout), and the pool's pre-ping finds the database again when it returns.
- Redis down: rate limits fall back to per-process memory (Flask-Limiter logs that once) instead
  of failing the request, and a hung Redis costs a request at most half a second (SPEC §27).
- Probes (`ppm.health`) and request ids (`ppm.request_id`) are wired in here.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

# Seconds to wait for a new database connection before the request answers 503.
DATABASE_CONNECT_TIMEOUT = 5
# Seconds a rate-limit lookup may wait on Redis before the in-memory fallback takes over.
RATE_LIMIT_STORAGE_TIMEOUT = 0.5


def prepare_config(app: Flask) -> None:
    """Settings the extensions read at init; an operator's explicit value always wins."""
    config = app.config
    options: dict[str, Any] = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_pre_ping", True)  # a connection that died with the server is replaced
    if str(config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("postgresql"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
        options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if str(config.get("RATELIMIT_STORAGE_URI") or "").startswith("redis"):
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {"socket_connect_timeout": RATE_LIMIT_STORAGE_TIMEOUT, "socket_timeout": RATE_LIMIT_STORAGE_TIMEOUT},
        )


def init_operability(app: Flask) -> None:
    """After everything else: the request-id middleware must wrap the whole app (ProxyFix too)."""
    from ppm.health import init_health
    from ppm.request_id import init_request_ids

    init_health(app)
    init_request_ids(app)
