"""SPEC §15 reductions, on GitHub's published OpenAPI examples and GitLab's documented bodies,
each varied for one rule at a time."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ppm.integrations.providers import review
from tests.integrations.data.gitlab_docs import MR_APPROVALS

DATA = Path(__file__).parent / "data" / "github_openapi"


def example(name: str) -> Any:
    return json.loads((DATA / f"{name}.json").read_text())


def runs(*pairs: tuple[str, str | None]) -> dict[str, Any]:
    """The published check-runs page with its one run repeated as (status, conclusion) pairs."""
    body = example("check-run-paginated")
    template = body["check_runs"][0]
    body["check_runs"] = [{**copy.deepcopy(template), "status": s, "conclusion": c} for s, c in pairs]
    body["total_count"] = len(pairs)
    return body


# --- GitHub checks ----------------------------------------------------------------------


def test_published_check_runs_example_is_passing() -> None:
    # The example's only run is completed with conclusion "neutral": no failure, nothing pending.
    assert review.github_check_runs(example("check-run-paginated")) == "passing"


@pytest.mark.parametrize("conclusion", ["failure", "timed_out", "cancelled", "action_required"])
def test_any_failing_conclusion_fails_even_beside_pending_runs(conclusion: str) -> None:
    body = runs(("completed", "success"), ("in_progress", None), ("completed", conclusion))
    assert review.github_check_runs(body) == "failing"


@pytest.mark.parametrize("status", ["queued", "in_progress", "waiting", "requested", "pending"])
def test_a_run_not_completed_is_pending(status: str) -> None:
    assert review.github_check_runs(runs(("completed", "success"), (status, None))) == "pending"


@pytest.mark.parametrize("conclusion", ["success", "neutral", "skipped"])
def test_completed_runs_without_failures_pass(conclusion: str) -> None:
    assert review.github_check_runs(runs(("completed", "success"), ("completed", conclusion))) == "passing"


def test_a_stale_run_is_pending_because_github_runs_it_again() -> None:
    # SPEC §26: `stale` (completed, but GitHub will run it again) is not a pass.
    assert review.github_check_runs(runs(("completed", "success"), ("completed", "stale"))) == "pending"
    assert review.github_check_runs(runs(("completed", "stale"), ("completed", "failure"))) == "failing"


@pytest.mark.parametrize("body", [{"total_count": 0, "check_runs": []}, {}, [], None, {"check_runs": "x"}])
def test_no_check_runs_defers_to_the_status_api(body: Any) -> None:
    assert review.github_check_runs(body) is None


def combined(state: str, statuses: int = 2) -> dict[str, Any]:
    body = example("combined-commit-status")
    body["state"] = state
    body["statuses"] = body["statuses"][:statuses]
    body["total_count"] = len(body["statuses"])
    return body


def test_published_combined_status_example_is_passing() -> None:
    assert review.github_combined_status(example("combined-commit-status")) == "passing"


@pytest.mark.parametrize(
    ("state", "statuses", "expected"),
    [
        ("failure", 2, "failing"),
        ("error", 1, "failing"),
        ("pending", 1, "pending"),
        ("pending", 0, "none"),  # GitHub says "pending" for a commit nobody reported on
        ("success", 2, "passing"),
        ("something-new", 2, "none"),
    ],
)
def test_combined_status(state: str, statuses: int, expected: str) -> None:
    assert review.github_combined_status(combined(state, statuses)) == expected


def test_combined_status_of_an_unreadable_body_is_none() -> None:
    assert review.github_combined_status(["not", "an", "object"]) == "none"


# --- GitHub review ----------------------------------------------------------------------


def reviews(*verdicts: tuple[str, str]) -> list[dict[str, Any]]:
    """The published review list's one review, repeated as (reviewer login, state), oldest first."""
    template = example("pull-request-review-items")[0]
    out = []
    for number, (login, state) in enumerate(verdicts):
        item = copy.deepcopy(template)
        item["id"] = 80 + number
        item["user"] = {**item["user"], "login": login, "id": 1000 + sum(map(ord, login))}
        item["state"] = state
        out.append(item)
    return out


def pull(requested_reviewers: int = 0, requested_teams: int = 0) -> dict[str, Any]:
    body = example("pull-request")
    body["requested_reviewers"] = body["requested_reviewers"][:requested_reviewers]
    body["requested_teams"] = body["requested_teams"][:requested_teams]
    return body


def test_published_examples_give_approved() -> None:
    assert review.github_review(example("pull-request-review-items"), example("pull-request")) == "approved"


def test_changes_requested_by_anyone_wins_over_approvals() -> None:
    body = reviews(("ada", "APPROVED"), ("bob", "CHANGES_REQUESTED"), ("cy", "APPROVED"))
    assert review.github_review(body, pull()) == "changes_requested"


def test_a_later_approval_replaces_the_same_reviewers_change_request() -> None:
    body = reviews(("bob", "CHANGES_REQUESTED"), ("bob", "APPROVED"))
    assert review.github_review(body, pull()) == "approved"


def test_a_later_change_request_replaces_the_same_reviewers_approval() -> None:
    body = reviews(("bob", "APPROVED"), ("bob", "CHANGES_REQUESTED"))
    assert review.github_review(body, pull()) == "changes_requested"


def test_comments_do_not_cancel_a_verdict() -> None:
    body = reviews(("bob", "CHANGES_REQUESTED"), ("bob", "COMMENTED"), ("bob", "PENDING"))
    assert review.github_review(body, pull()) == "changes_requested"


def test_a_dismissal_cancels_that_reviewers_earlier_verdict_only() -> None:
    body = reviews(("bob", "CHANGES_REQUESTED"), ("ada", "APPROVED"), ("bob", "DISMISSED"))
    assert review.github_review(body, pull()) == "approved"
    assert review.github_review(reviews(("bob", "APPROVED"), ("bob", "DISMISSED")), pull()) == "none"


def test_requested_reviewers_or_teams_without_verdicts_need_review() -> None:
    assert review.github_review([], pull(requested_reviewers=1)) == "review_required"
    assert review.github_review([], pull(requested_teams=1)) == "review_required"
    assert review.github_review(reviews(("bob", "COMMENTED")), pull(requested_reviewers=1)) == "review_required"


def test_nothing_at_all_is_none() -> None:
    assert review.github_review([], pull()) == "none"
    assert review.github_review({"message": "odd"}, {"requested_reviewers": "x"}) == "none"


def test_reviews_without_a_user_are_ignored() -> None:
    body = reviews(("bob", "CHANGES_REQUESTED"))
    body[0]["user"] = None  # a deleted account ("ghost") can come back without a user object
    assert review.github_review(body, pull()) == "none"


# --- GitLab -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("success", "passing"),
        ("failed", "failing"),
        ("canceled", "failing"),
        ("created", "pending"),
        ("waiting_for_resource", "pending"),
        ("preparing", "pending"),
        ("pending", "pending"),
        ("running", "pending"),
        ("scheduled", "pending"),
        ("manual", "pending"),
        ("skipped", "none"),
    ],
)
def test_gitlab_head_pipeline(status: str, expected: str) -> None:
    merge_request = {"iid": 1, "state": "opened", "head_pipeline": {"id": 47, "status": status}}
    assert review.gitlab_checks(merge_request) == expected


@pytest.mark.parametrize("pipeline", [None, {}, {"status": None}, "running"])
def test_gitlab_without_a_pipeline_is_none(pipeline: Any) -> None:
    assert review.gitlab_checks({"iid": 1, "head_pipeline": pipeline}) == "none"
    assert review.gitlab_checks({"iid": 1}) == "none"


def test_gitlab_documented_approvals_body_needs_review() -> None:
    assert review.gitlab_review(MR_APPROVALS) == "review_required"  # approvals_left: 1


def test_gitlab_approved_and_nothing_left() -> None:
    assert review.gitlab_review({**MR_APPROVALS, "approved": True, "approvals_left": 0}) == "approved"
    assert review.gitlab_review({**MR_APPROVALS, "approved": False, "approvals_left": 0}) == "none"
    assert review.gitlab_review({**MR_APPROVALS, "approvals_left": True}) == "none"
    assert review.gitlab_review(None) == "none"


def test_gitlab_requested_changes_comes_from_the_merge_request() -> None:
    assert review.gitlab_changes_requested({"detailed_merge_status": "requested_changes"})
    assert not review.gitlab_changes_requested({"detailed_merge_status": "not_approved"})
    assert not review.gitlab_changes_requested({})
