"""What the External links section needs to render, for the drawer and for the links' own
htmx responses alike (one source for the section's context, as for its markup)."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from ppm.integrations.registry import TASK_LINK_PROVIDERS
from ppm.links import services
from ppm.links.forms import LinkForm
from ppm.projects import services as projects
from ppm.projects.models import Role


def section_context(
    project_id: str, task_id: str, form: LinkForm | None = None, focus: str = "", access: projects.Access | None = None
) -> dict[str, Any]:
    """Everything the section template needs. The drawer passes the access it already checked
    for this task, which saves loading the project and the task again."""
    if access is None:
        access = projects.load_project(current_user, project_id)
        links = services.list_links(current_user, project_id, task_id)
    else:
        links = services.live_links(task_id)
    return {
        "links": links,
        "project_id": project_id,
        "task_id": task_id,
        "form": form or LinkForm(formdata=None),
        "focus": focus,
        "can_edit": access.can(Role.member) and not access.project.archived,
        "can_refresh": not access.project.archived,
        "providers": TASK_LINK_PROVIDERS,
    }
