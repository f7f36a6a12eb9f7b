"""The drawer's External links section (SPEC §6): htmx fragments over the same link services.

Regions: the whole section (`#task-links`, after add and remove) and one row (`#link-<id>`, for
refresh, edit and the inline remove confirm). Every write tells the schedule with an
`HX-Trigger: links-changed` event so the task's row indicator updates without a reload.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ppm.errors import DomainError, ValidationError
from ppm.htmx import announce, trigger, wants_fragment
from ppm.integrations.limits import link_refresh_limit
from ppm.integrations.registry import TASK_LINK_PROVIDERS
from ppm.links import services
from ppm.links.forms import LinkForm, split_labels
from ppm.links.models import TaskLink
from ppm.links.section import section_context
from ppm.projects import services as projects
from ppm.projects.models import Role

bp = Blueprint("links", __name__, url_prefix="/projects/<project_id>/tasks/<task_id>/links")


def _section(
    project_id: str,
    task_id: str,
    status: int = 200,
    message: str = "",
    form: LinkForm | None = None,
    focus: str = "",
    changed: bool = False,
) -> Any:
    context = section_context(project_id, task_id, form, focus)  # checks membership first
    if not wants_fragment():
        if status < 400:
            return _back_to_drawer(project_id, task_id)
        return _page(project_id, task_id, status, section=context)
    body = render_template("links/_section.html", **context)
    return _finish(make_response(body, status), task_id, message, changed)


def _row(
    project_id: str,
    task_id: str,
    link: TaskLink,
    state: str = "view",
    status: int = 200,
    message: str = "",
    focus: str = "",
    form: LinkForm | None = None,
    notice: dict[str, Any] | None = None,
    changed: bool = False,
) -> Any:
    context = section_context(project_id, task_id)  # checks membership first
    row = {
        "link": link,
        "state": state,
        "focus": focus,
        "notice": notice,
        "form": form or LinkForm(formdata=None),
        **{k: v for k, v in context.items() if k not in ("form", "focus", "links")},
    }
    if not wants_fragment():
        if state == "view" and status < 400:
            return _back_to_drawer(project_id, task_id)
        return _page(project_id, task_id, status, row=row)  # edit or confirm, without JavaScript
    return _finish(make_response(render_template("links/_row.html", **row), status), task_id, message, changed)


def _back_to_drawer(project_id: str, task_id: str) -> Any:
    return redirect(url_for("schedule.schedule", project_id=project_id, task=task_id), 303)


def _page(project_id: str, task_id: str, status: int, **region: Any) -> Any:
    """Without JavaScript, a form or confirm that the drawer would swap in is a page of its own."""
    task = projects.get_task(current_user, project_id, task_id)
    back = url_for("schedule.schedule", project_id=project_id, task=task_id)
    return make_response(render_template("links/page.html", task=task, back=back, **region), status)


def _finish(response: Any, task_id: str, message: str, changed: bool) -> Any:
    response.vary.add("HX-Request")
    if changed:
        trigger(response, "links-changed", {"task_id": task_id})
    return announce(response, message) if message else response


@bp.get("")
def section(project_id: str, task_id: str) -> Any:
    return _section(project_id, task_id)


@bp.get("/detect")
def detect(project_id: str, task_id: str) -> Any:
    """The live hint under the add field: which provider the pasted URL goes to."""
    services.list_links(current_user, project_id, task_id)  # a task the caller can see
    found = services.detect(current_user, request.args.get("url", ""))
    hint = render_template("links/_hint.html", found=found).strip()
    return announce(make_response(hint), hint) if hint else make_response(hint)


@bp.post("")
def add(project_id: str, task_id: str) -> Any:
    form = LinkForm()
    data = {
        "url": form.url.data or "",
        "custom_title": form.custom_title.data or "",
        "labels": split_labels(form.labels.data),
    }
    try:
        link = services.add_link(current_user, project_id, task_id, data)
    except ValidationError as error:
        _errors_onto(form, error.fields)
        return _section(project_id, task_id, 422, form=form)
    except DomainError as error:
        if error.status != 409:
            raise
        form.url.errors = [error.detail]
        return _section(project_id, task_id, 422, form=form)
    label = TASK_LINK_PROVIDERS[link.provider].label
    return _section(
        project_id, task_id, message=f"Link added: {link.display_title} ({label}).", focus="add", changed=True
    )


def _errors_onto(form: LinkForm, fields: dict[str, list[str]]) -> None:
    for name, messages in fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(messages)


@bp.get("/<link_id>")
def row(project_id: str, task_id: str, link_id: str) -> Any:
    link = services.get_link(current_user, project_id, task_id, link_id)
    return _row(project_id, task_id, link, focus="edit")


@bp.get("/<link_id>/edit")
def edit_form(project_id: str, task_id: str, link_id: str) -> Any:
    projects.load_project(current_user, project_id, Role.member, write=True)
    link = services.get_link(current_user, project_id, task_id, link_id)
    form = LinkForm(formdata=None, custom_title=link.custom_title, labels=", ".join(link.labels or []))
    return _row(project_id, task_id, link, state="edit", focus="title", form=form)


@bp.post("/<link_id>/edit")
def edit(project_id: str, task_id: str, link_id: str) -> Any:
    form = LinkForm()
    data = {"custom_title": form.custom_title.data or "", "labels": split_labels(form.labels.data)}
    try:
        link = services.edit_link(current_user, project_id, task_id, link_id, data)
    except ValidationError as error:
        _errors_onto(form, error.fields)
        link = services.get_link(current_user, project_id, task_id, link_id)
        return _row(project_id, task_id, link, state="edit", status=422, form=form)
    return _row(project_id, task_id, link, focus="edit", message=f"Link saved: {link.display_title}.", changed=True)


@bp.post("/<link_id>/closes")
def closes(project_id: str, task_id: str, link_id: str) -> Any:
    """SPEC §20: the drawer's "Completes this task when merged" checkbox (a person's choice,
    which deliveries then leave alone). The box is absent from the form when unticked."""
    wanted = request.form.get("closes") == "1"
    link = services.edit_link(current_user, project_id, task_id, link_id, {"closes": wanted})
    message = (
        "This link now completes the task when merged."
        if link.closes
        else "This link no longer completes the task when merged."
    )
    return _row(project_id, task_id, link, focus="closes", message=message, changed=True)


@bp.get("/<link_id>/remove")
def confirm_remove(project_id: str, task_id: str, link_id: str) -> Any:
    projects.load_project(current_user, project_id, Role.member, write=True)
    link = services.get_link(current_user, project_id, task_id, link_id)
    return _row(project_id, task_id, link, state="confirm", focus="cancel")


@bp.post("/<link_id>/remove")
def remove(project_id: str, task_id: str, link_id: str) -> Any:
    link = services.get_link(current_user, project_id, task_id, link_id)
    title = link.display_title
    services.remove_link(current_user, project_id, task_id, link_id)
    return _section(project_id, task_id, message=f"Link removed: {title}.", focus="heading", changed=True)


@bp.post("/<link_id>/refresh")
@link_refresh_limit
def refresh(project_id: str, task_id: str, link_id: str) -> Any:
    try:
        link = services.refresh_link(current_user, project_id, task_id, link_id)
    except services.CredentialRequired as needed:
        link = services.get_link(current_user, project_id, task_id, link_id)
        return _row(project_id, task_id, link, focus="refresh", notice=needed.to_dict(), message=needed.detail)
    provider = TASK_LINK_PROVIDERS.get(link.provider)
    if link.refresh_error:
        message = f"Couldn't refresh: {link.refresh_error['detail']}"
    elif provider is not None and provider.is_file_host:
        message = f"Preview refreshed: {link.display_title}."
    else:
        message = f"Link refreshed: {link.status}."
    return _row(project_id, task_id, link, focus="refresh", message=message, changed=True)
