"""Two readers giving up the same job, and a chunk still running after its job was given up
(SPEC §14): a job ends once, a newer job's slot is never freed by an older one, and a given-up
job counts nothing more. On the real test Redis."""

from __future__ import annotations

import redis

from ppm.jobs import progress
from tests.jobs.conftest import needs_redis

pytestmark = needs_redis


def _refresh_all(conn: redis.Redis, total: int = 2) -> progress.JobRecord:
    record = progress.create(conn, "refresh_all", "person", "project", total)
    conn.set(progress.active_key("person", "project"), record.id)
    return record


def test_failing_an_old_job_leaves_the_newer_jobs_slot_alone(redis_conn: redis.Redis) -> None:
    old = _refresh_all(redis_conn)
    stale_copy = progress.load(redis_conn, old.id)
    assert stale_copy is not None
    progress.mark_failed(redis_conn, old)  # the first reader gives it up and frees the slot
    new = _refresh_all(redis_conn)  # the person presses Refresh all again
    progress.mark_failed(redis_conn, stale_copy)  # a second reader, late, with its old copy
    assert progress.get_text(redis_conn, progress.active_key("person", "project")) == new.id
    found = progress.load(redis_conn, new.id)
    assert found is not None and found.state == "queued"
    progress.free_slot(redis_conn, progress.active_key("person", "project"), old.id)
    assert progress.get_text(redis_conn, progress.active_key("person", "project")) == new.id


def test_a_done_job_is_not_turned_into_failed(redis_conn: redis.Redis) -> None:
    job = _refresh_all(redis_conn, total=1)
    reader_copy = progress.load(redis_conn, job.id)
    assert reader_copy is not None and reader_copy.live
    assert progress.record(redis_conn, job, "link-1", "done", None)  # the last link lands
    progress.mark_failed(redis_conn, reader_copy)  # a reader that saw it live a moment ago
    found = progress.load(redis_conn, job.id)
    assert found is not None and (found.state, found.done) == ("done", 1)
    assert reader_copy.state == "done"


def test_a_given_up_job_counts_nothing_more(redis_conn: redis.Redis) -> None:
    job = _refresh_all(redis_conn, total=3)
    assert progress.record(redis_conn, job, "link-1", "done", None)
    progress.mark_failed(redis_conn, job)
    assert not progress.record(redis_conn, job, "link-2", "done", None)  # its chunk should stop
    found = progress.load(redis_conn, job.id)
    assert found is not None and (found.state, found.done) == ("failed", 1)
    assert progress.handled(redis_conn, job.id) == {"link-1"}
