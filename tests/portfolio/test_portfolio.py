"""The portfolio (SPEC §22): every figure against hand-built projects, and against the schedule's
own task list (one definition of each attention code); sorting, filters, the URL, the htmx swap
and its announcement, the links into the filtered schedule; the JSON and its 400s."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from ppm.auth.models import User
from ppm.extensions import db
from ppm.links import attention
from ppm.links import services as links
from ppm.models_base import utc_today, utcnow
from ppm.projects import services as projects
from ppm.projects.models import Project, Task
from ppm.webhooks.models import WebhookReceiver
from tests.conftest import Factory, SessionClient, TokenClient

HTMX = {"HX-Request": "true", "HX-Target": "portfolio-results", "HX-Current-URL": "http://localhost/portfolio"}


def day(offset: int) -> str:
    return (utc_today() + timedelta(days=offset)).isoformat()


def cached_link(owner: User, project_id: str, task_id: str, url: str, **columns: Any) -> str:
    link = links.add_link(owner, project_id, task_id, {"url": url})
    columns.setdefault("fetched_at", utcnow())
    for name, value in columns.items():
        setattr(link, name, value)
    db.session.commit()
    return str(link.id)


def set_state(task_id: str, state: str) -> None:
    task = db.session.get(Task, task_id)
    assert task is not None
    task.state = state
    db.session.commit()


def receiver(project_id: str, delivered_hours_ago: float | None = None, result: str | None = None) -> None:
    db.session.add(
        WebhookReceiver(
            project_id=project_id,
            provider="github",
            secret_ciphertext="not-a-secret",
            last_delivery_at=utcnow() - timedelta(hours=delivered_hours_ago) if delivered_hours_ago else None,
            last_delivery_result=result,
        )
    )
    db.session.commit()


@pytest.fixture
def world(make: Factory, user: User) -> dict[str, Any]:
    """Olive's projects: Apollo (owner: late, one done, every status, a removed task and a removed
    link, two webhooks), Zephyr (a viewer there), Empty (no tasks, a webhook never delivered to),
    Old (archived, late); and Secret, of someone else, which she must never see."""
    vic = make.user(email="vic@example.com", name="Vic Other")
    apollo = make.project(user, "Apollo")
    build = make.task(user, apollo, name="Build")
    design = make.task(user, apollo, name="Design", parent_id=build.id, start_date=day(-9), finish_date=day(-1))
    code = make.task(user, apollo, name="Code", parent_id=build.id, start_date=day(-5), finish_date=day(-1))
    review = make.task(user, apollo, name="Review", parent_id=build.id, start_date=day(-2), finish_date=day(4))
    launch = make.task(user, apollo, name="Launch", start_date=day(3), is_milestone=True)
    scrapped = make.task(user, apollo, name="Scrapped", start_date=day(-9), finish_date=day(-3))
    set_state(design.id, "done")
    cached_link(user, apollo, design.id, "https://github.com/acme/api/pull/1", status="merged")
    cached_link(user, apollo, code.id, "https://github.com/acme/api/pull/2", status="open")
    cached_link(user, apollo, code.id, "https://github.com/acme/api/pull/3", status="draft", checks="failing")
    cached_link(
        user,
        apollo,
        review.id,
        "https://github.com/acme/api/pull/4",
        status="closed",
        fetched_at=utcnow() - timedelta(days=2),
    )
    gone = cached_link(user, apollo, review.id, "https://github.com/acme/api/pull/5", status="open", checks="failing")
    links.remove_link(user, apollo, review.id, gone)
    cached_link(user, apollo, launch.id, "https://example.com/launch-plan")
    cached_link(
        user, apollo, scrapped.id, "https://github.com/acme/api/pull/6", status="closed", review="changes_requested"
    )
    projects.delete_task(user, apollo, scrapped.id)
    keyed = db.session.get(Project, apollo)
    keyed.key = "APL"  # SPEC §20 (a key of one's choosing, as PATCH would set it)
    db.session.commit()
    receiver(apollo, 2, "ok")
    receiver(apollo, 1, "bad_signature")

    zephyr = make.project(vic, "Zephyr")
    make.member(vic, zephyr, "viewer", user=user)
    plan = make.task(vic, zephyr, name="Plan", start_date=day(0), finish_date=day(2))
    cached_link(vic, zephyr, plan.id, "https://github.com/acme/web/pull/7", status="open", review="changes_requested")

    empty = make.project(user, "Empty")
    receiver(empty)

    old = make.project(user, "Old")
    make.task(user, old, name="Forgotten", start_date=day(-9), finish_date=day(-5))
    projects.set_archived(user, old, True)

    secret = make.project(vic, "Secret")
    hidden = make.task(vic, secret, name="Hidden", start_date=day(-9), finish_date=day(-5))
    cached_link(vic, secret, hidden.id, "https://github.com/acme/secret/pull/8", status="closed")
    receiver(secret, 1, "ok")
    return {"apollo": apollo, "zephyr": zephyr, "empty": empty, "old": old, "secret": secret}


def expected_attention(**counts: int) -> dict[str, int]:
    return {code: counts.get(code, 0) for code in attention.CODES}


def overdue(count: int) -> dict[str, int]:
    """SPEC §21's `overdue` (a task not done past its finish date), once the code exists."""
    return {"overdue": count} if "overdue" in attention.CODES else {}


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {project["name"]: project for project in body["projects"]}


def test_every_figure_of_hand_built_projects(api_client: TokenClient, world: dict[str, Any]) -> None:
    response = api_client.api("GET", "/api/v1/portfolio/")
    assert response.status_code == 200
    body = response.get_json()
    assert [p["name"] for p in body["projects"]] == ["Apollo", "Zephyr", "Empty"]  # attention, most first
    found = by_name(body)
    apollo = found["Apollo"]
    assert apollo["id"] == world["apollo"]
    assert apollo["key"] == "APL"
    assert apollo["role"] == "owner" and apollo["archived"] is False
    # Leaf tasks: Design (done), Code, Review, Launch (a milestone); not Build (a summary) nor
    # Scrapped (removed).
    assert apollo["tasks"] == {"total": 4, "done": 1}
    assert apollo["finish_date"] == day(4)
    assert apollo["late"] is True  # Code: not done, finished yesterday; Design is done
    # Live links of live tasks only: not pull/5 (removed) nor pull/6 (its task was removed).
    assert apollo["links"] == {"open": 1, "draft": 1, "merged": 1, "closed": 1, "unknown": 1}
    assert apollo["attention"] == expected_attention(
        closed_unmerged=1, failing_checks=1, overdue_open=1, stale=1, **overdue(1)
    )
    delivered = apollo["webhooks"]
    assert delivered["count"] == 2 and delivered["last_delivery_result"] == "bad_signature"
    assert delivered["last_delivery_at"].endswith("Z")

    zephyr = found["Zephyr"]
    assert zephyr["role"] == "viewer"
    assert zephyr["tasks"] == {"total": 1, "done": 0} and zephyr["late"] is False
    assert zephyr["finish_date"] == day(2)
    assert zephyr["links"] == {"open": 1, "draft": 0, "merged": 0, "closed": 0, "unknown": 0}
    assert zephyr["attention"] == expected_attention(changes_requested=1)
    assert zephyr["webhooks"] == {"count": 0, "last_delivery_at": None, "last_delivery_result": None}

    empty = found["Empty"]
    assert empty["tasks"] == {"total": 0, "done": 0}
    assert empty["finish_date"] is None and empty["late"] is False
    assert empty["links"] == dict.fromkeys(("open", "draft", "merged", "closed", "unknown"), 0)
    assert empty["attention"] == expected_attention()
    assert empty["webhooks"] == {"count": 1, "last_delivery_at": None, "last_delivery_result": None}


def test_attention_counts_are_the_schedules(api_client: TokenClient, world: dict[str, Any]) -> None:
    """One definition: each count equals the number of tasks the schedule's task list flags."""
    body = api_client.api("GET", "/api/v1/portfolio/?include_archived=1").get_json()
    assert len(body["projects"]) == 4
    for project in body["projects"]:
        tasks = api_client.api("GET", f"/api/v1/projects/{project['id']}/tasks/").get_json()
        flagged = {code: sum(code in task["attention"] for task in tasks) for code in attention.CODES}
        assert project["attention"] == flagged, project["name"]
        summaries = sum(task["external_link_summary"]["count"] for task in tasks)
        assert sum(project["links"].values()) == summaries, project["name"]


def test_archived_projects_only_when_asked_and_say_so(
    api_client: TokenClient, session_client: SessionClient, world: dict[str, Any]
) -> None:
    names = [p["name"] for p in api_client.api("GET", "/api/v1/portfolio/").get_json()["projects"]]
    assert "Old" not in names
    body = api_client.api("GET", "/api/v1/portfolio/?include_archived=1&sort=name").get_json()
    assert [p["name"] for p in body["projects"]] == ["Apollo", "Empty", "Old", "Zephyr"]
    old = by_name(body)["Old"]
    assert old["archived"] is True and old["late"] is True and old["tasks"] == {"total": 1, "done": 0}
    tree = LexborHTMLParser(session_client.get("/portfolio?include_archived=1").get_data(as_text=True))
    row = tree.css_first(f"#portfolio-{world['old']}")
    assert row is not None and "Archived" in row.text()
    assert "Archived" not in tree.css_first(f"#portfolio-{world['apollo']}").text()
    plain = session_client.get("/portfolio").get_data(as_text=True)
    assert world["old"] not in plain


def test_a_project_of_which_the_person_is_not_a_member_never_appears(
    api_client: TokenClient, session_client: SessionClient, world: dict[str, Any]
) -> None:
    for query in ("", "?include_archived=1", "?attention_only=1&include_archived=1&sort=finish_date"):
        body = api_client.api("GET", f"/api/v1/portfolio/{query}").get_json()
        assert world["secret"] not in {p["id"] for p in body["projects"]}
        page = session_client.get(f"/portfolio{query}").get_data(as_text=True)
        assert world["secret"] not in page and "Secret" not in page


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["Apollo", "Zephyr", "Empty"]),
        ("?sort=attention", ["Apollo", "Zephyr", "Empty"]),
        ("?sort=name", ["Apollo", "Empty", "Zephyr"]),
        ("?sort=finish_date", ["Zephyr", "Apollo", "Empty"]),  # soonest first, no dates last
        ("?attention_only=1", ["Apollo", "Zephyr"]),
        ("?attention_only=true&sort=name", ["Apollo", "Zephyr"]),
        ("?include_archived=1&sort=finish_date", ["Old", "Zephyr", "Apollo", "Empty"]),
        ("?include_archived=1&attention_only=0&sort=name", ["Apollo", "Empty", "Old", "Zephyr"]),
    ],
)
def test_sorts_and_filters_in_json_and_on_the_page(
    api_client: TokenClient, session_client: SessionClient, world: dict[str, Any], query: str, names: list[str]
) -> None:
    body = api_client.api("GET", f"/api/v1/portfolio/{query}").get_json()
    assert [p["name"] for p in body["projects"]] == names
    tree = LexborHTMLParser(session_client.get(f"/portfolio{query}").get_data(as_text=True))
    assert [" ".join(n.text().split()).replace(" Archived", "") for n in tree.css(".portfolio-name a")] == names


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=worst", "sort"),
        ("sort=", None),
        ("attention_only=maybe", "attention_only"),
        ("include_archived=2", "include_archived"),
    ],
)
def test_a_wrong_value_is_a_400_naming_it(
    api_client: TokenClient, world: dict[str, Any], query: str, field: str | None
) -> None:
    response = api_client.api("GET", f"/api/v1/portfolio/?{query}")
    if field is None:  # blank is the default
        assert response.status_code == 200
        return
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "validation_error" and field in body["fields"]


def test_the_page_keeps_wrong_values_harmless(session_client: SessionClient, world: dict[str, Any]) -> None:
    response = session_client.get("/portfolio?sort=worst&attention_only=maybe")
    assert response.status_code == 200
    tree = LexborHTMLParser(response.get_data(as_text=True))
    assert tree.css_first("#portfolio-sort option[selected]").attributes["value"] == "attention"


def test_the_page_shows_each_column_in_words(session_client: SessionClient, world: dict[str, Any]) -> None:
    tree = LexborHTMLParser(session_client.get("/portfolio").get_data(as_text=True))
    assert " ".join(tree.css_first("#portfolio-count").text().split()) == (
        "Showing 3 projects, sorted by needs attention."
    )
    row = tree.css_first(f"#portfolio-{world['apollo']}")
    text = " ".join(row.text().split())
    assert row.css_first(".portfolio-key").text().strip() == "APL"
    for words in ("Owner", "1 of 4 done", "Late", "1 open", "1 draft", "1 merged", "1 closed", "1 unknown"):
        assert words in text, words
    assert "Refused: the signature did not match" in text
    assert row.css_first("progress").attributes["value"] == "1"
    assert row.css_first("progress").attributes["max"] == "4"
    # Each attention count links to the schedule filtered by that code; codes at 0 are not links.
    hrefs = {a.attributes["href"] for a in row.css(".attention-link")}
    assert hrefs == {
        f"/projects/{world['apollo']}/schedule?attention={code}"
        for code in ("closed_unmerged", "failing_checks", "overdue_open", "stale", *overdue(1))
    }
    assert row.css_first(".portfolio-name a").attributes["href"] == f"/projects/{world['apollo']}/schedule"
    zephyr = " ".join(tree.css_first(f"#portfolio-{world['zephyr']}").text().split())
    assert "Viewer" in zephyr and "On time" in zephyr and "No webhook" in zephyr
    assert "Changes requested 1" in zephyr
    empty = " ".join(tree.css_first(f"#portfolio-{world['empty']}").text().split())
    assert "No tasks" in empty and "No linked work" in empty and "No delivery yet" in empty


def test_followed_attention_link_filters_the_schedule(session_client: SessionClient, world: dict[str, Any]) -> None:
    tree = LexborHTMLParser(session_client.get("/portfolio").get_data(as_text=True))
    href = next(
        a.attributes["href"]
        for a in tree.css(f"#portfolio-{world['apollo']} .attention-link")
        if a.attributes["href"].endswith("attention=closed_unmerged")
    )
    schedule = LexborHTMLParser(session_client.get(href).get_data(as_text=True))
    assert schedule.css_first("#attention-closed_unmerged").attributes.get("aria-current") == "true"


def test_htmx_swaps_the_results_and_announces_the_count(session_client: SessionClient, world: dict[str, Any]) -> None:
    response = session_client.get("/portfolio?attention_only=1", headers=HTMX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers.get("Vary", "")
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="portfolio-results"' in html
    assert 'id="portfolio-choices"' not in html
    tree = LexborHTMLParser(html)
    oob = tree.css_first('[hx-swap-oob="innerHTML:#live-region"]')
    assert (
        oob is not None and oob.text().strip() == "Showing 2 projects that need attention, sorted by needs attention."
    )
    none = session_client.get("/portfolio?attention_only=1&sort=name", headers=HTMX).get_data(as_text=True)
    assert "Showing 2 projects that need attention, sorted by name." in none


def test_the_choices_are_a_plain_form_that_reflects_the_url(
    session_client: SessionClient, world: dict[str, Any]
) -> None:
    tree = LexborHTMLParser(
        session_client.get("/portfolio?sort=finish_date&attention_only=1&include_archived=1").get_data(as_text=True)
    )
    form = tree.css_first("form#portfolio-choices")
    assert form.attributes["method"] == "get" and form.attributes["action"] == "/portfolio"
    assert form.attributes["hx-push-url"] == "true" and form.attributes["hx-target"] == "#portfolio-results"
    assert tree.css_first("#portfolio-sort option[selected]").attributes["value"] == "finish_date"
    assert "checked" in tree.css_first("#portfolio-attention-only").attributes
    assert "checked" in tree.css_first("#portfolio-include-archived").attributes
    assert form.css_first("button[type=submit]") is not None
    assert tree.css_first('th[aria-sort="ascending"]').text().strip() == "Finish"


def test_portfolio_is_in_the_main_navigation(session_client: SessionClient, world: dict[str, Any]) -> None:
    tree = LexborHTMLParser(session_client.get("/portfolio").get_data(as_text=True))
    current = tree.css_first('nav[aria-label="Main"] a[aria-current="page"]')
    assert current is not None and current.text() == "Portfolio" and current.attributes["href"] == "/portfolio"
    elsewhere = LexborHTMLParser(session_client.get("/projects/").get_data(as_text=True))
    assert elsewhere.css_first('nav[aria-label="Main"] a[href="/portfolio"]') is not None


def test_nobody_on_any_project_sees_an_invitation(session_client: SessionClient) -> None:
    tree = LexborHTMLParser(session_client.get("/portfolio").get_data(as_text=True))
    assert tree.css_first("table") is None
    assert "No projects to show." in tree.css_first("#portfolio-count").text()
    assert tree.css_first('#portfolio-results a[href="/projects/"]') is not None


def test_anonymous_visitors_log_in_first(client: Any) -> None:
    assert client.get("/portfolio").status_code == 302
    assert client.get("/api/v1/portfolio/").status_code == 401
