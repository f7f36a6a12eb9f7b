"""SQLite transactions that take the write lock up front (SPEC §19).

On PostgreSQL every writer locks its project's row first (`projects.lock_sequence`), so what it
reads and checks after that (no loop, one owner left, the parent still there) cannot change
before it commits. SQLite renders no row locks, and pysqlite's own `BEGIN` is deferred: two
writers could both read, both pass their checks, then write one after the other. So here
SQLAlchemy, not the driver, starts transactions, and every write transaction starts with
`BEGIN IMMEDIATE`, which takes the database write lock (queueing behind another writer):

* `lock_sequence` calls `take_write_lock` before the reads a writer checks, so "lock the project
  row first" means the same on both databases;
* any other transaction reads statement by statement, as pysqlite did, holding no lock between
  reads (a page being rendered, or a request waiting on a provider, never holds up a writer),
  and begins `IMMEDIATE` just before its first write.

Never a deferred transaction that reads and then writes: such a transaction can only upgrade its
read lock while no other writer is committing, and otherwise fails at once ("database is
locked") without waiting. A writer that waits longer than the busy timeout for the lock raises
OperationalError, which answers 503 `unavailable` with Retry-After (SPEC §27). A transaction
holding the lock when its request ends is rolled back
then (what a request leaves uncommitted is discarded anyway), so the lock never outlives it."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_PENDING = "ppm_begin_pending"  # on the connection: a transaction began, its BEGIN not yet sent
_LOCKED = "ppm_write_locked"  # on the connection: its transaction holds the write lock


def install(app: Flask, engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _driver_leaves_transactions_to_us(dbapi_connection: Any, _record: Any) -> None:
        # The SQLAlchemy recipe for pysqlite: with isolation_level None the driver sends no
        # BEGIN of its own; the events below send ours.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.info[_PENDING] = True

    @event.listens_for(engine, "before_cursor_execute")
    def _before_first_write(connection: Connection, cursor: Any, statement: str, *_args: Any) -> None:
        if connection.info.get(_PENDING) and statement.lstrip()[:7].upper().startswith(_WRITES):
            connection.info[_PENDING] = False
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                # Waited the busy timeout for another writer: the driver's error, raised here
                # outside SQLAlchemy's wrapping, becomes the one the 503 handler knows (SPEC §27).
                raise exc.OperationalError("BEGIN IMMEDIATE", None, error) from error
            connection.info[_LOCKED] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection: Connection) -> None:
        connection.info[_PENDING] = connection.info[_LOCKED] = False

    @app.teardown_request
    def _release(_error: BaseException | None) -> None:
        # The session ends with the app context anyway; this frees the lock where the app
        # context lives on after the request (a test's, or a CLI command serving requests).
        from ppm.extensions import db

        session = db.session()
        if session.in_transaction() and session.connection().info.get(_LOCKED):
            session.rollback()


def take_write_lock(connection: Connection) -> None:
    """Begin the connection's transaction with the write lock now, if it has not begun yet.
    (No-op on PostgreSQL, where nothing here is installed.)"""
    if connection.info.get(_PENDING):
        connection.info[_PENDING] = False
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # a busy database raises OperationalError: 503
        connection.info[_LOCKED] = True
