"""Review and CI state of pull and merge requests (SPEC §15): pure reductions of provider answers.

Each function takes the provider's decoded JSON as it arrives and never raises on odd shapes: a
field that is missing or of the wrong type counts as absent. The calls that fetch these bodies
sit beside each provider's status call.
"""

from __future__ import annotations

from typing import Any

CHECKS = ("passing", "failing", "pending", "none")
REVIEWS = ("approved", "changes_requested", "review_required", "none")

_GITHUB_FAILING_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled", "action_required"})
_DECISIVE_REVIEW_STATES = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
_GITLAB_PIPELINE = {
    "success": "passing",
    "failed": "failing",
    "canceled": "failing",
    "created": "pending",
    "waiting_for_resource": "pending",
    "preparing": "pending",
    "pending": "pending",
    "running": "pending",
    "scheduled": "pending",
    "manual": "pending",
}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def check_runs_of(body: Any) -> list[Any]:
    """The runs on one page of `GET …/commits/{sha}/check-runs` (`{"total_count", "check_runs"}`)."""
    runs = body.get("check_runs") if isinstance(body, dict) else None
    return runs if isinstance(runs, list) else []


def check_suites_of(body: Any) -> list[Any]:
    """The suites on one page of `GET …/commits/{sha}/check-suites` (`{"total_count", "check_suites"}`)."""
    suites = body.get("check_suites") if isinstance(body, dict) else None
    return suites if isinstance(suites, list) else []


def list_of(body: Any) -> list[Any]:
    """One page of a plain list answer (GitHub's reviews)."""
    return body if isinstance(body, list) else []


def github_check_run_list(items: Any) -> str | None:
    """Every run of every page: None when there are none (ask the status API next). A run
    concluded `stale` will run again (SPEC §26): pending, not passing."""
    runs = _dicts(items)
    if not runs:
        return None
    if any(run.get("conclusion") in _GITHUB_FAILING_CONCLUSIONS for run in runs):
        return "failing"
    if any(run.get("status") != "completed" or run.get("conclusion") == "stale" for run in runs):
        return "pending"
    return "passing"


def github_check_runs(body: Any) -> str | None:
    """One page of `GET …/commits/{sha}/check-runs`, reduced as above."""
    return github_check_run_list(check_runs_of(body))


def github_check_suite_list(items: Any) -> str:
    """SPEC §26: a head commit without runs or statuses can still have a suite whose workflow
    never started (`conclusion: startup_failure`) → failing; anything else → none."""
    if any(suite.get("conclusion") == "startup_failure" for suite in _dicts(items)):
        return "failing"
    return "none"


def github_combined_status(body: Any) -> str:
    """`GET …/commits/{sha}/status`: a `pending` state with no statuses at all means no CI."""
    if not isinstance(body, dict):
        return "none"
    state = body.get("state")
    if state in ("failure", "error"):
        return "failing"
    if state == "success":
        return "passing"
    if state == "pending" and _dicts(body.get("statuses")):
        return "pending"
    return "none"


def _reviewer(review: dict[str, Any]) -> Any:
    user = review.get("user")
    if isinstance(user, dict):
        return user.get("id") or user.get("login")
    return None


def github_review(reviews: Any, pull: dict[str, Any]) -> str:
    """The latest decisive review of each reviewer counts; a dismissal cancels that reviewer's
    earlier verdict. GitHub lists reviews oldest first, which is the order used here."""
    latest: dict[Any, str] = {}
    for review in _dicts(reviews):
        state = review.get("state")
        reviewer = _reviewer(review)
        if state in _DECISIVE_REVIEW_STATES and reviewer is not None:
            latest[reviewer] = state
    verdicts = set(latest.values())
    if "CHANGES_REQUESTED" in verdicts:
        return "changes_requested"
    if "APPROVED" in verdicts:
        return "approved"
    if _dicts(pull.get("requested_reviewers")) or _dicts(pull.get("requested_teams")):
        return "review_required"
    return "none"


def gitlab_checks(merge_request: dict[str, Any]) -> str:
    """`head_pipeline.status` of the merge request itself; no pipeline (or a skipped one) → none."""
    pipeline = merge_request.get("head_pipeline")
    status = pipeline.get("status") if isinstance(pipeline, dict) else None
    return _GITLAB_PIPELINE.get(status, "none") if isinstance(status, str) else "none"


def gitlab_changes_requested(merge_request: dict[str, Any]) -> bool:
    return merge_request.get("detailed_merge_status") == "requested_changes"


def gitlab_review(approvals: Any) -> str:
    """`GET …/merge_requests/{iid}/approvals`, once a change request has been ruled out."""
    if not isinstance(approvals, dict):
        return "none"
    if approvals.get("approved") is True:
        return "approved"
    left = approvals.get("approvals_left")
    if isinstance(left, int) and not isinstance(left, bool) and left > 0:
        return "review_required"
    return "none"
