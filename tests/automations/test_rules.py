"""SPEC §21 git automations at their edges, driven through the real paths that change a link's
status: signed webhook deliveries (GitHub's and GitLab's own payload shapes), a person's refresh
answered by `responses`, Refresh all and the sweep run by a real worker (`--burst`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import responses
from flask import Flask

from ppm.extensions import db
from ppm.integrations.models import Credential
from tests.automations.conftest import needs_redis
from tests.links.conftest import give_credential
from tests.schedule.conftest import parse, texts
from tests.webhooks.conftest import EXAMPLE_PR, Hook, Hooks, github_example, gitlab_merge_request

PR_B = "https://github.com/Codertocat/Hello-World/pull/3"
MR = "https://gitlab.com/awesome_space/awesome_project/-/merge_requests/1"
API = "https://api.github.com/repos/Codertocat/Hello-World"
T0 = datetime(2026, 5, 1, 12, 0, 0)


class Clock:
    """Provider `updated_at` times that only move forward, so no delivery is "older"."""

    def __init__(self) -> None:
        self.now = T0

    def next(self) -> str:
        self.now += timedelta(minutes=1)
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def clock() -> Clock:
    return Clock()


def pr_payload(status: str, clock: Clock, url: str = EXAMPLE_PR) -> dict[str, Any]:
    """GitHub's own `pull_request` examples, set to `status` (open, draft, closed, merged, reopened)."""
    example = {
        "open": "pull_request.opened",
        "draft": "pull_request.converted_to_draft",
        "closed": "pull_request.closed",
        "merged": "pull_request.closed",
        "reopened": "pull_request.reopened",
    }[status]
    payload = github_example(example)
    pull = payload["pull_request"]
    number = int(url.rsplit("/", 1)[-1])
    payload["number"] = number
    pull.update(number=number, html_url=url, url=f"{API}/pulls/{number}", updated_at=clock.next())
    if status == "merged":
        pull.update(merged=True, merged_at=pull["updated_at"], merge_commit_sha="c4295bd74fb0")
    return payload


def deliver(hooks: Hooks, hook: Hook, status: str, clock: Clock, url: str = EXAMPLE_PR) -> Any:
    response = hooks.sender.github(hook, "pull_request", pr_payload(status, clock, url))
    assert response.status_code in (200, 202), response.get_json()
    return response


def closing_link(hooks: Hooks, url: str = EXAMPLE_PR, task_id: str | None = None) -> dict[str, Any]:
    """A pull request link a person marked "Completes this task when merged"."""
    link = hooks.link(url, task_id=task_id)
    patched = hooks.member.api(
        "PATCH",
        f"/api/v1/projects/{hooks.project_id}/tasks/{link['task_id']}/links/{link['id']}/",
        json={"closes": True},
    )
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["closes"] is True
    return patched.get_json()  # type: ignore[no-any-return]


def switch(hooks: Hooks, **values: bool) -> None:
    response = hooks.admin.api("PATCH", f"/api/v1/projects/{hooks.project_id}/automations/", json=values)
    assert response.status_code == 200, response.get_json()


def task(hooks: Hooks, task_id: str | None = None) -> dict[str, Any]:
    url = f"/api/v1/projects/{hooks.project_id}/tasks/{task_id or hooks.task_id}/"
    return hooks.viewer.api("GET", url).get_json()  # type: ignore[no-any-return]


def set_state(hooks: Hooks, state: str, task_id: str | None = None) -> None:
    url = f"/api/v1/projects/{hooks.project_id}/tasks/{task_id or hooks.task_id}/"
    response = hooks.member.api("PATCH", url, json={"state": state})
    assert response.status_code == 200, response.get_json()


def sync_numbers(hooks: Hooks, since: int) -> dict[str, int]:
    """Which rows changed after `since`, each with the order it came in the delta."""
    delta = hooks.sync(since)
    return {row["id"]: index for index, row in enumerate(delta["tasks"]["updated"] + delta["task_links"]["updated"])}


# --- webhooks ------------------------------------------------------------------------------


def test_a_merged_closing_pull_request_finishes_its_task_with_its_own_sync_number(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    link = closing_link(hooks)
    switch(hooks, done_on_merge=True)
    cursor = hooks.sync()["cursor"]
    deliver(hooks, hook, "merged", clock)
    done = task(hooks)
    assert (done["state"], done["state_source"]) == ("done", "automation") and done["done_at"]
    delta = hooks.sync(cursor)
    assert [row["id"] for row in delta["tasks"]["updated"]] == [hooks.task_id]
    assert [row["id"] for row in delta["task_links"]["updated"]] == [link["id"]]
    assert delta["tasks"]["updated"][0]["state"] == "done"
    assert delta["cursor"] == cursor + 2  # one number for the link, one for the task
    # Never twice: the same merge again, or a later one, changes nothing and draws no number.
    deliver(hooks, hook, "merged", clock)
    assert hooks.sync(delta["cursor"])["tasks"]["updated"] == []
    assert task(hooks)["done_at"] == done["done_at"]


def test_an_opened_closing_pull_request_starts_a_task_to_do_including_drafts(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, start_on_open=True)
    closing_link(hooks)  # added with an unknown status: not open yet
    assert task(hooks)["state"] == "todo"
    deliver(hooks, hook, "draft", clock)
    started = task(hooks)
    assert (started["state"], started["state_source"], started["done_at"]) == ("in_progress", "automation", None)
    deliver(hooks, hook, "open", clock)  # draft -> open: already started, nothing moves
    assert task(hooks)["updated_at"] == started["updated_at"]


def test_a_closing_link_added_while_open_starts_its_task(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, start_on_open=True)
    plain = hooks.link(EXAMPLE_PR)
    deliver(hooks, hook, "open", clock)
    assert task(hooks)["state"] == "todo"  # not a closing link yet
    hooks.member.api(
        "PATCH",
        f"/api/v1/projects/{hooks.project_id}/tasks/{hooks.task_id}/links/{plain['id']}/",
        json={"closes": True},
    )
    assert task(hooks)["state"] == "in_progress"


def test_start_on_open_never_moves_a_task_in_progress_or_done(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, start_on_open=True, done_on_merge=True)
    closing_link(hooks)
    set_state(hooks, "done")
    deliver(hooks, hook, "open", clock)
    deliver(hooks, hook, "reopened", clock)
    after = task(hooks)
    assert (after["state"], after["state_source"]) == ("done", "person")


def test_a_link_that_does_not_close_the_task_moves_nothing(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, start_on_open=True, done_on_merge=True)
    hooks.link(EXAMPLE_PR)  # closes false: a person added it
    deliver(hooks, hook, "open", clock)
    deliver(hooks, hook, "merged", clock)
    assert task(hooks)["state"] == "todo"


def test_two_closing_pull_requests_the_task_waits_for_the_open_one(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, done_on_merge=True)
    closing_link(hooks, EXAMPLE_PR)
    closing_link(hooks, PR_B)
    deliver(hooks, hook, "open", clock, PR_B)
    deliver(hooks, hook, "merged", clock, EXAMPLE_PR)
    assert task(hooks)["state"] == "todo"  # PR_B is still open
    deliver(hooks, hook, "merged", clock, PR_B)
    assert task(hooks)["state"] == "done"


def test_two_closing_pull_requests_one_closed_unmerged_does_not_hold_the_task(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, done_on_merge=True)
    closing_link(hooks, EXAMPLE_PR)
    closing_link(hooks, PR_B)
    deliver(hooks, hook, "open", clock, PR_B)
    deliver(hooks, hook, "closed", clock, PR_B)  # closed without merging: not a merge, not open
    assert task(hooks)["state"] == "todo"
    deliver(hooks, hook, "merged", clock, EXAMPLE_PR)
    assert task(hooks)["state"] == "done"


def test_a_draft_closing_pull_request_holds_the_task_too(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, done_on_merge=True)
    closing_link(hooks, EXAMPLE_PR)
    closing_link(hooks, PR_B)
    deliver(hooks, hook, "draft", clock, PR_B)
    deliver(hooks, hook, "merged", clock, EXAMPLE_PR)
    assert task(hooks)["state"] == "todo"


def test_a_non_closing_open_pull_request_does_not_hold_the_task(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, done_on_merge=True)
    closing_link(hooks, EXAMPLE_PR)
    hooks.link(PR_B)
    deliver(hooks, hook, "open", clock, PR_B)
    deliver(hooks, hook, "merged", clock, EXAMPLE_PR)
    assert task(hooks)["state"] == "done"


def test_reopened_after_done_leaves_the_task_done(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, start_on_open=True, done_on_merge=True)
    closing_link(hooks, EXAMPLE_PR)
    closing_link(hooks, PR_B)
    deliver(hooks, hook, "closed", clock, PR_B)
    deliver(hooks, hook, "merged", clock, EXAMPLE_PR)
    done = task(hooks)
    assert done["state"] == "done"
    deliver(hooks, hook, "reopened", clock, PR_B)  # forward only: never back to in progress
    after = task(hooks)
    fields = ("state", "done_at", "state_source", "updated_at")
    assert [after[name] for name in fields] == [done[name] for name in fields]


def test_a_persons_done_stays_theirs_and_a_persons_reopen_is_respected(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, start_on_open=True, done_on_merge=True)
    closing_link(hooks)
    set_state(hooks, "done")
    cursor = hooks.sync()["cursor"]
    deliver(hooks, hook, "merged", clock)
    assert (task(hooks)["state"], task(hooks)["state_source"]) == ("done", "person")
    assert hooks.sync(cursor)["tasks"]["updated"] == []  # nothing to change: no number drawn
    # A person takes it back to do: the next merge (another closing link) finishes it again.
    set_state(hooks, "todo")
    closing_link(hooks, PR_B)
    deliver(hooks, hook, "merged", clock, PR_B)
    assert (task(hooks)["state"], task(hooks)["state_source"]) == ("done", "automation")


def test_automations_never_touch_a_summary_task(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    switch(hooks, start_on_open=True, done_on_merge=True)
    child = hooks.member.api(
        "POST", f"/api/v1/projects/{hooks.project_id}/tasks/", json={"name": "Child", "parent_id": hooks.task_id}
    ).get_json()["id"]
    closing_link(hooks)  # on the summary
    deliver(hooks, hook, "open", clock)
    deliver(hooks, hook, "merged", clock)
    summary = task(hooks)
    assert (summary["is_summary"], summary["state"]) == (True, "todo")
    assert task(hooks, child)["state"] == "todo"


def test_automations_off_change_links_but_not_tasks(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    link = closing_link(hooks)
    deliver(hooks, hook, "open", clock)
    deliver(hooks, hook, "merged", clock)
    assert hooks.get_link(link)["status"] == "merged"
    assert task(hooks)["state"] == "todo"
    switch(hooks, start_on_open=True)  # one on, the other still off
    closing_link(hooks, PR_B)
    deliver(hooks, hook, "merged", clock, PR_B)
    assert task(hooks)["state"] == "todo"


def test_an_archived_project_is_never_acted_on(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    closing_link(hooks)
    switch(hooks, done_on_merge=True)
    assert hooks.owner.api("POST", f"/api/v1/projects/{hooks.project_id}/archive/").status_code == 200
    cursor = hooks.sync()["cursor"]
    assert deliver(hooks, hook, "merged", clock).status_code == 202
    assert hooks.owner.api("POST", f"/api/v1/projects/{hooks.project_id}/unarchive/").status_code == 200
    assert task(hooks)["state"] == "todo"
    assert hooks.sync(cursor)["tasks"]["updated"] == []


def test_a_gitlab_merge_request_merged_finishes_its_task(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    closing_link(hooks, MR)
    switch(hooks, start_on_open=True, done_on_merge=True)
    opened = gitlab_merge_request(MR, state="opened", updated_at="2026-05-01 10:00:00 UTC")
    assert hooks.sender.gitlab(hook, "Merge Request Hook", opened).status_code == 200
    assert task(hooks)["state"] == "in_progress"
    merged = gitlab_merge_request(MR, state="merged", action="merge", updated_at="2026-05-01 11:00:00 UTC")
    assert hooks.sender.gitlab(hook, "Merge Request Hook", merged).status_code == 200
    assert (task(hooks)["state"], task(hooks)["state_source"]) == ("done", "automation")


def test_a_late_delivery_moves_no_link_and_so_no_task(hooks: Hooks, clock: Clock) -> None:
    hook = hooks.create()
    closing_link(hooks)
    switch(hooks, done_on_merge=True)
    deliver(hooks, hook, "closed", clock)
    late = pr_payload("merged", clock)
    late["pull_request"]["updated_at"] = "2020-01-01T00:00:00Z"  # older than what was applied
    hooks.sender.github(hook, "pull_request", late)
    assert task(hooks)["state"] == "todo"


def test_the_drawer_says_the_state_was_set_automatically_and_by_which_link(
    app: Flask, hooks: Hooks, clock: Clock
) -> None:
    from tests.conftest import SessionClient

    hook = hooks.create()
    link = closing_link(hooks)
    hooks.member.api(
        "PATCH",
        f"/api/v1/projects/{hooks.project_id}/tasks/{hooks.task_id}/links/{link['id']}/",
        json={"custom_title": "acme/website#120"},
    )
    switch(hooks, done_on_merge=True)
    deliver(hooks, hook, "merged", clock)
    viewer = SessionClient(app.test_client(), hooks.viewer.user).login()
    drawer = f"/projects/{hooks.project_id}/schedule?task={hooks.task_id}"
    said = texts(parse(viewer.get(drawer)), "#drawer-state")
    assert said == ["✓ Done — set automatically when acme/website#120 was merged"]
    set_state(hooks, "in_progress")
    assert texts(parse(viewer.get(drawer)), "#drawer-state") == ["◐ In progress"]


# --- refreshes -----------------------------------------------------------------------------


def test_a_persons_refresh_that_finds_the_merge_finishes_the_task(
    hooks: Hooks, provider: responses.RequestsMock, allow_egress: None
) -> None:
    give_credential(hooks.member.user, "github")
    link = closing_link(hooks)
    switch(hooks, done_on_merge=True, start_on_open=True)
    provider.get(
        f"{API}/pulls/2",
        json={"state": "open", "draft": False, "title": "Readme", "updated_at": "2026-05-01T10:00:00Z"},
    )
    url = f"/api/v1/projects/{hooks.project_id}/tasks/{hooks.task_id}/links/{link['id']}/refresh/"
    assert hooks.member.api("POST", url).get_json()["status"] == "open"
    assert task(hooks)["state"] == "in_progress"
    provider.replace(
        responses.GET,
        f"{API}/pulls/2",
        json={"state": "closed", "merged": True, "title": "Readme", "updated_at": "2026-05-01T11:00:00Z"},
    )
    cursor = hooks.sync()["cursor"]
    assert hooks.member.api("POST", url).get_json()["status"] == "merged"
    assert (task(hooks)["state"], task(hooks)["state_source"]) == ("done", "automation")
    assert hooks.sync(cursor)["cursor"] == cursor + 2


def test_a_failed_refresh_moves_nothing(hooks: Hooks, provider: responses.RequestsMock, allow_egress: None) -> None:
    give_credential(hooks.member.user, "github")
    link = closing_link(hooks)
    switch(hooks, done_on_merge=True, start_on_open=True)
    provider.get(f"{API}/pulls/2", status=404, json={"message": "Not Found"})
    url = f"/api/v1/projects/{hooks.project_id}/tasks/{hooks.task_id}/links/{link['id']}/refresh/"
    hooks.member.api("POST", url)
    assert task(hooks)["state"] == "todo"


def _worker(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["ppm", "worker", "--burst"])
    assert result.exit_code == 0, result.output + repr(result.exception)


@needs_redis[0]
@needs_redis[1]
def test_refresh_all_run_by_a_real_worker_finishes_tasks(
    app: Flask, hooks: Hooks, provider: responses.RequestsMock, allow_egress: None
) -> None:
    give_credential(hooks.member.user, "github")
    closing_link(hooks)
    other = hooks.member.api("POST", f"/api/v1/projects/{hooks.project_id}/tasks/", json={"name": "Other"}).get_json()
    closing_link(hooks, PR_B, task_id=other["id"])
    switch(hooks, done_on_merge=True, start_on_open=True)
    provider.get(
        f"{API}/pulls/2", json={"state": "closed", "merged": True, "title": "A", "updated_at": "2026-05-01T11:00:00Z"}
    )
    provider.get(f"{API}/pulls/3", json={"state": "open", "title": "B", "updated_at": "2026-05-01T11:00:00Z"})
    response = hooks.member.api("POST", f"/api/v1/projects/{hooks.project_id}/links/refresh/", json={})
    assert response.status_code == 202, response.get_json()
    _worker(app)
    db.session.expire_all()
    assert task(hooks)["state"] == "done"
    assert task(hooks, other["id"])["state"] == "in_progress"


@needs_redis[0]
@needs_redis[1]
def test_the_sweep_run_by_a_real_worker_finishes_tasks(
    app: Flask, hooks: Hooks, provider: responses.RequestsMock, allow_egress: None
) -> None:
    credential = give_credential(hooks.member.user, "github")
    credential.background_refresh = True
    db.session.commit()
    closing_link(hooks)
    switch(hooks, done_on_merge=True)
    provider.get(
        f"{API}/pulls/2", json={"state": "closed", "merged": True, "title": "A", "updated_at": "2026-05-01T11:00:00Z"}
    )
    result = app.test_cli_runner().invoke(args=["ppm", "sweep"])
    assert result.exit_code == 0 and "Queued a sweep" in result.output, result.output
    _worker(app)
    db.session.expire_all()
    assert (task(hooks)["state"], task(hooks)["state_source"]) == ("done", "automation")
    assert db.session.get(Credential, credential.id) is not None
