"""Project pages: the index and create form, members, integrations, archive."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup

from ppm.errors import DomainError, ValidationError
from ppm.forms_util import apply_errors
from ppm.htmx import announce, is_htmx, page_or_fragment, redirect_htmx_aware
from ppm.projects import services
from ppm.projects.forms import ROLE_CHOICES, MemberForm, ProjectForm, RoleForm
from ppm.projects.models import Role
from ppm.projects.sections import INTEGRATION_SECTIONS

bp = Blueprint("projects", __name__)


@bp.get("/")
def index_redirect() -> Any:
    return redirect(url_for("portfolio.index"))  # the landing page (SPEC §22)


@bp.get("/projects/")
def index() -> Any:
    return render_template(
        "projects/index.html", projects=services.list_projects(current_user), form=ProjectForm(formdata=None)
    )


@bp.post("/projects/")
def create() -> Any:
    form = ProjectForm()
    try:
        access = services.create_project(current_user, {"name": form.name.data or ""})
    except ValidationError as error:
        apply_errors(form, error)
        return render_template("projects/index.html", form=form, projects=services.list_projects(current_user)), 422
    return redirect_htmx_aware(url_for("schedule.schedule", project_id=access.project.id))


@bp.get("/projects/<project_id>/")
def show(project_id: str) -> Any:
    services.load_project(current_user, project_id)
    return redirect(url_for("schedule.schedule", project_id=project_id))


@bp.post("/projects/<project_id>/archive")
def archive(project_id: str) -> Any:
    services.set_archived(current_user, project_id, True)
    return redirect_htmx_aware(url_for("projects.members", project_id=project_id))


@bp.post("/projects/<project_id>/unarchive")
def unarchive(project_id: str) -> Any:
    services.set_archived(current_user, project_id, False)
    return redirect_htmx_aware(url_for("projects.members", project_id=project_id))


def _members_response(
    project_id: str,
    form: MemberForm,
    status: int = 200,
    message: str | None = None,
    error: str | None = None,
    focus: str = "",
    confirm_id: str | None = None,
) -> Any:
    """The members section; `focus` names the control the person needs next (htmx convention 7)
    and `confirm_id` shows that member's row as the inline remove confirm."""
    access = services.load_project(current_user, project_id)
    response = page_or_fragment(
        "projects/members.html",
        "projects/_members.html",
        status,
        access=access,
        members=services.list_members(current_user, project_id),
        form=form,
        role_choices=ROLE_CHOICES,
        can_manage=access.can(Role.admin),
        is_owner=access.can(Role.owner),
        error=error,
        focus=focus,
        confirm_id=confirm_id,
    )
    return announce(response, message) if message else response


def _members_done(project_id: str, message: str, focus: str) -> Any:
    """After a successful write: the section for htmx, post-redirect-get without JavaScript."""
    if not is_htmx():
        return redirect(url_for("projects.members", project_id=project_id), 303)
    return _members_response(project_id, MemberForm(formdata=None), message=message, focus=focus)


@bp.get("/projects/<project_id>/members")
def members(project_id: str) -> Any:
    return _members_response(project_id, MemberForm(formdata=None))


@bp.post("/projects/<project_id>/members")
def add_member(project_id: str) -> Any:
    form = MemberForm()
    try:
        membership = services.add_member(
            current_user, project_id, {"email": form.email.data or "", "role": form.role.data}
        )
    except ValidationError as error:
        apply_errors(form, error)
        return _members_response(project_id, form, 422)
    except DomainError as error:
        if error.status == 409:
            form.email.errors = [error.detail]
            return _members_response(project_id, form, 422)
        raise
    return _members_done(project_id, f"{membership.user.name} added as {membership.role}.", focus="email")


@bp.post("/projects/<project_id>/members/<user_id>/role")
def change_role(project_id: str, user_id: str) -> Any:
    form = RoleForm()
    try:
        membership = services.change_member_role(current_user, project_id, user_id, {"role": form.role.data})
    except DomainError as error:
        if error.status in (400, 409):
            return _members_response(project_id, MemberForm(formdata=None), 422, error=error.detail)
        raise
    return _members_done(
        project_id, f"{membership.user.name} is now {membership.role}.", focus=f"role-{membership.user_id}"
    )


@bp.get("/projects/<project_id>/members/<user_id>/remove")
def confirm_remove_member(project_id: str, user_id: str) -> Any:
    services.load_project(current_user, project_id, Role.admin, write=True)
    return _members_response(project_id, MemberForm(formdata=None), confirm_id=user_id, focus="cancel")


@bp.post("/projects/<project_id>/members/<user_id>/remove")
def remove_member(project_id: str, user_id: str) -> Any:
    leaving = user_id == current_user.id
    try:
        services.remove_member(current_user, project_id, user_id)
    except DomainError as error:
        if error.status == 409:
            return _members_response(project_id, MemberForm(formdata=None), 422, error=error.detail)
        raise
    if leaving:
        return redirect_htmx_aware(url_for("projects.index"))
    return _members_done(project_id, "Member removed.", focus="heading")


@bp.get("/projects/<project_id>/integrations")
def integrations(project_id: str) -> Any:
    access = services.load_project(current_user, project_id)
    sections = [Markup(render(access)) for render in INTEGRATION_SECTIONS]  # noqa: S704 - our own templates
    return render_template("projects/integrations.html", access=access, sections=sections)
