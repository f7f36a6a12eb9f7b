"""SQLite transactions that take the write lock up front (SPEC §19).

On PostgreSQL every writer locks its project's row first (`projects.lock_sequence`), so what it
reads and checks after that (no loop, one owner left, the parent still there) cannot change
before it commits. SQLite renders no row locks, and pysqlite's own `BEGIN` is deferred: two
writers could both read, both pass their checks, then write one after the other. So here
SQLAlchemy, not the driver, starts transactions, and every write transaction starts with
`BEGIN IMMEDIATE`, which takes the database write lock (queueing behind another writer) before
anything is read in it:

* a request that may write (any method but GET, HEAD, OPTIONS) begins `IMMEDIATE` at its first
  statement, so everything it reads is read under the lock;
* anything else (reading requests, and work outside a request: the CLI, jobs, tests) reads
  statement by statement as pysqlite did, holding no lock between reads (a page being rendered
  never holds up a writer); it begins `IMMEDIATE` just before its first write, or when
  `lock_sequence` calls `take_write_lock` before the reads a writer will check.

Never a deferred transaction that reads and then writes: such a transaction can only upgrade its
read lock while no other writer is committing, and otherwise fails at once ("database is
locked") without waiting."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_PENDING = "ppm_begin_pending"  # on the connection: a transaction began, its BEGIN not yet sent
_LOCKED = "ppm_write_locked"  # on the connection: its transaction holds the write lock


def _writing_request() -> bool:
    return has_request_context() and request.method not in SAFE_METHODS


def install(app: Flask, engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _driver_leaves_transactions_to_us(dbapi_connection: Any, _record: Any) -> None:
        # The SQLAlchemy recipe for pysqlite: with isolation_level None the driver sends no
        # BEGIN of its own; the events below send ours.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.info[_PENDING] = True
        if _writing_request():
            take_write_lock(connection)

    @event.listens_for(engine, "before_cursor_execute")
    def _before_first_write(connection: Connection, cursor: Any, statement: str, *_args: Any) -> None:
        if connection.info.get(_PENDING) and statement.lstrip()[:7].upper().startswith(_WRITES):
            connection.info[_PENDING] = False
            connection.info[_LOCKED] = True
            cursor.execute("BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection: Connection) -> None:
        connection.info[_PENDING] = connection.info[_LOCKED] = False

    @app.teardown_request
    def _release(_error: BaseException | None) -> None:
        # What a request left uncommitted is discarded anyway (the session ends with the app
        # context); ending it here frees the write lock even where the app context lives on
        # (a test's, or a CLI command's that serves requests).
        from ppm.extensions import db

        session = db.session()
        if session.in_transaction() and session.connection().info.get(_LOCKED):
            session.rollback()


def take_write_lock(connection: Connection) -> None:
    """Begin the connection's transaction with the write lock now, if it has not begun yet.
    (No-op on PostgreSQL, where nothing here is installed.)"""
    if connection.info.get(_PENDING):
        connection.info[_PENDING] = False
        connection.info[_LOCKED] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")
