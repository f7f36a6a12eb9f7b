"""Liveness and readiness for load balancers, orchestrators and the Dockerfile's HEALTHCHECK.

`GET /healthz`: the process answers (touches nothing else). `GET /readyz`: the database answers,
its schema is at the migrations' head, and Redis answers when one is configured; otherwise 503
naming what failed. Both are outside /api/v1, need no login, are never rate-limited, and say
nothing about versions, revisions, hosts or errors (a probe's answer is public).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import inspect, text

from ppm.extensions import csrf, db, limiter

log = logging.getLogger("ppm.health")
bp = Blueprint("health", __name__)

ENDPOINTS = frozenset({"health.healthz", "health.readyz"})


def _probe_response(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    return _probe_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    checks = readiness_checks(current_app)
    failed = [name for name, result in checks.items() if result != "ok"]
    if failed:
        return _probe_response({"status": "unavailable", "checks": checks, "failed": failed}, 503)
    return _probe_response({"status": "ok", "checks": checks})


def readiness_checks(app: Flask) -> dict[str, str]:
    checks: dict[str, str] = {}
    checks["database"], checks["migrations"] = _database_and_migrations(app)
    for name in _redis_dependencies(app):
        checks[name] = "ok" if _redis_answers(name) else "unreachable"
    return checks


def _database_and_migrations(app: Flask) -> tuple[str, str]:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            applied = _applied_revisions(conn)
    except Exception as error:  # any failure to talk to it means "not ready"
        log.warning("readiness: database unreachable (%s)", type(error).__name__)
        return "unreachable", "unknown"
    return "ok", ("ok" if applied == _migration_heads(app) else "pending")


def _applied_revisions(conn: Any) -> set[str]:
    # Read directly rather than through alembic's MigrationContext, which logs on every probe.
    if not inspect(conn).has_table("alembic_version"):
        return set()
    return {str(row[0]) for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def _migration_heads(app: Flask) -> set[str]:
    """The head revisions of migrations/, read once per app (the files don't change under it)."""
    heads = app.extensions.get("ppm.migration_heads")
    if heads is None:
        directory = app.extensions["migrate"].directory
        config = AlembicConfig()
        config.set_main_option("script_location", str(Path(directory)))
        heads = set(ScriptDirectory.from_config(config).get_heads())
        app.extensions["ppm.migration_heads"] = heads
    return set(heads)


def redis_is_configured_for_limits(app: Flask) -> bool:
    return str(app.config.get("RATELIMIT_STORAGE_URI") or "").startswith("redis")


def _redis_dependencies(app: Flask) -> list[str]:
    """Which Redis servers this app depends on: the job queue's and the rate limits' storage."""
    names = ["redis"] if app.config.get("REDIS_URL") else []
    return names + (["rate_limit_storage"] if redis_is_configured_for_limits(app) else [])


def _redis_answers(name: str) -> bool:
    """Asked through the client the app itself uses for it, with that client's timeouts: the
    limiter's storage, or the job queue's connection (pooled, so a probe opens nothing new)."""
    if name == "rate_limit_storage":
        return bool(limiter.storage.check())  # the limiter's own client (any redis scheme it knows)
    from ppm.jobs.queue import connection

    try:
        return bool(connection().ping())
    except Exception as error:
        log.warning("readiness: %s unreachable (%s)", name, type(error).__name__)
        return False


def init_health(app: Flask) -> None:
    from ppm.auth.guard import PUBLIC_ENDPOINTS

    PUBLIC_ENDPOINTS.update(ENDPOINTS)  # probes need no login
    limiter.exempt(bp)
    csrf.exempt(bp)
    app.register_blueprint(bp)
