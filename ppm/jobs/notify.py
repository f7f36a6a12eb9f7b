"""Delivering notifications (SPEC §25): the outbox drained through the egress helper (5 s, no
redirects), one deliverer per subscription at a time (its lease in the database keeps the order
of events), at most 4 calls at once per destination host (the shared host slots), each attempt
recorded. Runs inside RQ jobs queued by the worker's ticker, and in `ppm worker --burst`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import redis

from ppm import egress
from ppm.jobs import limits
from ppm.models_base import new_id
from ppm.notifications import formats
from ppm.notifications import services as notifications

log = logging.getLogger("ppm.jobs")

QUEUED_KEY = "ppm:notify:queued:"  # set while a delivery job for the subscription waits in RQ
QUEUED_TTL = 300
TIMEOUT_SECONDS = 5.0


def _error_code(error: egress.EgressError) -> str:
    if isinstance(error, egress.EgressBlocked):
        return "blocked_address"
    if isinstance(error, egress.EgressTimeout):
        return "timeout"
    if isinstance(error, egress.EgressTooLarge):
        return "response_too_large"
    message = str(error)
    if message == egress.MSG_NO_NAME:
        return "dns_failed"
    if message == egress.MSG_REFUSED:
        return "connection_refused"
    if message == egress.MSG_TLS:
        return "tls_failed"
    return "connection_failed"


def send(item: notifications.Outgoing) -> notifications.Outcome:
    """One attempt: the event's bytes, signed now, through the egress helper."""
    timestamp = int(time.time())
    headers = formats.headers(item.format, item.event_id, timestamp, item.body, item.secret)
    started = time.monotonic()
    try:
        response = egress.fetch(
            "POST",
            item.url,
            headers=headers,
            data=item.body,
            timeout=TIMEOUT_SECONDS,
            max_bytes=65536,
            allowlist=egress.NOTIFY_ALLOWLIST,  # never the provider hosts' allow-list
        )
        status: int | None = response.status
        error = None
    except egress.EgressTooLarge:
        status, error = None, "response_too_large"
    except egress.EgressError as failure:
        status, error = None, _error_code(failure)
    duration = int((time.monotonic() - started) * 1000)
    log.info("notification %s (%s) attempt: %s in %d ms", item.event_id, item.type, status or error, duration)
    return notifications.Outcome(status, error, duration)


@contextmanager
def _slot(conn: redis.Redis | None, host: str) -> Iterator[None]:
    with limits.host_slot(conn, host) if conn is not None else nullcontext():
        yield


def deliver_subscription(subscription_id: str, conn: redis.Redis | None = None) -> int:
    """Deliver the subscription's due events in order until none is due or one fails. Returns
    the number of attempts made; 0 when another deliverer holds the subscription."""
    owner = new_id()
    if not notifications.claim(subscription_id, owner):
        return 0
    attempts = 0
    try:
        while True:
            item = notifications.next_due(subscription_id)
            if item is None:
                break
            try:
                with _slot(conn, item.host):
                    if not notifications.claim(subscription_id, owner):  # the wait outlived the lease
                        break
                    outcome = send(item)
            except limits.NoSlot:
                break  # the host is busy with others; the ticker offers it again
            attempts += 1
            if not notifications.record(item, outcome, owner):
                break
    finally:
        notifications.release(subscription_id, owner)
    return attempts


def drain(conn: redis.Redis | None = None) -> int:
    """Deliver everything due now, in this process (`ppm worker --burst`, tests, scripts)."""
    total = 0
    while True:
        due = notifications.due_subscriptions()
        if not due:
            return total
        made = sum(deliver_subscription(sid, conn) for sid in due)
        total += made
        if made == 0:
            return total  # what is due is held by other deliverers


def offer(conn: redis.Redis, queue: Any, session: Any = None) -> int:
    """The worker's tick: queue one delivery job per due subscription not already queued."""
    queued = 0
    for subscription_id in notifications.due_subscriptions(session=session):
        if conn.set(QUEUED_KEY + subscription_id, "1", nx=True, ex=QUEUED_TTL):
            queue.enqueue(
                "ppm.jobs.tasks.deliver_notifications",
                subscription_id,
                job_timeout=600,
                result_ttl=0,
                failure_ttl=3600,
            )
            queued += 1
    return queued


def run_job(subscription_id: str, conn: redis.Redis) -> int:
    try:
        conn.delete(QUEUED_KEY + subscription_id)
    except redis.exceptions.RedisError:
        pass
    return deliver_subscription(subscription_id, conn)
