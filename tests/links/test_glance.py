"""The at-a-glance indicators on the schedule (SPEC §8): list row glyph and Gantt dot."""

from __future__ import annotations

from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from ppm.extensions import db
from ppm.links.models import TaskLink
from tests.conftest import Factory, SessionClient

HX = {"HX-Request": "true"}


@pytest.fixture
def project(app: Any, make: Factory) -> dict[str, Any]:
    owner = make.user(email="pm@example.com", name="Pat Manager")
    project_id = make.project(owner)
    phase = make.task(owner, project_id, name="Phase", start_date="2026-11-20", finish_date="2026-11-30")
    work = make.task(
        owner, project_id, name="Work", parent_id=phase.id, start_date="2026-11-20", finish_date="2026-11-24"
    )
    single = make.task(owner, project_id, name="Single", start_date="2026-11-21", finish_date="2026-11-22")
    gate = make.task(owner, project_id, name="Gate", is_milestone=True, start_date="2026-11-30")
    bare = make.task(owner, project_id, name="Bare", start_date="2026-11-21", finish_date="2026-11-22")
    for task, statuses in (
        (work, ["merged", "closed", "open"]),
        (single, ["merged"]),
        (phase, ["closed"]),
        (gate, ["draft"]),
    ):
        for n, status in enumerate(statuses):
            db.session.add(
                TaskLink(
                    project_id=project_id,
                    task_id=task.id,
                    url=f"https://e.org/{task.id}/{n}",
                    url_key=f"https://e.org/{task.id}/{n}",
                    provider="github",
                    labels=[],
                    status=status,
                    position=n,
                )
            )
    db.session.commit()
    client = SessionClient(app.test_client(), owner).login()
    return {
        "client": client,
        "id": project_id,
        "work": work.id,
        "single": single.id,
        "phase": phase.id,
        "gate": gate.id,
        "bare": bare.id,
    }


def _row(html: str, task_id: str) -> Any:
    return LexborHTMLParser(html).css_first(f"#task-{task_id}")


def test_list_rows_show_glyph_count_and_words(project: dict[str, Any]) -> None:
    html = project["client"].get(f"/projects/{project['id']}/schedule").get_data(as_text=True)
    work = _row(html, project["work"]).css_first(".link-indicator-slot .link-indicator")
    assert work.attributes["aria-label"] == "3 external links, worst status: closed"
    assert "ws-closed" in work.attributes["class"] and "3" in work.text()
    assert work.attributes["title"] == work.attributes["aria-label"]  # a tooltip says it in words too
    # Drawn glyphs, not an emoji a font may lack: <use> of shapes the page draws once.
    assert [u.attributes["href"] for u in work.css("svg use")] == ["#g-link", "#g-closed"]
    symbols = LexborHTMLParser(html).css_first("svg.symbols")
    assert symbols.css_first("symbol#g-link path") is not None
    assert symbols.css_first("symbol#g-closed path") is not None
    single = _row(html, project["single"]).css_first(".link-indicator")
    assert single.attributes["aria-label"] == "1 external link, worst status: merged"
    # Hidden on summary and milestone rows, and without links.
    for key in ("phase", "gate", "bare"):
        assert _row(html, project[key]).css_first(".link-indicator") is None, key
    # Immediately left of the assignee avatars.
    cells = [td.attributes.get("class") for td in _row(html, project["work"]).css("td")]
    assert cells[-2:] == ["link-indicator-slot", "c-people"]


@pytest.mark.parametrize(("zoom", "dots"), [("day", 2), ("week", 2), ("month", 0), ("quarter", 0)])
def test_gantt_dots_only_at_day_and_week_zoom(project: dict[str, Any], zoom: str, dots: int) -> None:
    html = project["client"].get(f"/projects/{project['id']}/schedule?view=gantt&zoom={zoom}").get_data(as_text=True)
    found = LexborHTMLParser(html).css(".gantt-dot")
    assert len(found) == dots
    if dots:
        assert sorted(c.attributes["class"] for c in found) == ["gantt-dot ws-closed", "gantt-dot ws-merged"]
        # Each status has its own shape, not only its colour: closed is a cross, merged a tick.
        # (Each dot is a <use> of the page's shared shape for its status.)
        shapes = {c.attributes["class"]: c.attributes["href"] for c in found}
        assert shapes == {"gantt-dot ws-closed": "#g-closed", "gantt-dot ws-merged": "#g-merged"}
        symbols = LexborHTMLParser(html).css_first("svg.symbols")
        assert symbols.css_first("#g-closed").html != symbols.css_first("#g-merged").html.replace("merged", "closed")
        legend = LexborHTMLParser(html).css_first(".legend-statuses").text()
        assert all(word in legend for word in ("closed", "draft", "open", "merged", "unknown"))
        svg = LexborHTMLParser(html).css_first("svg.gantt-bars")
        assert svg.attributes["aria-hidden"] == "true"


def test_a_link_write_updates_the_row_without_a_reload(project: dict[str, Any]) -> None:
    client = project["client"]
    drawer = client.get(f"/projects/{project['id']}/schedule?task={project['bare']}").get_data(as_text=True)
    listener = LexborHTMLParser(drawer).css_first("span[hx-trigger='links-changed from:body']")
    assert listener is not None
    response = client.form(
        f"/projects/{project['id']}/tasks/{project['bare']}/links", {"url": "https://example.org/spec"}, headers=HX
    )
    assert "links-changed" in response.headers["HX-Trigger"]
    row = client.get(listener.attributes["hx-get"], headers=HX).get_data(as_text=True)
    # Out-of-band rows travel in <template> (a bare <tr> would be dropped by the parser).
    tree = LexborHTMLParser("<table>" + row.replace("<template>", "").replace("</template>", "") + "</table>")
    updated = tree.css_first(f"#task-{project['bare']}")
    assert "data-oob" in updated.attributes  # schedule.js swaps it for the row with its id
    assert updated.css_first(".link-indicator").attributes["aria-label"] == "1 external link, worst status: unknown"


def test_the_gantt_reloads_itself_after_a_link_write(project: dict[str, Any]) -> None:
    client = project["client"]
    response = client.get(
        f"/projects/{project['id']}/schedule/tasks/{project['bare']}/row?view=gantt&zoom=week", headers=HX
    )
    assert "schedule-changed" in response.headers["HX-Trigger"]


def test_the_drawer_hosts_the_links_section(project: dict[str, Any]) -> None:
    html = project["client"].get(f"/projects/{project['id']}/schedule?task={project['work']}").get_data(as_text=True)
    section = LexborHTMLParser(html).css_first("#drawer #task-links")
    assert section is not None and len(section.css("li.link-row")) == 3
    assert section.css_first("form.link-add") is not None


def test_the_drawer_fragment_carries_the_page_title(project: dict[str, Any]) -> None:
    response = project["client"].get(
        f"/projects/{project['id']}/schedule?task={project['work']}", headers={**HX, "HX-Target": "drawer"}
    )
    html = response.get_data(as_text=True)
    assert html.startswith("<title>Work · Schedule · ") and html.index("</title>") < html.index('id="drawer"')
