"""Review and CI fetched with the status (SPEC §15): the extra calls after a pull or merge
request, conditional on their own ETags, inside the refresh's one 5-second budget, and never
costing the status of the first call when they fail.

Bodies: GitHub's official OpenAPI examples (`tests/integrations/data/github_openapi`, npm
`@octokit/openapi`; the pull request from `tests/support/github_openapi`) and GitLab's documented
merge request and approvals bodies (`tests/support/provider_examples.py`,
`tests/integrations/data/gitlab_docs.py`), each varied for one rule at a time."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from ppm import egress
from ppm.extensions import db
from ppm.integrations.providers import base
from ppm.links.models import TaskLink
from tests.integrations.data.gitlab_docs import MR_APPROVALS
from tests.integrations.test_review_reduction import example, runs
from tests.links.conftest import World, add, give_credential
from tests.support.provider_examples import GITLAB_MERGE_REQUEST, github, gitlab

GH = "https://api.github.com/repos/acme/api"
SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"  # the published pull request's head.sha
COMMIT = f"{GH}/commits/{SHA}"
GL = "https://gitlab.com/api/v4/projects/team%2Fapp/merge_requests/4"
ETAG = 'W/"c0ffee"'


def pull(**changes: Any) -> dict[str, Any]:
    """The published pull request: open, not merged, one requested reviewer and one team."""
    return github("pull-request", **changes)


def merge_request(**changes: Any) -> dict[str, Any]:
    return gitlab(GITLAB_MERGE_REQUEST, **{"state": "opened", "detailed_merge_status": "mergeable", **changes})


def _refresh(world: World, link_id: str) -> dict[str, Any]:
    response = world.member.api("POST", world.links_url() + f"{link_id}/refresh/")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _link(link_id: str) -> TaskLink:
    db.session.expire_all()
    found = db.session.get(TaskLink, link_id)
    assert found is not None
    return found


def _github_link(world: World, url: str = "https://github.com/acme/api/pull/7") -> str:
    give_credential(world.member.user, "github")
    return str(add(world.member, world, url).get_json()["id"])


def _gitlab_link(world: World, url: str = "https://gitlab.com/team/app/-/merge_requests/4") -> str:
    give_credential(world.member.user, "gitlab")
    return str(add(world.member, world, url).get_json()["id"])


def _called(provider: responses.RequestsMock) -> list[str]:
    return [call.request.url or "" for call in provider.calls]


# --- GitHub -------------------------------------------------------------------------------


def test_github_published_examples_give_passing_and_approved_in_that_order(
    world: World, provider: responses.RequestsMock
) -> None:
    link_id = _github_link(world)
    provider.get(f"{GH}/pulls/7", json=pull())
    provider.get(f"{COMMIT}/check-runs", json=example("check-run-paginated"))
    provider.get(f"{GH}/pulls/7/reviews", json=example("pull-request-review-items"))
    body = _refresh(world, link_id)
    assert (body["status"], body["checks"], body["review"]) == ("open", "passing", "approved")
    assert _called(provider) == [
        f"{GH}/pulls/7",
        f"{COMMIT}/check-runs?per_page=100",
        f"{GH}/pulls/7/reviews?per_page=100",
    ]
    assert "head_sha" not in body and "review_memory" not in body  # internal (SPEC §17)
    assert _link(link_id).head_sha == SHA


@pytest.mark.parametrize(
    ("state", "statuses", "expected"),
    [("success", 2, "passing"), ("failure", 2, "failing"), ("error", 1, "failing"), ("pending", 2, "pending"),
     ("pending", 0, "none")],
)  # fmt: skip
def test_github_without_check_runs_asks_the_combined_status(
    world: World, provider: responses.RequestsMock, state: str, statuses: int, expected: str
) -> None:
    link_id = _github_link(world)
    status = example("combined-commit-status")
    status["state"], status["statuses"] = state, status["statuses"][:statuses]
    provider.get(f"{GH}/pulls/7", json=pull())
    provider.get(f"{COMMIT}/check-runs", json={"total_count": 0, "check_runs": []})
    provider.get(f"{COMMIT}/status", json=status)
    # No statuses either: the check suites say whether a workflow failed to start (SPEC §26).
    provider.get(f"{COMMIT}/check-suites", json={"total_count": 0, "check_suites": []})
    provider.get(f"{GH}/pulls/7/reviews", json=[])
    body = _refresh(world, link_id)
    assert body["checks"] == expected
    assert body["review"] == "review_required"  # the example requests a reviewer and a team


def test_github_failing_run_and_a_change_request_and_no_requests(
    world: World, provider: responses.RequestsMock
) -> None:
    link_id = _github_link(world)
    reviews = example("pull-request-review-items")
    reviews.append({**reviews[0], "id": 81, "state": "CHANGES_REQUESTED", "user": {**reviews[0]["user"], "id": 2}})
    provider.get(f"{GH}/pulls/7", json=pull(requested_reviewers=[], requested_teams=[]))
    provider.get(f"{COMMIT}/check-runs", json=runs(("completed", "success"), ("completed", "timed_out")))
    provider.get(f"{GH}/pulls/7/reviews", json=reviews)
    body = _refresh(world, link_id)
    assert (body["checks"], body["review"]) == ("failing", "changes_requested")
    provider.replace(responses.GET, f"{GH}/pulls/7/reviews", json=[])
    provider.replace(responses.GET, f"{COMMIT}/check-runs", json=runs(("in_progress", None)))
    body = _refresh(world, link_id)
    assert (body["checks"], body["review"]) == ("pending", "none")


def test_github_enterprise_root(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github", base_url="https://ghe.example.com")
    link_id = str(add(world.member, world, "https://ghe.example.com/acme/api/pull/7").get_json()["id"])
    root = "https://ghe.example.com/api/v3/repos/acme/api"
    provider.get(f"{root}/pulls/7", json=pull())
    provider.get(f"{root}/commits/{SHA}/check-runs", json=runs(("completed", "failure")))
    provider.get(f"{root}/pulls/7/reviews", json=example("pull-request-review-items"))
    body = _refresh(world, link_id)
    assert (body["checks"], body["review"]) == ("failing", "approved")


def test_issues_have_no_checks_or_review(world: World, provider: responses.RequestsMock) -> None:
    link_id = _github_link(world, "https://github.com/acme/api/issues/3")
    provider.get(f"{GH}/issues/3", json=github("issue"))
    body = _refresh(world, link_id)
    assert (body["checks"], body["review"]) == (None, None)
    assert _called(provider) == [f"{GH}/issues/3"]


# --- GitLab -------------------------------------------------------------------------------


def test_gitlab_pipeline_and_documented_approvals(world: World, provider: responses.RequestsMock) -> None:
    link_id = _gitlab_link(world)
    provider.get(GL, json=merge_request(head_pipeline={"id": 47, "status": "running"}))
    provider.get(f"{GL}/approvals", json=MR_APPROVALS)  # approvals_left 1
    body = _refresh(world, link_id)
    assert (body["status"], body["checks"], body["review"]) == ("open", "pending", "review_required")
    assert _link(link_id).head_sha == GITLAB_MERGE_REQUEST["sha"]


def test_gitlab_requested_changes_needs_no_approvals_call(world: World, provider: responses.RequestsMock) -> None:
    link_id = _gitlab_link(world)
    provider.get(GL, json=merge_request(detailed_merge_status="requested_changes", head_pipeline={"status": "failed"}))
    body = _refresh(world, link_id)
    assert (body["checks"], body["review"]) == ("failing", "changes_requested")
    assert _called(provider) == [GL]


def test_gitlab_self_hosted_under_a_relative_root(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "gitlab", base_url="https://gitlab.example.org/gitlab")
    url = "https://gitlab.example.org/gitlab/team/app/-/merge_requests/4"
    link_id = str(add(world.member, world, url).get_json()["id"])
    api = "https://gitlab.example.org/gitlab/api/v4/projects/team%2Fapp/merge_requests/4"
    provider.get(api, json=merge_request(head_pipeline={"status": "success"}))
    provider.get(f"{api}/approvals", json=gitlab(MR_APPROVALS, approved=True, approvals_left=0))
    body = _refresh(world, link_id)
    assert (body["checks"], body["review"]) == ("passing", "approved")


def test_gitlab_without_pipeline_or_approvals_needed_is_none(world: World, provider: responses.RequestsMock) -> None:
    link_id = _gitlab_link(world)
    provider.get(GL, json=merge_request())
    provider.get(f"{GL}/approvals", json=gitlab(MR_APPROVALS, approvals_left=0, approved=False))
    body = _refresh(world, link_id)
    assert (body["checks"], body["review"]) == ("none", "none")


# --- failures of each extra call keep the status and the cached values ---------------------


def _github_ok(provider: responses.RequestsMock) -> None:
    provider.get(f"{GH}/pulls/7", json=pull())
    provider.get(f"{COMMIT}/check-runs", json=runs(("completed", "failure")))
    provider.get(f"{GH}/pulls/7/reviews", json=example("pull-request-review-items"))


@pytest.mark.parametrize("failing", ["check-runs", "status", "reviews"])
@pytest.mark.parametrize("answer", [{"status": 502, "body": b"bad gateway"}, {"status": 200, "body": b"not json"}])
def test_a_failed_github_extra_call_keeps_its_value_and_saves_the_status(
    world: World, provider: responses.RequestsMock, failing: str, answer: dict[str, Any]
) -> None:
    link_id = _github_link(world)
    _github_ok(provider)
    if failing == "status":
        provider.replace(responses.GET, f"{COMMIT}/check-runs", json={"total_count": 0, "check_runs": []})
        provider.get(f"{COMMIT}/status", json=example("combined-commit-status"))
    first = _refresh(world, link_id)
    assert first["review"] == "approved" and first["checks"] in ("failing", "passing")

    provider.replace(responses.GET, f"{GH}/pulls/7", json=pull(state="closed", merged=True))
    url = {"check-runs": f"{COMMIT}/check-runs", "status": f"{COMMIT}/status", "reviews": f"{GH}/pulls/7/reviews"}
    provider.replace(responses.GET, url[failing], **answer)
    provider.replace(responses.GET, f"{GH}/pulls/7/reviews", **answer) if failing == "reviews" else None
    second = _refresh(world, link_id)
    assert second["status"] == "merged" and second["refresh_error"] is None
    assert (second["checks"], second["review"]) == (first["checks"], first["review"])


def test_a_failed_gitlab_approvals_call_keeps_the_review(world: World, provider: responses.RequestsMock) -> None:
    link_id = _gitlab_link(world)
    provider.get(GL, json=merge_request(head_pipeline={"status": "success"}))
    provider.get(f"{GL}/approvals", json=MR_APPROVALS)
    assert _refresh(world, link_id)["review"] == "review_required"
    provider.replace(responses.GET, GL, json=merge_request(state="merged", head_pipeline={"status": "failed"}))
    provider.replace(responses.GET, f"{GL}/approvals", status=503, body=b"")
    body = _refresh(world, link_id)
    assert (body["status"], body["checks"], body["review"]) == ("merged", "failing", "review_required")


def test_a_failed_first_call_keeps_everything(world: World, provider: responses.RequestsMock) -> None:
    link_id = _github_link(world)
    _github_ok(provider)
    _refresh(world, link_id)
    provider.replace(responses.GET, f"{GH}/pulls/7", status=500, body=b"")
    body = _refresh(world, link_id)
    assert body["refresh_error"]["code"] == "provider_unreachable"
    assert (body["status"], body["checks"], body["review"]) == ("open", "failing", "approved")


# --- conditional requests on the extra calls ----------------------------------------------


def test_extra_calls_are_conditional_and_a_304_keeps_their_value(
    world: World, provider: responses.RequestsMock
) -> None:
    link_id = _github_link(world)
    provider.get(f"{GH}/pulls/7", json=pull(), headers={"ETag": '"pull-1"'})
    provider.get(f"{COMMIT}/check-runs", json=runs(("completed", "failure")), headers={"ETag": ETAG})
    provider.get(f"{GH}/pulls/7/reviews", json=[], headers={"ETag": '"reviews-1"'})
    assert _refresh(world, link_id)["checks"] == "failing"
    assert "If-None-Match" not in provider.calls[1].request.headers

    # The pull request is unchanged (304) but CI finished: the extra calls still go out, for the
    # stored head, each with its own validator.
    provider.replace(responses.GET, f"{GH}/pulls/7", status=304, body=b"")
    provider.replace(responses.GET, f"{COMMIT}/check-runs", json=runs(("completed", "success")))
    provider.replace(responses.GET, f"{GH}/pulls/7/reviews", status=304, body=b"")
    body = _refresh(world, link_id)
    sent = {call.request.url: call.request.headers.get("If-None-Match") for call in provider.calls[3:]}
    assert sent == {
        f"{GH}/pulls/7": '"pull-1"',
        f"{COMMIT}/check-runs?per_page=100": ETAG,
        f"{GH}/pulls/7/reviews?per_page=100": '"reviews-1"',
    }
    # The review call's 304 keeps "review_required" (requested reviewers remembered from the pull).
    assert (body["status"], body["checks"], body["review"]) == ("open", "passing", "review_required")


def test_a_304_on_check_runs_with_none_still_asks_the_status(world: World, provider: responses.RequestsMock) -> None:
    link_id = _github_link(world)
    provider.get(f"{GH}/pulls/7", json=pull())
    provider.get(f"{COMMIT}/check-runs", json={"total_count": 0, "check_runs": []}, headers={"ETag": ETAG})
    provider.get(f"{COMMIT}/status", json=example("combined-commit-status"))
    provider.get(f"{GH}/pulls/7/reviews", json=[])
    assert _refresh(world, link_id)["checks"] == "passing"
    provider.replace(responses.GET, f"{COMMIT}/check-runs", status=304, body=b"")
    provider.replace(responses.GET, f"{COMMIT}/status", json={**example("combined-commit-status"), "state": "failure"})
    assert _refresh(world, link_id)["checks"] == "failing"


def test_gitlab_approvals_are_conditional(world: World, provider: responses.RequestsMock) -> None:
    link_id = _gitlab_link(world)
    provider.get(GL, json=merge_request())
    provider.get(f"{GL}/approvals", json=gitlab(MR_APPROVALS, approved=True), headers={"ETag": ETAG})
    assert _refresh(world, link_id)["review"] == "approved"
    provider.replace(responses.GET, f"{GL}/approvals", status=304, body=b"")
    assert _refresh(world, link_id)["review"] == "approved"
    assert provider.calls[3].request.headers["If-None-Match"] == ETAG


# --- one budget for the whole refresh -----------------------------------------------------


class SteppingClock:
    """A stub clock: every provider call takes `step` seconds."""

    def __init__(self, step: float) -> None:
        self.now = 1000.0
        self.step = step
        self.timeouts: list[float] = []

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stepping(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(step: float) -> SteppingClock:
        clock = SteppingClock(step)
        real = egress.fetch

        def timed(*args: Any, **kwargs: Any) -> Any:
            clock.timeouts.append(kwargs["timeout"])
            clock.now += clock.step
            return real(*args, **kwargs)

        monkeypatch.setattr(base, "clock", clock)
        monkeypatch.setattr(egress, "fetch", timed)
        return clock

    return install


def test_each_call_gets_what_is_left_of_one_budget(
    world: World, provider: responses.RequestsMock, stepping: Any
) -> None:
    link_id = _github_link(world)
    _github_ok(provider)
    clock = stepping(1.5)
    body = _refresh(world, link_id)
    assert clock.timeouts == [5.0, 3.5, 2.0]
    assert (body["checks"], body["review"]) == ("failing", "approved")


def test_a_spent_budget_skips_the_rest_and_keeps_the_status(
    world: World, provider: responses.RequestsMock, stepping: Any
) -> None:
    link_id = _github_link(world)
    _github_ok(provider)
    clock = stepping(2.5)
    body = _refresh(world, link_id)
    assert clock.timeouts == [5.0, 2.5]  # the reviews call had nothing left: never made
    assert sum(clock.step for _ in clock.timeouts) <= base.REFRESH_BUDGET_SECONDS
    assert (body["status"], body["checks"], body["review"], body["refresh_error"]) == ("open", "failing", None, None)


def test_a_pull_request_cached_before_review_and_ci_is_asked_in_full_once(
    world: World, provider: responses.RequestsMock
) -> None:
    link_id = _github_link(world)
    row = _link(link_id)
    row.etag, row.status = ETAG, "open"  # validators from before review and CI existed
    db.session.commit()
    _github_ok(provider)
    body = _refresh(world, link_id)
    assert "If-None-Match" not in provider.calls[0].request.headers
    assert (body["checks"], body["review"]) == ("failing", "approved")
