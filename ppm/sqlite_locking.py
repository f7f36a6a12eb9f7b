"""SQLite transactions that take the write lock up front (SPEC §19).

On PostgreSQL every writer locks its project's row first (`projects.lock_sequence`), so a writer
reads what it checks only after the previous writer committed. SQLite renders no row locks, and
pysqlite's own `BEGIN` is deferred: two writers could both read, both pass their checks (a move
that makes no loop, a last owner who may leave), then write one after the other. Here
SQLAlchemy, not the driver, starts each transaction, with `BEGIN IMMEDIATE` for anything that
may write, so the same discipline means the same thing on both databases.

Requests with a safe method (GET, HEAD, OPTIONS) read with a plain deferred `BEGIN`: they must
not queue behind writers, nor hold writers up."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def begin_statement() -> str:
    """`BEGIN` for a safe request's reads, `BEGIN IMMEDIATE` for anything else (writes,
    and work outside a request: the CLI, jobs, tests calling services)."""
    if has_request_context() and request.method in SAFE_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


def install(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _driver_leaves_transactions_to_us(dbapi_connection: Any, _record: Any) -> None:
        # isolation_level None: pysqlite emits no BEGIN of its own (the SQLAlchemy recipe for
        # pysqlite's transaction handling); the "begin" event below emits ours.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin_statement())
