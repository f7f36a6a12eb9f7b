"""Webhooks in the browser and on the wire (SPEC §13).

The delivery endpoint: `POST /hooks/<provider>/<id>`, authenticated by its signature alone (no
session, no CSRF), JSON answers, the body read in capped chunks straight from the stream.

The Webhooks section of the project's Integrations page (`#webhooks`), one htmx region with the
states view, reveal (the one-time secret), confirm-rotate and confirm-delete. Without
JavaScript the same links and forms work as full pages; create and rotate answer the page with
the secret directly (post-redirect-get would need to keep the secret somewhere to show it).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse as parse_limit
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge

from ppm.auth.guard import SIGNED_ENDPOINTS
from ppm.errors import ValidationError
from ppm.extensions import csrf, limiter
from ppm.htmx import announce, is_htmx, wants_fragment
from ppm.projects import services as projects
from ppm.projects.models import Role
from ppm.projects.sections import INTEGRATION_SECTIONS
from ppm.projects.services import Access
from ppm.webhooks import services
from ppm.webhooks.forms import PROVIDER_CHOICES, ReceiverForm
from ppm.webhooks.urls import payload_url

bp = Blueprint("webhooks", __name__)

BODY_LIMIT = 1024 * 1024  # SPEC §13: at most 1 MiB, and not a byte more is read
_CHUNK = 64 * 1024


# --- delivery --------------------------------------------------------------------------


def _delivery_limit() -> str:
    return str(current_app.config.get("WEBHOOK_DELIVERY_LIMIT") or "6000 per minute")


def _receiver_key() -> str:
    return "webhook:" + str((request.view_args or {}).get("receiver_id", ""))


# SPEC §27: the budget counts authenticated deliveries only (not unknown receivers, bodies too
# large to read, or missing and wrong signatures), so nobody who merely knows the payload URL
# can spend it; unsigned posts have their own budget per client address.
_UNAUTHENTICATED = (401, 404, 413, 429)
UNSIGNED_LIMIT = parse_limit("60 per minute")


def _authenticated(response: Any) -> bool:
    return response.status_code not in _UNAUTHENTICATED


def _unsigned_budget_left(receiver_id: str) -> bool:
    """One more post with a missing or wrong signature from this address to this receiver?"""
    if not limiter.enabled:
        return True
    return bool(limiter.limiter.hit(UNSIGNED_LIMIT, "webhook-unsigned", receiver_id, get_remote_address()))


def _too_many_unsigned() -> Any:
    response = jsonify(
        {
            "detail": "Too many posts with a missing or wrong signature from this address. Wait a minute.",
            "code": "rate_limited",
        }
    )
    response.status_code = 429
    response.headers["Retry-After"] = "60"
    return response


def _read_body() -> bytes | None:
    """The raw body, or None past BODY_LIMIT. Reads at most BODY_LIMIT + 1 bytes whatever the
    Content-Length says (Werkzeug already stops at a declared length and refuses a declared
    length over MAX_CONTENT_LENGTH)."""
    chunks: list[bytes] = []
    size = 0
    try:
        stream = request.stream
        while size <= BODY_LIMIT:
            chunk = stream.read(min(_CHUNK, BODY_LIMIT + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:
        return None
    return None if size > BODY_LIMIT else b"".join(chunks)


def _answer(answer: services.Answer) -> Any:
    response = jsonify(answer.body)
    response.status_code = answer.status
    return response


@bp.post("/hooks/<any(github, gitlab):provider>/<receiver_id>")
@csrf.exempt
@limiter.limit(_delivery_limit, key_func=_receiver_key, deduct_when=_authenticated)
def receive(provider: str, receiver_id: str) -> Any:
    receiver = services.receiver_for_delivery(provider, receiver_id)
    if receiver is None:
        return _answer(services.Answer(404, {"detail": "There is no webhook at this address.", "code": "not_found"}))
    body = _read_body()
    if body is None:
        return _answer(services.refuse_too_large(receiver, BODY_LIMIT))
    github = provider == "github"
    headers = request.headers
    delivery = services.Delivery(
        body=body,
        content_type=headers.get("Content-Type", ""),
        signature=headers.get("X-Hub-Signature-256" if github else "X-Gitlab-Token", ""),
        event=headers.get("X-GitHub-Event" if github else "X-Gitlab-Event", ""),
        delivery_id=(
            headers.get("X-GitHub-Delivery", "")
            if github
            else headers.get("X-Gitlab-Event-UUID") or headers.get("Idempotency-Key", "")
        ),
    )
    if not services.authentic(receiver, delivery) and not _unsigned_budget_left(receiver.id):
        return _too_many_unsigned()
    return _answer(services.deliver(receiver, delivery))


SIGNED_ENDPOINTS.add("webhooks.receive")


# --- the Integrations page section -----------------------------------------------------

RESULT_LABELS = {
    "ok": "Accepted",
    "ping": "Ping received",
    "ignored": "Ignored (an event ppm does not use)",
    "duplicate": "Duplicate (already applied)",
    "archived": "Ignored (project archived)",
    "bad_signature": "Refused: the signature did not match",
    "bad_payload": "Refused: not a payload ppm can read",
    "too_large": "Refused: larger than 1 MiB",
    "no_queue": "Ignored (review and CI need the job queue)",
    "queue_unavailable": "Not taken: the job queue was unreachable",
}
REFUSED = {"bad_signature", "bad_payload", "too_large"}


def _section_html(
    access: Access,
    *,
    state: str = "view",
    revealed: services.Revealed | None = None,
    target_id: str = "",
    focus: str = "",
    form: ReceiverForm | None = None,
    error: str = "",
) -> str:
    receivers = services.list_receivers(current_user, access.project.id, Role.viewer)
    return render_template(
        "webhooks/_section.html",
        access=access,
        receivers=[(receiver, payload_url(receiver)) for receiver in receivers],
        can_manage=access.can(Role.admin) and not access.project.archived,
        state=state,
        revealed=revealed,
        revealed_url=payload_url(revealed.receiver) if revealed else "",
        target_id=target_id,
        focus=focus,
        form=form or ReceiverForm(formdata=None),
        provider_choices=PROVIDER_CHOICES,
        error=error,
        result_labels=RESULT_LABELS,
        refused=REFUSED,
    )


def section_for_page(access: Access) -> str:
    return _section_html(access)


INTEGRATION_SECTIONS.append(section_for_page)


def _respond(project_id: str, status: int = 200, message: str = "", **state: Any) -> Any:
    """The section alone for htmx; else the whole Integrations page with the section in `state`."""
    access = projects.load_project(current_user, project_id)
    section = _section_html(access, **state)
    if wants_fragment():
        response = make_response(section, status)
        response.vary.add("HX-Request")
    else:
        page = render_template("projects/integrations.html", access=access, sections=[Markup(section)])  # noqa: S704
        response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return announce(response, message) if message and wants_fragment() else response


def _page_url(project_id: str) -> str:
    return url_for("projects.integrations", project_id=project_id) + "#webhooks"


SECTION = "/projects/<project_id>/integrations/webhooks"


@bp.get(SECTION)
def section(project_id: str) -> Any:
    if not is_htmx():
        projects.load_project(current_user, project_id)
        return redirect(_page_url(project_id))
    return _respond(project_id, focus=request.args.get("focus", "")[:100])


def _reveal(project_id: str, revealed: services.Revealed, message: str) -> Any:
    return _respond(project_id, message=message, state="reveal", revealed=revealed, focus="reveal")


def _confirm(project_id: str, receiver_id: str, state: str) -> Any:
    """The inline confirm of a rotate or a delete, with Cancel focused."""
    receiver = services.get_receiver(current_user, project_id, receiver_id, write=True)
    return _respond(project_id, state=state, target_id=receiver.id, focus="cancel")


@bp.post(SECTION)
def create(project_id: str) -> Any:
    form = ReceiverForm()
    try:
        revealed = services.create_receiver(current_user, project_id, {"provider": form.provider.data})
    except ValidationError as error:
        return _respond(project_id, 422, form=form, error=error.detail, focus="error")
    label = services.PROVIDER_LABELS[revealed.receiver.provider]
    return _reveal(project_id, revealed, f"{label} webhook created. Copy its secret now: ppm shows it only once.")


@bp.get(SECTION + "/<receiver_id>/rotate")
def confirm_rotate(project_id: str, receiver_id: str) -> Any:
    return _confirm(project_id, receiver_id, "confirm-rotate")


@bp.post(SECTION + "/<receiver_id>/rotate")
def rotate(project_id: str, receiver_id: str) -> Any:
    revealed = services.rotate_secret(current_user, project_id, receiver_id)
    label = services.PROVIDER_LABELS[revealed.receiver.provider]
    return _reveal(
        project_id, revealed, f"New secret made for the {label} webhook; the old one no longer works. Copy it now."
    )


@bp.get(SECTION + "/<receiver_id>/delete")
def confirm_delete(project_id: str, receiver_id: str) -> Any:
    return _confirm(project_id, receiver_id, "confirm-delete")


@bp.post(SECTION + "/<receiver_id>/delete")
def delete(project_id: str, receiver_id: str) -> Any:
    receiver = services.get_receiver(current_user, project_id, receiver_id)
    label = services.PROVIDER_LABELS[receiver.provider]
    services.delete_receiver(current_user, project_id, receiver_id)
    if not is_htmx():
        return redirect(_page_url(project_id), 303)
    return _respond(project_id, message=f"{label} webhook deleted.", focus="heading")
