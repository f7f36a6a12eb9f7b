"""Review and CI shown (SPEC §15): in the drawer beside the status badge, as words each with its
own shape; in the schedule row's accessible label and tooltip; never in the Gantt dot."""

from __future__ import annotations

from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from ppm.extensions import db
from ppm.links.models import TaskLink
from tests.conftest import Factory, SessionClient

PULLS = [
    ("open", "failing", "changes_requested"),
    ("merged", "passing", "approved"),
    ("draft", "pending", "review_required"),
    ("open", "none", "none"),
]


@pytest.fixture
def project(app: Any, make: Factory) -> dict[str, Any]:
    owner = make.user(email="pm@example.com", name="Pat Manager")
    project_id = make.project(owner)
    many = make.task(owner, project_id, name="Many", start_date="2026-11-20", finish_date="2026-11-24")
    quiet = make.task(owner, project_id, name="Quiet", start_date="2026-11-20", finish_date="2026-11-24")
    for n, (status, checks, review) in enumerate(PULLS):
        _link(project_id, many.id, n, status, checks, review)
    _link(project_id, quiet.id, 0, "open", "none", None)
    db.session.commit()
    client = SessionClient(app.test_client(), owner).login()
    return {"client": client, "id": project_id, "many": many.id, "quiet": quiet.id}


def _link(project_id: str, task_id: str, n: int, status: str, checks: str | None, review: str | None) -> None:
    url = f"https://github.com/acme/api/pull/{n + 1}"
    fields = {"url": url, "url_key": url, "provider": "github", "labels": [], "status": status, "position": n}
    db.session.add(TaskLink(project_id=project_id, task_id=task_id, checks=checks, review=review, **fields))


def test_the_drawer_shows_checks_and_review_in_words_beside_the_status(project: dict[str, Any]) -> None:
    html = project["client"].get(f"/projects/{project['id']}/schedule?task={project['many']}").get_data(as_text=True)
    rows = LexborHTMLParser(html).css("#task-links li.link-row")
    metas = [" ".join(row.css_first(".link-meta").text().split()) for row in rows]
    assert "Status: Open Checks failing Changes requested" in metas[0]
    assert "Status: Merged Checks passing Approved" in metas[1]
    assert "Status: Draft Checks pending Review required" in metas[2]
    assert "Checks" not in metas[3] and "Review" not in metas[3]  # none: nothing to say
    # Each state has its own shape (not colour alone): six badges, six different drawings.
    shapes = {badge.text(): badge.css_first("svg").html for row in rows[:3] for badge in row.css(".checks, .review")}
    assert len(shapes) == 6 and len(set(shapes.values())) == 6
    badges = [badge for row in rows for badge in row.css(".status")]
    assert all(badge.css_first("svg").attributes["aria-hidden"] == "true" for badge in badges)


def test_the_row_label_and_tooltip_name_the_worst_checks_and_review(project: dict[str, Any]) -> None:
    html = project["client"].get(f"/projects/{project['id']}/schedule").get_data(as_text=True)
    tree = LexborHTMLParser(html)
    many = tree.css_first(f"#task-{project['many']} .link-indicator")
    label = "4 external links, worst status: draft, checks failing, changes requested"
    assert many.attributes["aria-label"] == label and many.attributes["title"] == label
    quiet = tree.css_first(f"#task-{project['quiet']} .link-indicator")
    assert quiet.attributes["aria-label"] == "1 external link, worst status: open"


def test_the_row_label_follows_the_next_worst(project: dict[str, Any]) -> None:
    db.session.query(TaskLink).filter(TaskLink.checks == "failing").update({"checks": "passing", "review": None})
    db.session.commit()
    html = project["client"].get(f"/projects/{project['id']}/schedule").get_data(as_text=True)
    many = LexborHTMLParser(html).css_first(f"#task-{project['many']} .link-indicator")
    assert many.attributes["aria-label"].endswith("worst status: draft, checks pending, review required")


def test_the_gantt_dot_stays_the_worst_status_only(project: dict[str, Any]) -> None:
    html = project["client"].get(f"/projects/{project['id']}/schedule?view=gantt&zoom=day").get_data(as_text=True)
    tree = LexborHTMLParser(html)
    dots = sorted(dot.attributes["class"] for dot in tree.css(".gantt-dot"))
    assert dots == ["gantt-dot ws-draft", "gantt-dot ws-open"]
    names = tree.text()
    assert "4 external links, worst status: draft, checks failing, changes requested" in names
