"""The Notifications section of a project's Integrations page (`#notifications`, SPEC §25): one
htmx region with the states view, reveal (the one-time secret), deliveries (one subscription's
log), confirm-disable and confirm-delete. Without JavaScript the same links and forms work as
full pages; create answers the page with the secret directly (post-redirect-get would need to
keep the secret somewhere to show it). Only admins and owners see the section at all."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from ppm.errors import ValidationError
from ppm.htmx import announce, is_htmx, wants_fragment
from ppm.notifications import services
from ppm.notifications.models import EVENT_TYPES, FORMATS
from ppm.projects import services as projects
from ppm.projects.models import Role
from ppm.projects.sections import INTEGRATION_SECTIONS
from ppm.projects.services import Access

bp = Blueprint("notifications", __name__)

SECTION = "/projects/<project_id>/integrations/notifications"
RESULT_LABELS = {
    "ok": "Delivered",
    "timeout": "Failed: timed out",
    "dns_failed": "Failed: the host name does not resolve",
    "blocked_address": "Refused: a private or loopback address",
    "connection_refused": "Failed: connection refused",
    "connection_failed": "Failed: could not connect",
    "tls_failed": "Failed: the secure connection failed",
    "response_too_large": "Failed: the answer was too large",
}
DISABLED_LABELS = {
    "gone": "Disabled: the receiver answered 410 Gone",
    "failures": "Disabled after 20 failed events in a row",
    "by_person": "Disabled",
}


def result_label(code: str | None) -> str:
    if not code:
        return ""
    if code.startswith("http_"):
        return f"Failed: HTTP {code[5:]}"
    return RESULT_LABELS.get(code, code)


def _section_html(
    access: Access,
    *,
    state: str = "view",
    revealed: services.Revealed | None = None,
    target_id: str = "",
    focus: str = "",
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> str:
    if not access.can(Role.admin):
        return ""  # a Slack address is itself a secret: others don't see the section
    subscriptions = services.list_subscriptions(current_user, access.project.id)
    deliveries = services.list_deliveries(current_user, access.project.id, target_id) if state == "deliveries" else []
    return render_template(
        "notifications/_section.html",
        access=access,
        subscriptions=subscriptions,
        can_manage=not access.project.archived,
        state=state,
        revealed=revealed,
        target_id=target_id,
        focus=focus,
        values=values or {"format": "standard", "events": list(EVENT_TYPES)},
        errors=errors or {},
        event_types=EVENT_TYPES,
        event_labels=services.EVENT_LABELS,
        formats=FORMATS,
        format_labels=services.FORMAT_LABELS,
        deliveries=deliveries,
        result_label=result_label,
        disabled_labels=DISABLED_LABELS,
    )


def section_for_page(access: Access) -> str:
    return _section_html(access)


INTEGRATION_SECTIONS.append(section_for_page)


def _respond(project_id: str, status: int = 200, message: str = "", **state: Any) -> Any:
    """The section alone for htmx; else the whole Integrations page with the section in `state`."""
    access = projects.load_project(current_user, project_id, Role.admin)
    section = _section_html(access, **state)
    if wants_fragment():
        response = make_response(section, status)
        response.vary.add("HX-Request")
    else:
        others = [Markup(render(access)) for render in INTEGRATION_SECTIONS if render is not section_for_page]  # noqa: S704
        page = render_template("projects/integrations.html", access=access, sections=[*others, Markup(section)])  # noqa: S704
        response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return announce(response, message) if message and wants_fragment() else response


def _page_url(project_id: str) -> str:
    return url_for("projects.integrations", project_id=project_id) + "#notifications"


def _done(project_id: str, message: str, focus: str, **state: Any) -> Any:
    if not is_htmx():
        return redirect(_page_url(project_id), 303)
    return _respond(project_id, message=message, focus=focus, **state)


@bp.get(SECTION)
def section(project_id: str) -> Any:
    if not is_htmx():
        projects.load_project(current_user, project_id, Role.admin)
        return redirect(_page_url(project_id))
    return _respond(project_id, focus=request.args.get("focus", "")[:100])


@bp.post(SECTION)
def create(project_id: str) -> Any:
    values = {
        "url": request.form.get("url", ""),
        "format": request.form.get("format", "standard"),
        "events": request.form.getlist("events"),
    }
    try:
        revealed = services.create_subscription(current_user, project_id, values)
    except ValidationError as error:
        return _respond(project_id, 422, values=values, errors=error.fields, focus="error")
    label = services.FORMAT_LABELS[revealed.subscription.format]
    if revealed.secret:
        message = f"{label} subscription created. Copy its secret now: ppm shows it only once."
        return _respond(project_id, message=message, state="reveal", revealed=revealed, focus="reveal")
    return _done(project_id, f"{label} subscription created.", "heading")


@bp.post(SECTION + "/<subscription_id>/test")
def test(project_id: str, subscription_id: str) -> Any:
    services.send_test(current_user, project_id, subscription_id)
    return _done(project_id, "Test event queued: it is sent by the next worker run.", f"test-{subscription_id}")


@bp.get(SECTION + "/<subscription_id>/deliveries")
def deliveries(project_id: str, subscription_id: str) -> Any:
    subscription = services.get_subscription(current_user, project_id, subscription_id)
    return _respond(project_id, state="deliveries", target_id=subscription.id, focus="deliveries")


@bp.post(SECTION + "/<subscription_id>/deliveries/<delivery_id>/redeliver")
def redeliver(project_id: str, subscription_id: str, delivery_id: str) -> Any:
    services.redeliver(current_user, project_id, subscription_id, delivery_id)
    message = "Event queued again with the same webhook-id."
    if not is_htmx():
        return redirect(url_for(".deliveries", project_id=project_id, subscription_id=subscription_id), 303)
    return _respond(project_id, message=message, state="deliveries", target_id=subscription_id, focus="deliveries")


def _confirm(project_id: str, subscription_id: str, state: str) -> Any:
    subscription = services.get_subscription(current_user, project_id, subscription_id, write=True)
    return _respond(project_id, state=state, target_id=subscription.id, focus="cancel")


@bp.get(SECTION + "/<subscription_id>/disable")
def confirm_disable(project_id: str, subscription_id: str) -> Any:
    return _confirm(project_id, subscription_id, "confirm-disable")


@bp.post(SECTION + "/<subscription_id>/disable")
def disable(project_id: str, subscription_id: str) -> Any:
    services.set_enabled(current_user, project_id, subscription_id, False)
    return _done(project_id, "Subscription disabled: no events are sent to it.", f"enable-{subscription_id}")


@bp.get(SECTION + "/<subscription_id>/enable")
def confirm_enable(project_id: str, subscription_id: str) -> Any:
    return _confirm(project_id, subscription_id, "confirm-enable")


@bp.post(SECTION + "/<subscription_id>/enable")
def enable(project_id: str, subscription_id: str) -> Any:
    services.set_enabled(current_user, project_id, subscription_id, True)
    return _done(project_id, "Subscription re-enabled; its failure count is reset.", f"disable-{subscription_id}")


@bp.get(SECTION + "/<subscription_id>/delete")
def confirm_delete(project_id: str, subscription_id: str) -> Any:
    return _confirm(project_id, subscription_id, "confirm-delete")


@bp.post(SECTION + "/<subscription_id>/delete")
def delete(project_id: str, subscription_id: str) -> Any:
    services.delete_subscription(current_user, project_id, subscription_id)
    return _done(project_id, "Subscription deleted.", "heading")
