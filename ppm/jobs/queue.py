"""The one place that knows Redis and RQ (SPEC §14): the connection, the queue, and the error
that the queue's routes answer when there is none (503 `queue_unavailable`)."""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import current_app
from rq import Queue, Retry

from ppm.errors import DomainError

log = logging.getLogger("ppm.jobs")

QUEUE_NAME = "ppm"
# A link refresh is bounded by the egress budget (5 s) plus a wait for a host slot; a chunk of
# them gets this long before RQ gives up on it.
JOB_TIMEOUT_SECONDS = 600
# A work horse that dies (killed, out of memory) has its chunk run once more; links it had
# already written are not refreshed again (see ppm.jobs.services).
CHUNK_RETRY = Retry(max=1)
# SPEC §27: a web request gives up on Redis within half a second (a hung Redis, one that
# accepts and never answers, costs a page that much); every command a request sends is small.
WEB_REDIS_TIMEOUT = 0.5


class QueueUnavailable(DomainError):
    status = 503
    code = "queue_unavailable"
    detail = "Background refresh is off on this ppm: no job queue is configured."


def configured() -> bool:
    return bool(current_app.config.get("REDIS_URL"))


def connection() -> redis.Redis:
    """The app's Redis client (one per app; short timeouts so a Redis outage or a hung Redis
    answers at once). Workers use it too for their short commands; blocking waits on the queue
    use `worker_connection`."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise QueueUnavailable()
    clients: dict[str, redis.Redis] = current_app.extensions.setdefault("ppm_redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=WEB_REDIS_TIMEOUT, socket_timeout=WEB_REDIS_TIMEOUT
        )
    return clients[url]


def queue(conn: redis.Redis | None = None) -> Queue:
    return Queue(QUEUE_NAME, connection=conn or connection(), default_timeout=JOB_TIMEOUT_SECONDS)


def worker_connection() -> redis.Redis:
    """A worker's own client: it blocks on the queue for minutes, longer than any socket timeout
    a web request should have."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise QueueUnavailable()
    return redis.Redis.from_url(url, socket_connect_timeout=5.0)


def guarded(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a Redis operation for a request; an unreachable Redis is a 503, never a 500."""
    try:
        return call(*args, **kwargs)
    except redis.exceptions.RedisError as error:
        log.warning("the job queue's Redis is unreachable: %s", error)
        raise QueueUnavailable(
            "Background refresh is unavailable right now (ppm cannot reach its job queue). Try again later."
        ) from None
