"""GitLab deliveries (the documented Merge Request Hook and Issue Hook payloads, authenticated
by the X-Gitlab-Token header) change the links of their object (SPEC §13, §18)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.links.conftest import give_credential
from tests.webhooks.conftest import Hooks, gitlab_issue, gitlab_merge_request

MR = "https://gitlab.com/awesome_space/awesome_project/-/merge_requests/1"
ISSUE = "https://gitlab.com/gitlabhq/gitlab-test/-/issues/23"


@pytest.mark.parametrize(
    ("state", "draft", "status"),
    [
        ("opened", False, "open"),
        ("opened", True, "draft"),
        ("merged", False, "merged"),
        ("closed", False, "closed"),
        ("locked", False, "closed"),
    ],
)
def test_merge_request_states(hooks: Hooks, state: str, draft: bool, status: str) -> None:
    hook = hooks.create("gitlab")
    link = hooks.link(MR + "/diffs", labels=["api"])
    response = hooks.sender.gitlab(hook, "Merge Request Hook", gitlab_merge_request(MR, state=state, draft=draft))
    assert response.status_code == 200 and response.get_json() == {"matched": 1, "linked": 0}
    after = hooks.get_link(link)
    assert after["status"] == status and after["title"] == "MS-Viewport" and after["labels"] == ["api"]


def test_work_in_progress_alone_means_draft(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    payload = gitlab_merge_request(MR)
    payload["object_attributes"].pop("draft")
    payload["object_attributes"]["work_in_progress"] = True
    assert hooks.sender.gitlab(hook, "Merge Request Hook", payload).get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(link)["status"] == "draft"


def test_never_backwards_across_gitlab_timestamp_formats(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    send = hooks.sender.gitlab
    merged = gitlab_merge_request(MR, state="merged", updated_at="2024-05-02 10:00:00 UTC", action="merge")
    assert send(hook, "Merge Request Hook", merged).get_json() == {"matched": 1, "linked": 0}
    for late in ("2024-05-02T09:59:59Z", "2024-05-02T11:59:00+02:00", "2024-05-02 09:00:00 UTC"):
        stale = gitlab_merge_request(MR, state="opened", updated_at=late)
        assert send(hook, "Merge Request Hook", stale).get_json() == {"matched": 0, "linked": 0}, late
    assert hooks.get_link(link)["status"] == "merged"
    reopened = gitlab_merge_request(MR, state="opened", updated_at="2024-05-02T12:00:01+02:00", action="reopen")
    assert send(hook, "Merge Request Hook", reopened).get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(link)["status"] == "open"


@pytest.mark.parametrize(
    "payload_url",
    [
        ISSUE,
        "https://gitlab.com/gitlabhq/gitlab-test/-/work_items/23",
        "https://gitlab.com/gitlabhq/gitlab-test/-/issues/incident/23",
        "https://gitlab.com/gitlabhq/gitlab-test/issues/23",  # older GitLab, and its docs' examples
    ],
)
def test_the_three_issue_shapes_are_one_issue(hooks: Hooks, payload_url: str) -> None:
    hook = hooks.create("gitlab")
    links = [
        hooks.link(ISSUE),
        hooks.link("https://gitlab.com/GitlabHQ/Gitlab-Test/-/work_items/23"),
        hooks.link("https://gitlab.com/gitlabhq/gitlab-test/-/issues/incident/23"),
    ]
    others = [
        hooks.link("https://gitlab.com/gitlabhq/gitlab-test/-/merge_requests/23"),
        hooks.link("https://gitlab.com/gitlabhq/gitlab-test/-/issues/230"),
        hooks.link("https://gitlab.com/groups/gitlabhq/-/work_items/23"),
        hooks.link("https://gitlab.com/gitlabhq/other/-/issues/23"),
    ]
    payload = gitlab_issue(payload_url, state="closed", action="close")
    response = hooks.sender.gitlab(hook, "Issue Hook", payload)
    assert response.status_code == 200 and response.get_json() == {"matched": 3}
    assert [hooks.get_link(link)["status"] for link in links] == ["closed"] * 3
    assert [hooks.get_link(link)["status"] for link in others] == ["unknown"] * 4


def test_a_confidential_issue_event_counts_too(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    link = hooks.link(ISSUE)
    assert hooks.sender.gitlab(hook, "Confidential Issue Hook", gitlab_issue(ISSUE)).get_json() == {"matched": 1}
    assert hooks.get_link(link)["status"] == "open"


def test_a_self_hosted_gitlab_under_a_relative_root(hooks: Hooks) -> None:
    give_credential(hooks.member.user, "gitlab", base_url="https://example.org/gitlab")
    hook = hooks.create("gitlab")
    url = "https://example.org/gitlab/group/sub/proj/-/merge_requests/5"
    routed = hooks.link(url + "/pipelines")
    assert routed["provider"] == "gitlab"
    saas = hooks.link("https://gitlab.com/group/sub/proj/-/merge_requests/5")
    payload = gitlab_merge_request(url, state="merged")
    assert hooks.sender.gitlab(hook, "Merge Request Hook", payload).get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(routed)["status"] == "merged"
    assert hooks.get_link(saas)["status"] == "unknown"
    # gitlab.com's own delivery for the same path never touches the self-hosted link.
    payload = gitlab_merge_request(
        "https://gitlab.com/group/sub/proj/-/merge_requests/5", state="closed", updated_at="2030-01-01 00:00:00 UTC"
    )
    assert hooks.sender.gitlab(hook, "Merge Request Hook", payload).get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(routed)["status"] == "merged"
    assert hooks.get_link(saas)["status"] == "closed"


@pytest.mark.parametrize("token", ["", "wrong", "sha256=abc"])
def test_a_missing_or_wrong_token_is_refused(hooks: Hooks, token: str) -> None:
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    response = hooks.sender.gitlab(hook, "Merge Request Hook", gitlab_merge_request(MR, state="merged"), token=token)
    assert response.status_code == 401 and response.get_json()["code"] == "bad_signature"
    assert hooks.get_link(link)["status"] == "unknown"


def test_another_gitlab_receivers_token_is_refused(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    other = hooks.create("gitlab")
    link = hooks.link(MR)
    payload = gitlab_merge_request(MR, state="merged")
    assert hooks.sender.gitlab(hook, "Merge Request Hook", payload, token=other.secret).status_code == 401
    assert hooks.get_link(link)["status"] == "unknown"


def test_a_gitlab_receiver_on_the_github_path_is_404(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    response = hooks.sender.gitlab(
        hook, "Merge Request Hook", gitlab_merge_request(MR), path=f"/hooks/github/{hook.id}"
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e"},
        {"X-Gitlab-Event-UUID": "", "Idempotency-Key": "f5e5f430-f57b-4e6e-9fac-d9128cd7232f"},
    ],
)
def test_a_redelivery_is_a_duplicate(hooks: Hooks, headers: dict[str, str]) -> None:
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    send = hooks.sender.gitlab
    assert send(hook, "Merge Request Hook", gitlab_merge_request(MR), headers=headers).get_json() == {
        "matched": 1,
        "linked": 0,
    }
    later = gitlab_merge_request(MR, state="closed", updated_at="2030-01-01 00:00:00 UTC")
    response = send(hook, "Merge Request Hook", later, headers=headers)
    assert response.status_code == 200 and response.get_json() == {"duplicate": True}
    assert hooks.get_link(link)["status"] == "open"


# Pipeline Hook: §15; System Hook: merge request events handled (§26), others ignored.
@pytest.mark.parametrize("event", ["Push Hook", "Note Hook"])
def test_other_gitlab_events_are_ignored(hooks: Hooks, event: str) -> None:
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    response = hooks.sender.gitlab(hook, event, gitlab_merge_request(MR, state="merged"))
    assert response.status_code == 202 and response.get_json() == {"ignored": event}
    assert hooks.get_link(link)["status"] == "unknown"


def test_a_gitlab_payload_without_state_is_400(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    payload: dict[str, Any] = gitlab_merge_request(MR)
    payload["object_attributes"].pop("state")
    response = hooks.sender.gitlab(hook, "Merge Request Hook", payload)
    assert response.status_code == 400 and response.get_json()["code"] == "bad_payload"
