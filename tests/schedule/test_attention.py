"""The Needs attention bar on the schedule (SPEC §16): counts, the filter with muted ancestors,
URL state, the htmx swap and its announcement, reasons in words; and, while here, an address
of a removed task."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ppm.auth.models import User
from ppm.extensions import db
from ppm.links import services as links
from ppm.models_base import utc_today, utcnow
from ppm.projects import services as projects
from tests.conftest import Factory, SessionClient
from tests.schedule.conftest import htmx, parse, texts


def day(offset: int) -> str:
    return (utc_today() + timedelta(days=offset)).isoformat()


def cached_link(owner: User, project_id: str, task_id: str, url: str, **columns: Any) -> None:
    link = links.add_link(owner, project_id, task_id, {"url": url})
    columns.setdefault("fetched_at", utcnow())
    for name, value in columns.items():
        setattr(link, name, value)
    db.session.commit()


@pytest.fixture
def plan(make: Factory, user: User) -> dict[str, str]:
    """Build (summary) > Design (overdue, open work), Code (summary) > Review (closed pull
    request) and Tests (stale); Docs (fine); Launch (a milestone, overdue with open work, which
    a milestone never shows)."""
    pid = make.project(user, "Apollo")
    build = make.task(user, pid, name="Build")
    design = make.task(user, pid, name="Design", parent_id=build.id, start_date=day(-9), finish_date=day(-1))
    code = make.task(user, pid, name="Code", parent_id=build.id)
    review = make.task(user, pid, name="Review", parent_id=code.id, start_date=day(-2), finish_date=day(4))
    tests = make.task(user, pid, name="Tests", parent_id=code.id, start_date=day(-2), finish_date=day(4))
    docs = make.task(user, pid, name="Docs", start_date=day(-2), finish_date=day(4))
    launch = make.task(user, pid, name="Launch", start_date=day(-1), is_milestone=True)
    cached_link(user, pid, design.id, "https://github.com/acme/api/pull/1", status="open")
    cached_link(user, pid, review.id, "https://github.com/acme/api/pull/2", status="closed")
    cached_link(user, pid, tests.id, "https://gitlab.com/acme/web/-/issues/3", status="open", fetched_at=None)
    cached_link(user, pid, docs.id, "https://github.com/acme/api/pull/4", status="merged")
    cached_link(user, pid, launch.id, "https://github.com/acme/api/pull/5", status="closed")
    ids = {"id": pid}
    for task in (build, design, code, review, tests, docs, launch):
        ids[task.name.lower()] = task.id
    return ids


@pytest.fixture
def owner(session_client: SessionClient) -> SessionClient:
    return session_client


def page(plan: dict[str, str], query: str = "") -> str:
    return f"/projects/{plan['id']}/schedule{query}"


def row_ids(tree: Any, plan: dict[str, str], selector: str = "#schedule-rows > tr") -> list[str]:
    names = {f"task-{tid}": name for name, tid in plan.items()}
    return [names[row.attributes["id"]] for row in tree.css(selector)]


def bar_counts(tree: Any) -> dict[str, str]:
    return {
        " ".join(node.text().split()).rsplit(" ", 1)[0]: node.css_first(".attention-count").text()
        for node in tree.css("#attention-bar .attention-option")
    }


@pytest.mark.parametrize("query", ["", "?view=gantt&zoom=week"])
def test_the_bar_counts_each_code_in_spec_order(owner: SessionClient, plan: dict[str, str], query: str) -> None:
    tree = parse(owner.get(page(plan, query)))
    assert bar_counts(tree) == {
        "Closed without merge": "1",
        "Failing checks": "0",
        "Changes requested": "0",
        "Overdue with open work": "1",
        "Overdue": "2",  # SPEC §21: Design, and Launch (a missed milestone)
        "Stale": "1",
    }
    # A code nobody has is not offered as a filter; the others are plain links (no script needed).
    options = tree.css("#attention-bar a.attention-option")
    assert [o.attributes["id"] for o in options] == [
        "attention-closed_unmerged",
        "attention-overdue_open",
        "attention-overdue",
        "attention-stale",
    ]
    for option in options:
        assert option.attributes["href"] == option.attributes["hx-get"]
        assert "attention=" in option.attributes["href"]
        assert option.attributes["hx-target"] == "#schedule-view"
        assert option.attributes["hx-swap"] == "outerHTML"
        assert option.attributes["hx-push-url"] == "true"
    assert tree.css_first("#attention-clear") is None


def test_the_counts_follow_review_and_ci_columns(owner: SessionClient, plan: dict[str, str], user: User) -> None:
    cached_link(user, plan["id"], plan["docs"], "https://github.com/acme/api/pull/9", status="open", checks="failing")
    cached_link(user, plan["id"], plan["docs"], "https://github.com/acme/api/pull/8", review="changes_requested")
    counts = bar_counts(parse(owner.get(page(plan))))
    assert counts["Failing checks"] == "1" and counts["Changes requested"] == "1"


def test_filter_shows_the_matching_rows_and_their_ancestors_muted(owner: SessionClient, plan: dict[str, str]) -> None:
    tree = parse(owner.get(page(plan, "?attention=closed_unmerged")))
    assert row_ids(tree, plan) == ["build", "code", "review"]
    muted = [row_ids_of(row, plan) for row in tree.css("#schedule-rows > tr.is-muted")]
    assert muted == ["build", "code"]
    assert texts(tree, f"#task-{plan['build']} .task-link") == ["Build (summary), shown for context"]
    review = texts(tree, f"#task-{plan['review']} .task-link")[0]
    assert review == "Review⚑, needs attention: closed without merge"
    status = texts(tree, "#attention-bar .attention-status")[0]
    assert status.startswith("Showing 1 task closed without merge, with 2 parent tasks for context.")
    active = tree.css_first("#attention-closed_unmerged")
    assert active.attributes["aria-current"] == "true"
    # Choosing it again, or the clear control, shows every task again.
    assert active.attributes["href"] == page(plan)
    assert tree.css_first("#attention-clear").attributes["href"] == page(plan)


def row_ids_of(row: Any, plan: dict[str, str]) -> str:
    return {f"task-{tid}": name for name, tid in plan.items()}[row.attributes["id"]]


def test_unfiltered_rows_say_their_reasons_in_words(owner: SessionClient, plan: dict[str, str]) -> None:
    tree = parse(owner.get(page(plan)))
    assert row_ids(tree, plan) == ["build", "design", "code", "review", "tests", "docs", "launch"]
    assert tree.css("tr.is-muted") == []
    design = texts(tree, f"#task-{plan['design']} .task-link")[0]
    assert design.endswith("needs attention: overdue with open work, overdue")
    assert texts(tree, f"#task-{plan['tests']} .task-link")[0].endswith("needs attention: stale")
    assert texts(tree, f"#task-{plan['launch']} .task-link")[0].endswith("needs attention: overdue")
    for calm in ("docs", "build"):
        assert "needs attention" not in texts(tree, f"#task-{plan[calm]} .task-link")[0]


def test_gantt_filters_the_names_table_and_the_bars(owner: SessionClient, plan: dict[str, str]) -> None:
    tree = parse(owner.get(page(plan, "?view=gantt&zoom=week&attention=overdue_open")))
    assert row_ids(tree, plan, ".gantt-names tbody tr") == ["build", "design"]
    assert [r.attributes["id"] for r in tree.css(".gantt-names tr.is-muted")] == [f"task-{plan['build']}"]
    assert {s.attributes["data-t"] for s in tree.css(".gantt-bars [data-t]")} == {plan["build"], plan["design"]}
    assert "needs attention: overdue with open work" in texts(tree, f"#task-{plan['design']} .task-link")[0]


def test_several_codes_and_the_state_kept_in_every_link(owner: SessionClient, plan: dict[str, str]) -> None:
    tree = parse(owner.get(page(plan, "?view=gantt&zoom=day&attention=stale,overdue_open")))
    assert row_ids(tree, plan, ".gantt-names tbody tr") == ["build", "design", "code", "tests"]
    # The view and zoom switches and the rows keep the filter; the bar keeps the view.
    assert "attention=overdue_open%2Cstale" in tree.css_first("#view-list").attributes["href"]
    assert "attention=overdue_open%2Cstale" in tree.css_first("#zoom-week").attributes["href"]
    assert "attention=overdue_open%2Cstale" in tree.css_first(f"#task-{plan['design']} .task-link").attributes["href"]
    assert "view=gantt&zoom=day" in tree.css_first("#attention-closed_unmerged").attributes["href"]


def test_htmx_swaps_the_schedule_region_focused_and_announced(owner: SessionClient, plan: dict[str, str]) -> None:
    response = owner.get(
        page(plan, "?attention=stale"), headers=htmx("schedule-view", **{"HX-Trigger": "attention-stale"})
    )
    assert response.status_code == 200
    tree = parse(response)
    assert "<html" not in response.get_data(as_text=True)
    assert tree.css_first("#schedule-view") is not None and tree.css_first("#drawer") is None
    assert "autofocus" in tree.css_first("#attention-stale").attributes
    live = texts(tree, "[hx-swap-oob='innerHTML:#live-region']")
    assert live == ["Showing 1 task stale, with 2 parent tasks for context."]
    cleared = owner.get(page(plan), headers=htmx("schedule-view", **{"HX-Trigger": "attention-clear"}))
    tree = parse(cleared)
    assert "autofocus" in tree.css_first("#attention-heading").attributes
    assert texts(tree, "[hx-swap-oob='innerHTML:#live-region']") == ["Showing all 7 tasks."]


def test_a_filter_with_no_match_says_so(owner: SessionClient, plan: dict[str, str]) -> None:
    tree = parse(owner.get(page(plan, "?attention=failing_checks")))
    assert tree.css("#schedule-rows > tr") == []
    assert texts(tree, "#attention-bar .attention-status")[0].startswith("No tasks to show: none is failing checks.")
    assert "No tasks yet" not in tree.body.text()
    assert tree.css_first("#attention-failing_checks").attributes["aria-current"] == "true"


def test_unknown_codes_on_the_page_are_ignored_like_an_unknown_view(owner: SessionClient, plan: dict[str, str]) -> None:
    tree = parse(owner.get(page(plan, "?attention=nope")))
    assert len(tree.css("#schedule-rows > tr")) == 7
    assert tree.css_first("#attention-bar [aria-current]") is None


def test_strangers_get_404_with_a_filter_too(make: Factory, app: Any, plan: dict[str, str]) -> None:
    stranger = SessionClient(app.test_client(), make.user()).login()
    assert stranger.get(page(plan, "?attention=stale")).status_code == 404


# --- a removed task's address ------------------------------------------------------------


def test_the_address_of_a_removed_task_shows_the_schedule_with_a_notice(
    owner: SessionClient, plan: dict[str, str], user: User
) -> None:
    projects.delete_task(user, plan["id"], plan["docs"])
    response = owner.get(page(plan, f"?task={plan['docs']}"))
    assert response.status_code == 200
    tree = parse(response)
    assert texts(tree, "main [role=status]") == ["That task was removed."]
    assert "hidden" in tree.css_first("#drawer").attributes
    assert len(tree.css("#schedule-rows > tr")) == 6
    # In the drawer (a row clicked in a page loaded before the removal): the alert says the same.
    fragment = owner.get(page(plan, f"?task={plan['docs']}"), headers=htmx("drawer"))
    assert fragment.status_code == 404
    assert "That task was removed." in fragment.get_data(as_text=True)
    # An id that never was a task of this project is still a 404.
    assert owner.get(page(plan, "?task=0123456789abcdef0123456789abcdef")).status_code == 404


def test_after_a_link_change_the_bar_follows_and_a_filtered_view_reloads(
    owner: SessionClient, plan: dict[str, str], user: User
) -> None:
    cached_link(user, plan["id"], plan["docs"], "https://github.com/acme/api/pull/7", status="closed")
    row_url = page(plan, f"/tasks/{plan['docs']}/row")
    response = owner.get(row_url, headers=htmx("drawer"))
    tree = parse(response)
    bar = tree.css_first("#attention-bar")
    assert bar.attributes["hx-swap-oob"] == "true"
    assert bar_counts(tree)["Closed without merge"] == "2"
    assert "HX-Trigger" not in response.headers
    filtered = owner.get(page(plan, f"/tasks/{plan['docs']}/row?attention=stale"), headers=htmx("drawer"))
    assert "schedule-changed" in filtered.headers["HX-Trigger"]


def test_forms_keep_the_filter_without_javascript(owner: SessionClient, plan: dict[str, str]) -> None:
    tree = parse(owner.get(page(plan, f"?attention=stale&task={plan['tests']}")))
    forms = [form for form in tree.css("#add-task form, #drawer form") if form.css_first("input[name=zoom]")]
    assert len(forms) == 4  # add a task, set its state, edit this one, add a subtask
    for form in forms:
        assert form.css_first("input[name=attention]").attributes["value"] == "stale"
    saved = owner.form(
        page(plan, f"/tasks/{plan['tests']}"),
        {"name": "Tests", "description": "", "start_date": day(-2), "finish_date": day(4), "attention": "stale"},
    )
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith(f"?attention=stale&task={plan['tests']}")
