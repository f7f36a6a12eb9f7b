"""The Git automations section of a project's Integrations page (SPEC §21): two switches, each a
form (htmx swaps the section and announces the change; without JavaScript, post-redirect-get)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ppm.automations import services
from ppm.htmx import announce, is_htmx, wants_fragment
from ppm.projects import services as projects
from ppm.projects.models import Role
from ppm.projects.sections import INTEGRATION_SECTIONS
from ppm.projects.services import Access

bp = Blueprint("automations", __name__)

SECTION = "/projects/<project_id>/integrations/automations"
LABELS = {
    "start_on_open": "Start tasks when a pull request opens",
    "done_on_merge": "Finish tasks when their pull requests merge",
}


def _section_html(access: Access, focus: str = "") -> str:
    return render_template(
        "automations/_section.html",
        access=access,
        switches=services.get_switches(current_user, access.project.id),
        can_manage=access.can(Role.admin) and not access.project.archived,
        labels=LABELS,
        focus=focus,
    )


def section_for_page(access: Access) -> str:
    return _section_html(access)


INTEGRATION_SECTIONS.append(section_for_page)


def _page_url(project_id: str) -> str:
    return url_for("projects.integrations", project_id=project_id) + "#automations"


@bp.get(SECTION)
def section(project_id: str) -> Any:
    access = projects.load_project(current_user, project_id)
    if not is_htmx():
        return redirect(_page_url(project_id))
    response = make_response(_section_html(access))
    response.vary.add("HX-Request")
    return response


@bp.post(SECTION)
def switch(project_id: str) -> Any:
    """One switch: the form names it and the value to set (`on` or anything else for off)."""
    name = request.form.get("switch", "")
    if name not in services.SWITCHES:
        name = ""
    value = request.form.get("value") == "on"
    switches = services.set_switches(current_user, project_id, {name: value} if name else {})
    if not wants_fragment():
        return redirect(_page_url(project_id), 303)
    access = projects.load_project(current_user, project_id)
    response = make_response(_section_html(access, focus=name))
    response.vary.add("HX-Request")
    response.headers["Cache-Control"] = "no-store"
    if name:
        state = "on" if getattr(switches, name) else "off"
        announce(response, f"{LABELS[name]}: {state}.")
    return response
