"""The schedule's "Refresh all links" control (SPEC §14): a button that starts the job and a
status region that polls itself about every second while the job runs (htmx), then says how
many links failed and why and tells the schedule to re-render its rows.

Without JavaScript the button posts and redirects to a progress page that reloads itself
(a `Refresh` header) until the job ends."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, Response, make_response, redirect, render_template, url_for
from flask_login import current_user

from ppm.errors import DomainError, NotFound
from ppm.htmx import announce, trigger, wants_fragment
from ppm.jobs import services
from ppm.jobs.progress import JobRecord
from ppm.jobs.queue import QueueUnavailable, configured
from ppm.projects import services as projects
from ppm.projects.services import Access

bp = Blueprint("jobs", __name__, url_prefix="/projects/<project_id>/schedule/refresh-all")

POLL_SECONDS = 1
# Short words for the error codes a refresh can record (SPEC §12, §14, §18).
ERROR_WORDS = {
    "token_rejected": "token rejected",
    "token_expired": "token expired",
    "insufficient_scope": "token lacks a scope",
    "provider_rate_limited": "rate-limited by the provider",
    "provider_forbidden": "access refused",
    "not_found": "not found",
    "provider_unreachable": "provider unreachable",
    "provider_timeout": "provider timed out",
    "blocked_host": "host not allowed",
    "credential_unreadable": "token unreadable",
    "credential_required": "nobody's token to use",
    "provider_bad_response": "unreadable answer",
    "file_not_public": "file not public",
    "internal_error": "an error in ppm (logged)",
}


def control(access: Access) -> dict[str, Any]:
    """What the control shows on the schedule page: off, unavailable, idle or a live job."""
    if not configured():
        return {"mode": "off"}
    if access.project.archived:
        return {"mode": "archived"}
    try:
        record = services.latest_refresh_all(current_user, access.project.id)
    except redis.exceptions.RedisError:
        return {"mode": "unavailable"}
    return {"mode": "ready", "job": record}


def summary(record: JobRecord) -> str:
    """ "Refreshed 40 links: 3 failed (not found 2, token rejected 1), 2 skipped." """
    noun = "link" if record.total == 1 else "links"
    if record.state == "failed":
        return (
            f"Refresh all stopped after {record.counted} of {record.total} {noun} (a worker failed). "
            "Press Refresh all links again to finish the rest."
        )
    parts = [f"{record.done} up to date"]
    if record.failed:
        why = ", ".join(f"{ERROR_WORDS.get(code, code.replace('_', ' '))} {n}" for code, n in record.errors.items())
        parts.append(f"{record.failed} failed ({why})")
    if record.skipped:
        parts.append(f"{record.skipped} skipped (no token of yours for them, or the provider asked to wait)")
    return f"Refreshed {record.total} {noun}: " + ", ".join(parts) + "."


def _status(project_id: str, record: JobRecord | None, status: int = 200) -> Response:
    body = render_template("jobs/_refresh_status.html", project_id=project_id, job=record, summary=summary)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _page(project_id: str, record: JobRecord) -> Response:
    access = projects.load_project(current_user, project_id)
    body = render_template("jobs/refresh_page.html", access=access, project_id=project_id, job=record, summary=summary)
    response = make_response(body)
    if record.live:
        response.headers["Refresh"] = str(2 * POLL_SECONDS)  # reloads itself until the job ends
    return response


@bp.post("")
def start(project_id: str) -> Any:
    try:
        record = services.start_refresh_all(current_user, project_id, None)
    except QueueUnavailable as error:
        if not wants_fragment():
            raise
        return _unavailable(project_id, error)
    if not wants_fragment():
        return redirect(url_for("jobs.progress", project_id=project_id, job_id=record.id), 303)
    response = _status(project_id, record)
    if not record.live:
        return _finished(response, record)
    noun = "link" if record.total == 1 else "links"
    return announce(response, f"Refreshing {record.total} {noun}…")


def _unavailable(project_id: str, error: DomainError) -> Response:
    body = render_template("jobs/_refresh_status.html", project_id=project_id, job=None, problem=error.detail)
    return make_response(body, 503)


@bp.get("/<job_id>")
def progress(project_id: str, job_id: str) -> Any:
    projects.load_project(current_user, project_id)  # non-members: 404 before anything
    record = services.job_status(current_user, job_id)
    if record.project_id != project_id:
        raise NotFound("Job not found.")
    if not wants_fragment():
        return _page(project_id, record)
    response = _status(project_id, record)
    return response if record.live else _finished(response, record)


def _finished(response: Response, record: JobRecord) -> Response:
    """The end of a job: say what happened, and have the schedule re-render its rows' glyphs."""
    trigger(response, "links-changed", {"project_id": record.project_id})
    trigger(response, "schedule-changed")
    return announce(response, summary(record))


@bp.app_context_processor
def _control_for_templates() -> dict[str, Any]:
    """The schedule page includes the control with one line; it asks for its own state."""
    return {"refresh_all_control": control}
