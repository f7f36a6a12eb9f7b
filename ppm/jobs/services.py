"""Background refresh (SPEC §14): Refresh all, the scheduled sweep, and the worker side that
refreshes one link at a time through the links' own refresh steps.

A job is split into chunks of CHUNK_SIZE links, each an RQ job, so several workers share one
Refresh all or sweep. Every link is written in its own short transaction as soon as its answer
is in, and counted in the job's progress (ppm.jobs.progress) right after.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from flask import current_app
from rq.job import Job, JobStatus
from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError

from ppm.auth.models import User
from ppm.errors import NotFound, ValidationCollector
from ppm.extensions import db
from ppm.integrations.registry import TASK_LINK_PROVIDERS
from ppm.jobs import limits, progress
from ppm.jobs.queue import CHUNK_RETRY, QueueUnavailable, configured, connection, guarded, queue
from ppm.links import services as links
from ppm.links.models import TaskLink
from ppm.models_base import utcnow
from ppm.projects import services as projects
from ppm.projects.models import Project, Role, Task

log = logging.getLogger("ppm.jobs")

CHUNK_SIZE = 10
STALE_AFTER = timedelta(minutes=15)
SETTLED_EVERY = timedelta(days=1)  # merged and closed links, and cloud cards
STILL_CHANGING = ("unknown", "open", "draft")
SWEEP_LOCK = "ppm:sweep:lock"
SWEEP_CURRENT = "ppm:sweep:current"
SWEEP_TICK = "ppm:sweep:tick"
# A live job with no chunk queued or running this long after it was made never will have one.
NO_CHUNKS_AFTER = timedelta(seconds=60)
# SPEC §27: at most one background (review / CI) refresh of a link queued at a time.
QUEUED_MARK_SECONDS = 900  # a lost chunk holds its links back this long at most
CHUNK_ENDED = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


# --- Refresh all (a person asks) -----------------------------------------------------------


def start_refresh_all(actor: User, project_id: str, data: Any) -> progress.JobRecord:
    """Queue a refresh of the project's links with the actor's credentials, or hand back the
    actor's Refresh all of this project that is still queued or running."""
    access = projects.load_project(actor, project_id, Role.viewer, write=True)
    only_stale = _only_stale(data)
    if not configured():
        raise QueueUnavailable()
    conn = connection()
    slot = progress.active_key(actor.id, access.project.id)
    existing = guarded(_live_job, conn, slot)
    if existing is not None:
        return existing
    link_ids = refresh_all_links(access.project.id, only_stale)
    db.session.commit()  # nothing below needs the database
    return guarded(_claim_and_enqueue, conn, slot, actor.id, access.project.id, link_ids)


def _only_stale(data: Any) -> bool:
    if data is None:
        return False
    if not isinstance(data, dict):
        errors = ValidationCollector()
        errors.add("body", 'Send a JSON object, like {"only_stale": true}.')
        errors.raise_if_any()
    value = data.get("only_stale", False)
    if not isinstance(value, bool):
        errors = ValidationCollector()
        errors.add("only_stale", "only_stale must be true or false.")
        errors.raise_if_any()
    return bool(value)


def _live_job(conn: redis.Redis, slot: str) -> progress.JobRecord | None:
    raw = progress.get_text(conn, slot)
    if raw is None:
        return None
    found = current_state(conn, raw)
    if found is None or not found.live:
        progress.free_slot(conn, slot, raw)
        return None
    return found


def _claim_and_enqueue(
    conn: redis.Redis, slot: str, user_id: str, project_id: str, link_ids: list[str]
) -> progress.JobRecord:
    record = progress.create(conn, "refresh_all", user_id, project_id, len(link_ids))
    if record.total == 0:
        return record
    # One job per person and project, even for two requests at the same moment: the first to
    # set the slot wins; the other answers with the winner's job.
    if not conn.set(slot, record.id, nx=True, ex=progress.KEEP_SECONDS):
        conn.delete(progress.job_key(record.id))
        raw = progress.get_text(conn, slot)
        winner = current_state(conn, raw) if raw else None
        if winner is not None:
            return winner
        conn.set(slot, record.id, ex=progress.KEEP_SECONDS)
        record = progress.create(conn, "refresh_all", user_id, project_id, len(link_ids))
    _enqueue_or_release(conn, record, link_ids, user_id, slot)
    return record


def _enqueue_or_release(
    conn: redis.Redis, record: progress.JobRecord, link_ids: list[str], user_id: str | None, claim: str
) -> None:
    """Queue the job's chunks; if Redis fails midway, the claim (a person's slot, the sweep's
    marker) is freed and the job failed, so the next request starts afresh (SPEC §27). Should
    Redis be too far gone even for that, the job has no chunks and `current_state` fails it
    after NO_CHUNKS_AFTER."""
    try:
        _enqueue_chunks(conn, record, link_ids, user_id)
    except redis.exceptions.RedisError:
        try:
            progress.mark_failed(conn, record, claim)
        except redis.exceptions.RedisError as error:
            log.warning("job %s: its claim could not be freed either: %s", record.id, error)
        raise


def refresh_all_links(project_id: str, only_stale: bool) -> list[str]:
    """Every live git link with a live status and every cloud-file link of the project (stale
    ones only: never fetched, fetched over 15 minutes ago, or carrying a refresh error)."""
    cutoff = utcnow() - STALE_AFTER
    found = db.session.scalars(_live_links().where(TaskLink.project_id == project_id))
    return [link.id for link in found if _refreshable(link) and (not only_stale or _stale(link, cutoff))]


def _stale(link: TaskLink, cutoff: datetime) -> bool:
    # (in Python: a JSON column holds JSON null, not SQL NULL, once an error was cleared)
    return link.fetched_at is None or _aware(link.fetched_at) < cutoff or bool(link.refresh_error)


def _live_links() -> Any:
    return (
        select(TaskLink)
        .join(Task, Task.id == TaskLink.task_id)
        .join(Project, Project.id == TaskLink.project_id)
        .where(TaskLink.deleted_at.is_(None), Task.deleted_at.is_(None), Project.archived.is_(False))
        .order_by(TaskLink.project_id, TaskLink.task_id, TaskLink.position, TaskLink.id)
    )


def _refreshable(link: TaskLink) -> bool:
    provider = TASK_LINK_PROVIDERS.get(link.provider)
    return provider is not None and (provider.is_file_host or links.has_live_status(link))


def _enqueue_chunks(conn: redis.Redis, record: progress.JobRecord, link_ids: list[str], user_id: str | None) -> None:
    q = queue()
    chunks = [link_ids[i : i + CHUNK_SIZE] for i in range(0, len(link_ids), CHUNK_SIZE)]
    jobs = q.enqueue_many(
        [
            q.prepare_data(
                "ppm.jobs.tasks.refresh_chunk",
                args=(record.id, chunk, user_id),
                retry=CHUNK_RETRY,
                result_ttl=3600,
                failure_ttl=progress.KEEP_SECONDS,
            )
            for chunk in chunks
        ]
    )
    progress.set_chunks(conn, record.id, [job.id for job in jobs])


def job_status(actor: User, job_id: str) -> progress.JobRecord:
    """Only the person who started a job may read it; anyone else gets 404."""
    if not configured():
        raise QueueUnavailable()
    if not progress.valid_job_id(job_id):
        raise NotFound("Job not found.")
    record = guarded(current_state, connection(), job_id)
    if record is None or record.kind != "refresh_all" or record.user_id != actor.id:
        raise NotFound("Job not found.")
    return record


def current_state(conn: redis.Redis, job_id: str) -> progress.JobRecord | None:
    """The job's record; a live one that can no longer finish is failed from now on: its chunks
    have all ended without counting every link (their work horse died and the retry too), or
    its worker died whole (SIGKILL, the OOM killer) and left a chunk "started" that RQ itself
    would clean up only minutes later."""
    record = progress.load(conn, job_id)
    if record is None or not record.live:
        return record
    if not record.chunks:
        if _older_than(record.created_at, NO_CHUNKS_AFTER):
            log.warning("job %s: no chunk was queued for it; the job is failed", record.id)
            progress.mark_failed(conn, record)
        return record
    chunks = Job.fetch_many(record.chunks, conn)
    if all(_ended(chunk) for chunk in chunks) or _abandoned(conn, record, chunks):
        record = progress.load(conn, job_id) or record  # the last chunk may just have counted
        if record.live:
            progress.mark_failed(conn, record)
    return record


def _older_than(stamp: str | None, age: timedelta) -> bool:
    try:
        made = datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        made = None
    return made is None or _aware(made) < datetime.now(UTC) - age


def _ended(chunk: Job | None) -> bool:
    return chunk is None or chunk.get_status(refresh=False) in CHUNK_ENDED


def _abandoned(conn: redis.Redis, record: progress.JobRecord, chunks: list[Job | None]) -> bool:
    """A chunk RQ calls started began long ago, yet nothing of the job has beaten lately (a
    chunk beats from its first moment, every few seconds, in the process doing the work): its
    worker is dead, and the job cannot finish until RQ's own cleanup, minutes away. A slow
    chunk (waiting for a host slot, a provider taking its 5 s) still beats: never taken for dead."""
    if progress.beating_now(conn, record.id):
        return False
    began_before = datetime.now(UTC) - timedelta(seconds=progress.LOST_AFTER_SECONDS)
    lost = [chunk for chunk in chunks if _started_before(chunk, began_before)]
    if lost:
        held_by = ", ".join(sorted({chunk.worker_name or "?" for chunk in lost if chunk is not None}))
        log.warning("job %s: its worker %s stopped beating mid-job; the job is failed", record.id, held_by)
    return bool(lost)


def _started_before(chunk: Job | None, moment: datetime) -> bool:
    return (
        chunk is not None
        and chunk.get_status(refresh=False) == JobStatus.STARTED
        and chunk.started_at is not None
        and chunk.started_at <= moment
    )


def latest_refresh_all(actor: User, project_id: str) -> progress.JobRecord | None:
    """The actor's live Refresh all of this project, for the schedule page (raises RedisError
    when the queue is unreachable, which the page shows in words)."""
    return _live_job(connection(), progress.active_key(actor.id, project_id))


# --- the scheduled sweep (nobody asks) -------------------------------------------------------


def tick(conn: redis.Redis, interval: int) -> str | None:
    """Called every few seconds by each long-running worker: the first to claim this interval's
    tick queues a sweep (the others find the tick taken), so sweeps never pile up."""
    if interval <= 0 or not conn.set(SWEEP_TICK, "1", nx=True, ex=interval):
        return None
    return queue().enqueue("ppm.jobs.tasks.sweep", result_ttl=3600, failure_ttl=progress.KEEP_SECONDS).id


def queue_sweep() -> str:
    if not configured():
        raise QueueUnavailable()
    return str(queue().enqueue("ppm.jobs.tasks.sweep", result_ttl=3600, failure_ttl=progress.KEEP_SECONDS).id)


def sweep() -> progress.JobRecord | None:
    """Queue refreshes of the links that are due, unless the previous sweep's refreshes are
    still queued or running (a sweep never overlaps itself, however many workers run)."""
    conn = connection()
    if not conn.set(SWEEP_LOCK, str(os.getpid()), nx=True, ex=300):
        log.info("a sweep is already being queued elsewhere; this one stops")
        return None
    try:
        previous = progress.get_text(conn, SWEEP_CURRENT)
        running = current_state(conn, previous) if previous else None
        if running is not None and running.live:
            log.info("the previous sweep %s is still running; this one stops", running.id)
            return None
        link_ids = due_links(int(current_app.config.get("LINK_REFRESH_INTERVAL") or 0))
        db.session.commit()
        record = progress.create(conn, "sweep", "", "", len(link_ids))
        conn.set(SWEEP_CURRENT, record.id, ex=progress.KEEP_SECONDS)
        if link_ids:
            _enqueue_or_release(conn, record, link_ids, None, SWEEP_CURRENT)
        log.info("sweep %s queued %s link refreshes", record.id, len(link_ids))
        return record
    finally:
        conn.delete(SWEEP_LOCK)


def queue_background_refresh(link_ids: list[str], kind: str = "webhook") -> progress.JobRecord:
    """Queue refreshes nobody asked for (a webhook's review or CI event, SPEC §15): the same
    credential rule and consent as the sweep. An unreachable Redis is QueueUnavailable."""
    return guarded(_queue_background_refresh, link_ids, kind)


def _queue_background_refresh(link_ids: list[str], kind: str) -> progress.JobRecord:
    """Links whose refresh is already queued (by an earlier event, not yet started) are left
    out: twenty CI events about one pull request queue one refresh, not twenty (SPEC §27)."""
    conn = connection()
    fresh = [link_id for link_id in link_ids if _mark_queued(conn, link_id)]
    record = progress.create(conn, kind, "", "", len(fresh))
    if fresh:
        try:
            _enqueue_chunks(conn, record, fresh, None)
        except redis.exceptions.RedisError:
            conn.delete(*(_queued_key(link_id) for link_id in fresh))
            raise
    return record


def _queued_key(link_id: str) -> str:
    return f"ppm:queued-refresh:{link_id}"


def _mark_queued(conn: redis.Redis, link_id: str) -> bool:
    return bool(conn.set(_queued_key(link_id), "1", nx=True, ex=QUEUED_MARK_SECONDS))


def due_links(interval: int) -> list[str]:
    """SPEC §14: live links whose status can still change (unknown, open, draft) fetched longer
    ago than the interval; merged and closed links and cloud cards once a day."""
    now = utcnow()
    recent = now - timedelta(seconds=max(interval, 1))
    daily = now - SETTLED_EVERY
    query = _live_links().where(
        or_(
            TaskLink.fetched_at.is_(None),
            TaskLink.fetched_at < daily,
            (TaskLink.fetched_at < recent) & TaskLink.status.in_(STILL_CHANGING),
        )
    )
    due = []
    for link in db.session.scalars(query):
        provider = TASK_LINK_PROVIDERS.get(link.provider)
        if provider is None or not _refreshable(link):
            continue
        if provider.is_file_host or link.status not in STILL_CHANGING:
            if link.fetched_at is not None and _aware(link.fetched_at) >= daily:
                continue
        due.append(link.id)
    return due


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite hands back naive UTC


# --- the worker side: one link at a time -----------------------------------------------------


@dataclass(frozen=True)
class Counted:
    counter: str  # done | failed | skipped
    code: str | None = None


SKIPPED = Counted("skipped")
DONE = Counted("done")


def run_chunk(job_id: str, link_ids: Iterable[str], requester_id: str | None) -> None:
    conn = connection()
    record = progress.load(conn, job_id)
    if record is None or not record.live:
        return  # expired, or given up (its worker was lost) and run afresh by a new job
    with progress.beating(conn, job_id):
        _run_links(conn, record, link_ids, requester_id)


def _run_links(
    conn: redis.Redis, record: progress.JobRecord, link_ids: Iterable[str], requester_id: str | None
) -> None:
    job_id = record.id
    progress.mark_running(conn, job_id)
    already = progress.handled(conn, job_id)
    requester = db.session.get(User, requester_id) if requester_id else None
    db.session.commit()
    background = record.kind not in ("refresh_all", "sweep")
    for link_id in link_ids:
        if background:
            conn.delete(_queued_key(link_id))  # an event from now on queues a new refresh
        if link_id in already:
            continue  # written by an earlier run of this chunk (its worker died)
        try:
            counted = refresh_one(conn, link_id, requester, asked=requester_id is not None)
        except (redis.exceptions.RedisError, OperationalError):
            raise  # the queue or the database is down: RQ retries the chunk later
        except Exception:
            # One link's surprise must not stop the others; it is logged, and counted as failed.
            log.exception("refreshing link %s in job %s failed unexpectedly", link_id, job_id)
            db.session.rollback()
            counted = Counted("failed", "internal_error")
        if not progress.record(conn, record, link_id, counted.counter, counted.code):
            log.info("job %s was given up meanwhile; its chunk stops", job_id)
            return


def refresh_one(conn: redis.Redis, link_id: str, requester: User | None, *, asked: bool) -> Counted:
    """One link, exactly as a single refresh writes it. `asked`: a person's Refresh all (their
    credential; a link they have none for is skipped) rather than the sweep (the owner's rule)."""
    link = db.session.scalar(_live_links().where(TaskLink.id == link_id))
    if link is None or (asked and (requester is None or not links.is_member(requester.id, link.project_id))):
        db.session.rollback()
        return SKIPPED  # removed, archived, or the person left the project meanwhile
    plan = links.plan_refresh(link, requester)
    db.session.commit()  # the read ends here: no transaction is open during the call
    if plan.kind in ("none", "left_alone") or (asked and plan.kind == "credential_required"):
        return SKIPPED
    if plan.kind == "credential_required":
        links.record_credential_required(plan)
        return Counted("failed", "credential_required")
    if plan.failure is not None:
        links.apply_refresh(plan, links.RefreshOutcome())
        return Counted("failed", plan.failure[0])
    if limits.paused_until(conn, plan.host, plan.credential_id) is not None:
        return SKIPPED  # the provider asked us to wait: values kept
    try:
        with limits.host_slot(conn, plan.host):
            outcome = links.perform_refresh(plan)
    except limits.NoSlot:
        log.warning("no call slot for %s came free; link %s skipped", plan.host, link_id)
        return SKIPPED
    if outcome.failure is not None and outcome.failure.code == "provider_rate_limited":
        retry_at = getattr(outcome.failure, "retry_at", None)
        limits.pause(conn, plan.host, plan.credential_id, limits.reset_time(outcome.headers, retry_at))
    if links.apply_refresh(plan, outcome) is None:
        return SKIPPED
    return Counted("failed", outcome.failure.code) if outcome.failure is not None else DONE
