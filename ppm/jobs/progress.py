"""A job's progress, kept in Redis where every worker and every web process can read it.

Keys (all expire a week after the job was made):
- `ppm:job:<id>`          hash: id, kind, user_id, project_id, state, total, done, failed,
                           skipped, created_at, started_at, finished_at, chunks (RQ ids, JSON)
- `ppm:job:<id>:errors`   hash: refresh error code -> count
- `ppm:job:<id>:links`    set: the links already counted (a chunk run again after its worker
                           died skips them, so nothing is counted or fetched twice)
- `ppm:job:<id>:beat`     present while one of the job's chunks is running: the process running
                           it renews it every BEAT_SECONDS; it lapses LOST_AFTER_SECONDS after
                           that process died (see ppm.jobs.services.current_state)
- `ppm:active:<user>:<project>`  the person's queued or running Refresh all of that project
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from ppm.models_base import iso, new_id, utcnow

log = logging.getLogger("ppm.jobs")

KEEP_SECONDS = 7 * 24 * 3600
LIVE_STATES = ("queued", "running")
BEAT_SECONDS = 3
# A chunk whose process has not beaten for this long is taken for dead: many missed beats, yet
# a person who presses Refresh all again after a crash waits seconds, not RQ's ten minutes.
LOST_AFTER_SECONDS = 20

# Count one link once: add it to the job's set; only if it was new, bump its counter (and its
# error code), and when every link is counted mark the job done and free the person's slot.
# A job no longer live (given up: its worker was taken for lost) counts nothing more: -1.
_RECORD = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'queued' and state ~= 'running' then return -1 end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[3], 1) end
local h = redis.call('HMGET', KEYS[1], 'done', 'failed', 'skipped', 'total')
local counted = tonumber(h[1] or '0') + tonumber(h[2] or '0') + tonumber(h[3] or '0')
if counted >= tonumber(h[4] or '0') then
  redis.call('HSET', KEYS[1], 'state', 'done', 'finished_at', ARGV[4])
  if KEYS[4] ~= '' and redis.call('GET', KEYS[4]) == ARGV[5] then redis.call('DEL', KEYS[4]) end
end
return 1
"""

# Queued -> running, once, with the time the first chunk started.
_START = """
if redis.call('HGET', KEYS[1], 'state') == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'running', 'started_at', ARGV[1])
end
return 1
"""


def get_text(conn: redis.Redis, key: str) -> str | None:
    """A string value (redis-py's types also cover its asyncio client; this is the sync one)."""
    raw: Any = conn.get(key)
    return raw.decode() if raw is not None else None


_JOB_ID = re.compile(r"[0-9a-f]{32}")


def valid_job_id(job_id: object) -> bool:
    """A job id as `create` makes them (models_base.new_id): anything else names no job, and
    must never reach a key (`<id>:errors` is another key of the same job)."""
    return isinstance(job_id, str) and _JOB_ID.fullmatch(job_id) is not None


def job_key(job_id: str) -> str:
    return f"ppm:job:{job_id}"


def active_key(user_id: str, project_id: str) -> str:
    return f"ppm:active:{user_id}:{project_id}"


@dataclass
class JobRecord:
    id: str
    kind: str
    user_id: str
    project_id: str
    state: str
    total: int
    done: int
    failed: int
    skipped: int
    errors: dict[str, int]
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    chunks: list[str]

    @property
    def counted(self) -> int:
        return self.done + self.failed + self.skipped

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def as_json(self) -> dict[str, Any]:
        """SPEC §14's shape of `GET /api/v1/jobs/{j}/`."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "errors": dict(self.errors),
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


def create(conn: redis.Redis, kind: str, user_id: str, project_id: str, total: int) -> JobRecord:
    job_id = new_id()
    now = iso(utcnow())
    fields = {
        "id": job_id,
        "kind": kind,
        "user_id": user_id,
        "project_id": project_id,
        "state": "done" if total == 0 else "queued",
        "total": total,
        "done": 0,
        "failed": 0,
        "skipped": 0,
        "created_at": now,
        "started_at": now if total == 0 else "",
        "finished_at": now if total == 0 else "",
        "chunks": "[]",
    }
    with conn.pipeline() as pipe:
        pipe.hset(job_key(job_id), mapping=fields)  # type: ignore[arg-type]
        pipe.expire(job_key(job_id), KEEP_SECONDS)
        pipe.execute()
    found = load(conn, job_id)
    assert found is not None
    return found


def set_chunks(conn: redis.Redis, job_id: str, chunk_ids: list[str]) -> None:
    conn.hset(job_key(job_id), "chunks", json.dumps(chunk_ids))


def load(conn: redis.Redis, job_id: str) -> JobRecord | None:
    with conn.pipeline() as pipe:
        pipe.hgetall(job_key(job_id))
        pipe.hgetall(job_key(job_id) + ":errors")
        raw, raw_errors = pipe.execute()
    if not raw:
        return None
    data = {k.decode(): v.decode() for k, v in raw.items()}
    errors = {k.decode(): int(v) for k, v in raw_errors.items()}
    return JobRecord(
        id=data["id"],
        kind=data.get("kind", ""),
        user_id=data.get("user_id", ""),
        project_id=data.get("project_id", ""),
        state=data.get("state", "failed"),
        total=int(data.get("total", 0)),
        done=int(data.get("done", 0)),
        failed=int(data.get("failed", 0)),
        skipped=int(data.get("skipped", 0)),
        errors=dict(sorted(errors.items())),
        created_at=data.get("created_at") or None,
        started_at=data.get("started_at") or None,
        finished_at=data.get("finished_at") or None,
        chunks=json.loads(data.get("chunks") or "[]"),
    )


def mark_running(conn: redis.Redis, job_id: str) -> None:
    conn.eval(_START, 1, job_key(job_id), iso(utcnow()) or "")


# Live -> failed, once; the person's slot is freed only while it still names this job (another
# reader may have failed it already and the person started a new one since).
_FAIL = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'queued' and state ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'failed', 'finished_at', ARGV[1])
free_slot(KEYS[2], ARGV[2])
return 1
"""

# Delete the slot only if it still names this job.
_FREE_SLOT = """
local function free_slot(slot, job_id)
  if slot ~= '' and redis.call('GET', slot) == job_id then redis.call('DEL', slot) end
end
"""


def mark_failed(conn: redis.Redis, record: JobRecord, claim: str | None = None) -> None:
    """Its chunks have ended without counting every link (a worker died twice, say), or none
    could be queued. The claim it holds (a person's slot, or `claim`: the sweep's marker) is
    freed if it still names this job."""
    slot = active_key(record.user_id, record.project_id) if record.kind == "refresh_all" else ""
    slot = claim if claim is not None else slot
    conn.eval(_FREE_SLOT + _FAIL, 2, job_key(record.id), slot, iso(utcnow()) or "", record.id)
    found = load(conn, record.id)
    record.state = found.state if found is not None else "failed"


def free_slot(conn: redis.Redis, slot: str, job_id: str) -> None:
    """Free the person's slot if it still names `job_id` (not a job started since)."""
    conn.eval(_FREE_SLOT + "free_slot(KEYS[1], ARGV[1])\nreturn 1", 1, slot, job_id)


def handled(conn: redis.Redis, job_id: str) -> set[str]:
    members: Any = conn.smembers(job_key(job_id) + ":links")
    return {member.decode() for member in members}


def record(conn: redis.Redis, record: JobRecord, link_id: str, counter: str, code: str | None) -> bool:
    """Count one link as done, failed or skipped (with its error code), exactly once. False when
    the job is no longer live: its chunk should stop."""
    key = job_key(record.id)
    active = active_key(record.user_id, record.project_id) if record.kind == "refresh_all" else ""
    with conn.pipeline() as pipe:
        pipe.eval(
            _RECORD, 4, key, key + ":links", key + ":errors", active, link_id, counter, code or "",
            iso(utcnow()) or "", record.id,
        )  # fmt: skip
        for suffix in (":links", ":errors"):
            pipe.expire(key + suffix, KEEP_SECONDS)
        counted = pipe.execute()[0]
    return int(counted) != -1


def beat_key(job_id: str) -> str:
    return job_key(job_id) + ":beat"


@contextmanager
def beating(conn: redis.Redis, job_id: str) -> Iterator[None]:
    """Show that a chunk of the job is running, for as long as the block runs: the beat comes
    from the process doing the work (forked work horse or in-process worker alike), so it stops
    exactly when that process dies, whatever killed it."""
    conn.set(beat_key(job_id), "1", ex=LOST_AFTER_SECONDS)
    stop = threading.Event()
    thread = threading.Thread(target=_beat, args=(conn, job_id, stop), name=f"ppm-beat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=BEAT_SECONDS * 2)


def _beat(conn: redis.Redis, job_id: str, stop: threading.Event) -> None:
    while not stop.wait(BEAT_SECONDS):
        try:
            conn.set(beat_key(job_id), "1", ex=LOST_AFTER_SECONDS)
        except redis.exceptions.RedisError as error:
            log.warning("job %s: could not renew its beat: %s", job_id, error)


def beating_now(conn: redis.Redis, job_id: str) -> bool:
    """Has a chunk of the job beaten within the last LOST_AFTER_SECONDS?"""
    return bool(conn.exists(beat_key(job_id)))
