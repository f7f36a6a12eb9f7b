"""`flask --app wsgi ppm worker [--burst]` and `flask --app wsgi ppm sweep` (SPEC §14)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time

import click
import redis
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker, Worker
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from ppm.errors import DomainError
from ppm.extensions import db
from ppm.jobs import notify, services
from ppm.jobs.queue import connection, queue, worker_connection

log = logging.getLogger("ppm.jobs")

TICK_SECONDS = 5.0
NOTIFY_TICK_SECONDS = 1.0
REDIS_WAIT_MAX_SECONDS = 30.0  # the longest pause between two attempts to reach a lost Redis


@click.command("worker")
@click.option("--burst", is_flag=True, help="Process what is queued, in this process, then exit.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run a job worker (several may run, on several machines)."""
    try:
        conn = worker_connection()
        conn.ping()
    except (DomainError, redis.exceptions.RedisError) as error:
        if burst:
            _drain_outbox(None)  # notifications need no queue to be sent from here
        click.echo(f"Error: no job queue: {getattr(error, 'detail', error)} Set REDIS_URL.", err=True)
        sys.exit(1)
    if burst:
        # In this process (no fork): what the tests and a cron line use.
        SimpleWorker([queue(conn)], connection=conn).work(burst=True, logging_level="WARNING")
        _drain_outbox(conn)  # and the notifications due now (SPEC §25)
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=_notify_ticker, args=(app,), name="ppm-notify-ticker", daemon=True).start()
    interval = int(current_app.config.get("LINK_REFRESH_INTERVAL") or 0)
    if interval > 0:
        threading.Thread(target=_ticker, args=(app, interval), name="ppm-sweep-ticker", daemon=True).start()
    else:
        click.echo("Scheduled refresh is off (LINK_REFRESH_INTERVAL=0); this worker runs queued jobs only.")
    _work_through_outages(conn)


def _work_through_outages(conn: redis.Redis) -> None:
    """RQ's worker, started again whenever Redis goes away in the middle of a job. Idle, RQ waits
    for Redis by itself; busy, it exits with the error. Either way a Redis restart must not need
    a worker restart: the jobs queued after it are run."""
    while True:
        rq_worker = Worker([queue(conn)], connection=conn)
        try:
            rq_worker.work(logging_level="INFO")
            return  # asked to stop (SIGTERM, SIGINT)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            # Only a lost connection: any other Redis error is a fault to see, not to retry.
            log.warning("the job queue's Redis went away during a job (%s); waiting for it to return", error)
        if rq_worker.pubsub_thread is not None:
            rq_worker.pubsub_thread.stop()  # its command listener would outlive it, reconnecting
        _wait_for_redis(conn)


def _wait_for_redis(conn: redis.Redis) -> None:
    # RQ's signal handlers expect a running worker; while waiting, a stop signal simply ends us.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    pause = 1.0
    while True:
        try:
            conn.ping()
            log.warning("the job queue's Redis answers again; the worker resumes")
            return
        except redis.exceptions.RedisError:
            time.sleep(pause)
            pause = min(pause * 2, REDIS_WAIT_MAX_SECONDS)


def _ticker(app: object, interval: int) -> None:
    """Every few seconds, offer to queue this interval's sweep (one worker wins each interval)."""
    with app.app_context():  # type: ignore[attr-defined]
        while True:
            try:
                services.tick(connection(), interval)
            except redis.exceptions.RedisError as error:
                log.warning("sweep tick skipped: %s", error)
            time.sleep(TICK_SECONDS)


def _drain_outbox(conn: redis.Redis | None) -> None:
    try:
        notify.drain(conn)
    except redis.exceptions.RedisError as error:
        log.warning("notifications not drained: the job queue's Redis went away (%s)", error)
        notify.drain(None)


def _notify_ticker(app: object) -> None:
    """Every second, queue a delivery job for each subscription with an event due (SPEC §25).
    A lost Redis or database only skips ticks: the outbox keeps the events until one passes."""
    with app.app_context():  # type: ignore[attr-defined]
        pause = float(current_app.config.get("NOTIFY_TICK_SECONDS") or NOTIFY_TICK_SECONDS)
        # Its own unpooled connections: the work horses RQ forks from this process inherit the
        # app's pool, which must stay unused here (a connection used on both sides of a fork
        # breaks both).
        engine = create_engine(db.engine.url, poolclass=NullPool)
        while True:
            try:
                conn = connection()
                with Session(engine) as session:
                    notify.offer(conn, queue(conn), session)
            except Exception as error:
                log.warning("notification tick skipped: %s", error)
            time.sleep(pause)


@click.command("sweep")
@with_appcontext
def sweep() -> None:
    """Queue one sweep of the links that are due for a refresh, now."""
    try:
        job_id = services.queue_sweep()
    except (DomainError, redis.exceptions.RedisError) as error:
        click.echo(f"Error: no job queue: {getattr(error, 'detail', error)} Set REDIS_URL.", err=True)
        sys.exit(1)
    click.echo(f"Queued a sweep ({job_id}); a worker will run it.")
