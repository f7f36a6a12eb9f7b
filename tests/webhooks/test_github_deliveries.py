"""GitHub deliveries built from GitHub's own example payloads change exactly the links that
point at their object, as a successful refresh would (SPEC §13)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.links.conftest import give_credential
from tests.webhooks.conftest import EXAMPLE_ISSUE, EXAMPLE_PR, Hooks, github_example

TITLE = "Update the README with new information."


def merged(payload: dict[str, Any]) -> dict[str, Any]:
    """GitHub's `closed` example as GitHub sends it when the pull request was merged."""
    payload["pull_request"].update(merged=True, merged_at="2019-05-15T15:21:18Z", merge_commit_sha="c4295bd74fb0")
    return payload


@pytest.mark.parametrize(
    ("example", "adjust", "status"),
    [
        ("pull_request.opened", None, "open"),
        ("pull_request.converted_to_draft", None, "draft"),
        ("pull_request.ready_for_review", None, "open"),
        ("pull_request.closed", None, "closed"),
        ("pull_request.closed", merged, "merged"),
        ("pull_request.reopened", None, "open"),
    ],
)
def test_each_pull_request_action_sets_the_status_as_a_refresh_would(
    hooks: Hooks, example: str, adjust: Any, status: str
) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR + "/files", custom_title="Readme work", labels=["docs"])
    before = hooks.sync()["cursor"]
    payload = github_example(example)
    response = hooks.sender.github(hook, "pull_request", adjust(payload) if adjust else payload)
    assert response.status_code == 200
    assert response.get_json() == {"matched": 1, "linked": 0}
    after = hooks.get_link(link)
    assert after["status"] == status
    assert after["title"] == TITLE
    assert after["custom_title"] == "Readme work" and after["labels"] == ["docs"]
    assert after["fetched_at"] and after["refresh_error"] is None
    delta = hooks.sync(before)
    assert [row["id"] for row in delta["task_links"]["updated"]] == [link["id"]]
    assert delta["task_links"]["updated"][0]["status"] == status


def test_a_form_encoded_delivery_is_read_like_json(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    response = hooks.sender.github(hook, "pull_request", merged(github_example("pull_request.closed")), form=True)
    assert response.status_code == 200 and response.get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(link)["status"] == "merged"


def test_actions_in_order_then_a_late_delivery_changes_nothing(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    send = hooks.sender.github
    assert send(hook, "pull_request", github_example("pull_request.opened")).get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(link)["status"] == "open"
    assert send(hook, "pull_request", github_example("pull_request.converted_to_draft")).get_json() == {
        "matched": 1,
        "linked": 0,
    }
    assert hooks.get_link(link)["status"] == "draft"
    closing = merged(github_example("pull_request.closed"))
    closing["pull_request"]["updated_at"] = "2019-05-15T15:21:30Z"
    assert send(hook, "pull_request", closing).get_json() == {"matched": 1, "linked": 0}
    settled = hooks.get_link(link)
    cursor = hooks.sync()["cursor"]

    # The examples' `opened` and `ready_for_review` carry older updated_at values: deliveries
    # that arrive late must not move the link backwards.
    for late in ("pull_request.opened", "pull_request.ready_for_review", "pull_request.reopened"):
        response = send(hook, "pull_request", github_example(late))
        assert response.status_code == 200 and response.get_json() == {"matched": 0, "linked": 0}
    assert hooks.get_link(link) == settled
    assert hooks.sync(cursor)["task_links"]["updated"] == []


def test_an_edited_title_is_taken_and_the_custom_title_kept(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR, custom_title="Ours")
    hooks.sender.github(hook, "pull_request", github_example("pull_request.opened"))
    edited = github_example("pull_request.opened")
    edited["action"] = "edited"
    edited["changes"] = {"title": {"from": TITLE}}
    edited["pull_request"].update(title="Rewrite the README", updated_at="2019-05-15T15:25:00Z")
    assert hooks.sender.github(hook, "pull_request", edited).get_json() == {"matched": 1, "linked": 0}
    after = hooks.get_link(link)
    assert after["title"] == "Rewrite the README"
    assert after["custom_title"] == "Ours" and after["display_title"] == "Ours"


def test_an_empty_title_keeps_the_cached_one(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    hooks.sender.github(hook, "pull_request", github_example("pull_request.opened"))
    payload = github_example("pull_request.closed")
    payload["pull_request"]["title"] = ""
    assert hooks.sender.github(hook, "pull_request", payload).get_json() == {"matched": 1, "linked": 0}
    after = hooks.get_link(link)
    assert after["status"] == "closed" and after["title"] == TITLE


def test_actions_that_change_nothing_a_person_sees_move_nothing(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    hooks.sender.github(hook, "pull_request", github_example("pull_request.opened"))
    before = hooks.get_link(link)
    cursor = hooks.sync()["cursor"]
    response = hooks.sender.github(hook, "pull_request", github_example("pull_request.labeled"))
    assert response.status_code == 200 and response.get_json() == {"matched": 0, "linked": 0}
    assert hooks.get_link(link) == before
    assert hooks.sync(cursor)["task_links"]["updated"] == []


@pytest.mark.parametrize(
    ("example", "status"),
    [("issues.opened", "open"), ("issues.edited", "open"), ("issues.reopened", "open"), ("issues.deleted", "closed")],
)
def test_issue_events_set_the_issue_status(hooks: Hooks, example: str, status: str) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_ISSUE)
    pull = hooks.link(EXAMPLE_PR)
    response = hooks.sender.github(hook, "issues", github_example(example))
    assert response.status_code == 200 and response.get_json() == {"matched": 1}
    after = hooks.get_link(link)
    assert after["status"] == status and after["title"] == "Spelling error in the README file"
    assert hooks.get_link(pull)["status"] == "unknown"  # issue #1 is not pull request #2


def test_an_issues_event_about_a_pull_request_leaves_the_pull_request_to_its_own_events(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    hooks.sender.github(hook, "pull_request", merged(github_example("pull_request.closed")))
    before = hooks.get_link(link)
    payload = github_example("issues.demilestoned")  # its `issue` is pull request #2
    payload["issue"].update(state="closed", updated_at="2019-05-15T15:30:00Z")
    response = hooks.sender.github(hook, "issues", payload)
    assert response.status_code == 200 and response.get_json() == {"matched": 0}
    assert hooks.get_link(before) == before  # still merged, not "closed"


def test_every_link_to_the_object_in_the_project_changes_and_nothing_else(hooks: Hooks, make: Any) -> None:
    hook = hooks.create()
    second_task = make.task(
        hooks.owner.user, hooks.project_id, name="Docs", start_date="2026-03-02", finish_date="2026-03-03"
    )
    matching = [
        hooks.link(EXAMPLE_PR),
        hooks.link(EXAMPLE_PR + "/files?diff=split#top", task_id=second_task.id),
        hooks.link("https://github.com/CODERTOCAT/hello-world/pull/2/commits"),
        hooks.link("https://www.github.com/Codertocat/Hello-World/pull/2/checks"),
    ]
    others = [
        hooks.link(EXAMPLE_ISSUE.replace("/1", "/2")),  # issue #2: another kind
        hooks.link("https://github.com/Codertocat/Hello-World/pull/20"),
        hooks.link("https://github.com/Codertocat/Hello-World/pull/12"),
        hooks.link("https://github.com/Codertocat/Hello-Worlds/pull/2"),
        hooks.link("https://github.com/Codertocat/Hello-World/commit/6dcb09b5b57875f334f61aebed695e2e4193db5e"),
        hooks.link("https://example.org/Codertocat/Hello-World/pull/2"),  # another host, same path
        hooks.link(EXAMPLE_PR, task_id=hooks.other_task_id, project_id=hooks.other_project_id),
    ]
    give_credential(hooks.member.user, "github", base_url="https://ghe.example.com")
    enterprise = hooks.link("https://ghe.example.com/Codertocat/Hello-World/pull/2")
    assert enterprise["provider"] == "github"
    others.append(enterprise)
    removed = hooks.link(EXAMPLE_PR + "/files", task_id=second_task.id)
    hooks.member.api("DELETE", f"/api/v1/projects/{hooks.project_id}/tasks/{second_task.id}/links/{removed['id']}/")
    cursor = hooks.sync()["cursor"]
    other_cursor = hooks.sync(project_id=hooks.other_project_id)["cursor"]

    response = hooks.sender.github(hook, "pull_request", merged(github_example("pull_request.closed")))
    assert response.get_json() == {"matched": len(matching), "linked": 0}
    assert [hooks.get_link(link)["status"] for link in matching] == ["merged"] * len(matching)
    for link in others:
        pid = hooks.other_project_id if link["task_id"] == hooks.other_task_id else None
        assert hooks.get_link(link, project_id=pid)["status"] == "unknown", link["url"]
    delta = hooks.sync(cursor)
    numbers = [row["id"] for row in delta["task_links"]["updated"]]
    assert sorted(numbers) == sorted(link["id"] for link in matching)
    assert delta["task_links"]["deleted"] == [] and delta["tasks"]["updated"] == []
    assert hooks.sync(other_cursor, project_id=hooks.other_project_id)["task_links"]["updated"] == []


def test_each_changed_link_gets_its_own_sync_number(hooks: Hooks, app: Any) -> None:
    from ppm.extensions import db
    from ppm.links.models import TaskLink

    hook = hooks.create()
    links = [hooks.link(EXAMPLE_PR), hooks.link(EXAMPLE_PR + "/files")]
    before = hooks.sync()["cursor"]
    hooks.sender.github(hook, "pull_request", github_example("pull_request.opened"))
    db.session.expire_all()
    numbers = sorted(db.session.get(TaskLink, link["id"]).sync_number for link in links)
    assert numbers == [before + 1, before + 2]
    assert hooks.sync()["cursor"] == before + 2


def test_a_github_enterprise_delivery_matches_links_routed_through_that_host(hooks: Hooks) -> None:
    give_credential(hooks.member.user, "github", base_url="https://ghe.example.com")
    hook = hooks.create()
    enterprise = hooks.link("https://ghe.example.com/Codertocat/Hello-World/pull/2")
    saas = hooks.link(EXAMPLE_PR)
    payload = github_example("pull_request.opened")
    payload["pull_request"]["html_url"] = "https://ghe.example.com/Codertocat/Hello-World/pull/2"
    assert hooks.sender.github(hook, "pull_request", payload).get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(enterprise)["status"] == "open"
    assert hooks.get_link(saas)["status"] == "unknown"


def test_a_delivery_clears_a_refresh_error(hooks: Hooks, app: Any) -> None:
    from ppm.extensions import db
    from ppm.links.models import TaskLink

    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    hooks.sender.github(hook, "pull_request", github_example("pull_request.opened"))
    row = db.session.get(TaskLink, link["id"])
    row.refresh_error = {"code": "provider_unreachable", "detail": "GitHub is having trouble.", "at": "x"}
    db.session.commit()
    payload = github_example("pull_request.opened")
    payload["pull_request"]["updated_at"] = "2019-05-15T15:22:00Z"
    assert hooks.sender.github(hook, "pull_request", payload).get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(link)["refresh_error"] is None


def test_ping_is_answered_and_recorded(hooks: Hooks) -> None:
    hook = hooks.create()
    response = hooks.sender.github(hook, "ping", github_example("ping"))
    assert response.status_code == 200 and response.get_json() == {"ping": True}
    row = hooks.receiver(hook)
    assert row["last_delivery_result"] == "ping" and row["deliveries"] == 1 and row["last_delivery_at"]


@pytest.mark.parametrize("event", ["push", "star", "deployment"])  # §15 events: test_review_ci_events
def test_other_events_are_ignored_with_202(hooks: Hooks, event: str) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    payload = github_example("pull_request.closed")  # even a body that names the pull request
    response = hooks.sender.github(hook, event, payload)
    assert response.status_code == 202 and response.get_json() == {"ignored": event}
    assert hooks.get_link(link)["status"] == "unknown"
    assert hooks.receiver(hook)["last_delivery_result"] == "ignored"
