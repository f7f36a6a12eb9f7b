"""Provider limits across every worker (SPEC §14), kept in Redis:
- at most HOST_CONCURRENCY calls to one host at once (a counting semaphore: a sorted set of
  leases, each expiring after LEASE_SECONDS so a killed worker cannot hold a slot for ever);
- a `provider_rate_limited` answer pauses that host with that credential until the provider's
  reset time (Retry-After, RateLimit-Reset / X-RateLimit-Reset, else 60 s)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import redis

from ppm.jobs import progress
from ppm.models_base import new_id, utcnow

log = logging.getLogger("ppm.jobs")

HOST_CONCURRENCY = 4
LEASE_SECONDS = 30  # far above the 5 s egress budget of one call
SLOT_WAIT_SECONDS = 120
DEFAULT_PAUSE_SECONDS = 60
MAX_PAUSE_SECONDS = 24 * 3600

# Drop expired leases; take a slot if fewer than the limit are held. KEYS[1] the set;
# ARGV: now (ms), lease (ms), limit, lease id.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


class NoSlot(Exception):
    """No call slot for this host came free in time."""


def _slot_key(host: str) -> str:
    return f"ppm:host-slots:{host}"


def _pause_key(host: str, credential_id: str | None) -> str:
    return f"ppm:paused:{host}:{credential_id or 'anonymous'}"


@contextmanager
def host_slot(conn: redis.Redis, host: str, wait: float = SLOT_WAIT_SECONDS) -> Iterator[None]:
    """Hold one of the host's call slots for the duration of the block."""
    key, lease = _slot_key(host), new_id()
    deadline = time.monotonic() + wait
    while not conn.eval(_ACQUIRE, 1, key, int(time.time() * 1000), LEASE_SECONDS * 1000, HOST_CONCURRENCY, lease):
        if time.monotonic() > deadline:
            raise NoSlot(host)
        time.sleep(random.uniform(0.005, 0.02))  # noqa: S311 - jitter, not security
    try:
        yield
    finally:
        conn.zrem(key, lease)


def paused_until(conn: redis.Redis, host: str, credential_id: str | None) -> datetime | None:
    raw = progress.get_text(conn, _pause_key(host, credential_id))
    return datetime.fromtimestamp(float(raw), UTC) if raw else None


def pause(conn: redis.Redis, host: str, credential_id: str | None, until: datetime) -> None:
    seconds = max(1, min(MAX_PAUSE_SECONDS, int((until - utcnow()).total_seconds() + 0.999)))
    conn.set(_pause_key(host, credential_id), str(until.timestamp()), ex=seconds)
    log.info("background calls to %s paused for %s s (provider rate limit)", host, seconds)


def reset_time(headers: Mapping[str, str], retry_at: datetime | None = None, now: datetime | None = None) -> datetime:
    """When the provider says to try again: the refresh error's own `retry_at` when it has one,
    else Retry-After (seconds or an HTTP date), else RateLimit-Reset / X-RateLimit-Reset (epoch
    seconds), else 60 seconds from now."""
    now = now or utcnow()
    if retry_at is not None:
        return retry_at if retry_at.tzinfo else retry_at.replace(tzinfo=UTC)
    lowered = {name.lower(): value for name, value in headers.items()}
    after = (lowered.get("retry-after") or "").strip()
    if after.isdigit():
        return now + timedelta(seconds=int(after))
    if after:
        try:
            when = parsedate_to_datetime(after)
            return when if when.tzinfo else when.replace(tzinfo=UTC)
        except (TypeError, ValueError):
            pass
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        value = (lowered.get(name) or "").strip()
        if value.isdigit():
            return datetime.fromtimestamp(int(value), UTC)
    return now + timedelta(seconds=DEFAULT_PAUSE_SECONDS)
