"""The functions RQ runs (referenced by import path when jobs are queued). They run in the
worker's app context; a forked work horse first drops the database connections it inherited."""

from __future__ import annotations

import os

from ppm.extensions import db
from ppm.jobs import services

_forked = False


def _after_fork() -> None:
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_after_fork)


def _fresh_connections() -> None:
    """A work horse shares its parent's pooled connections until it drops them (without closing
    them: they are the parent's)."""
    global _forked
    if _forked:
        db.engine.dispose(close=False)
        _forked = False


def refresh_chunk(job_id: str, link_ids: list[str], requester_id: str | None) -> None:
    _fresh_connections()
    try:
        services.run_chunk(job_id, link_ids, requester_id)
    finally:
        db.session.rollback()  # nothing left open (the in-process worker keeps its session)


def sweep() -> str | None:
    _fresh_connections()
    try:
        record = services.sweep()
        return record.id if record else None
    finally:
        db.session.rollback()  # nothing left open (the in-process worker keeps its session)


def deliver_notifications(subscription_id: str) -> int:
    from rq import get_current_job

    from ppm.jobs import notify
    from ppm.jobs.queue import connection

    _fresh_connections()
    job = get_current_job()
    try:
        return notify.run_job(subscription_id, job.connection if job is not None else connection())
    finally:
        db.session.rollback()
