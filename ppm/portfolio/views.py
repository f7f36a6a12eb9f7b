"""The portfolio page (SPEC §22): the person's projects and their health, one row each.

The sort and filters are a plain GET form: without JavaScript it reloads the page; with htmx
a change swaps the results region, keeps the choices in the URL and announces the new count.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, url_for
from flask_login import current_user

from ppm.htmx import announce, page_or_fragment, wants_fragment
from ppm.links import attention
from ppm.portfolio import services
from ppm.portfolio.services import Choices, ProjectHealth

# One wording of a delivery's result, the Integrations page's (a constant, not a view).
from ppm.webhooks.views import REFUSED, RESULT_LABELS

bp = Blueprint("portfolio", __name__)

SORT_LABELS = {
    "attention": "Needs attention (most first)",
    "name": "Name (A to Z)",
    "finish_date": "Finish date (soonest first)",
}
STATUS_WORDS = {"open": "open", "draft": "draft", "merged": "merged", "closed": "closed", "unknown": "unknown"}


@bp.get("/portfolio")
def index() -> Any:
    choices = services.parse_choices(request.args, strict=False)
    rows = services.portfolio(current_user, choices)
    message = count_message(len(rows), choices)
    response = page_or_fragment(
        "portfolio/page.html",
        "portfolio/_results.html",
        rows=rows,
        choices=choices,
        message=message,
        base=url_for("portfolio.index"),
        sort_labels=SORT_LABELS,
        statuses=services.STATUSES,
        status_words=STATUS_WORDS,
        codes=attention.CODES,
        code_labels=attention.LABELS,
        result_labels=RESULT_LABELS,
        refused=REFUSED,
        schedule_url=schedule_url,
    )
    return announce(response, message) if wants_fragment() else response


def schedule_url(row: ProjectHealth, code: str | None = None) -> str:
    """The project's schedule, filtered by one attention code when given (SPEC §16)."""
    if code is None:
        return url_for("schedule.schedule", project_id=row.id)
    return url_for("schedule.schedule", project_id=row.id, attention=code)


def count_message(count: int, choices: Choices) -> str:
    """What the table shows now, in words (visible above it and announced after a swap)."""
    what = "project" if count == 1 else "projects"
    if choices.attention_only:
        what += " that needs attention" if count == 1 else " that need attention"
    archived = ", archived included" if choices.include_archived else ""
    if not count:
        return ("No projects need attention" if choices.attention_only else "No projects to show") + archived + "."
    return f"Showing {count} {what}{archived}, sorted by {SORT_LABELS[choices.sort].split(' (')[0].lower()}."
