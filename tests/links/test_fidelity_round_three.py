"""Refresh, as GitHub answers when checked again (SPEC §26): reviews and check runs read with
`per_page=100` and every page the `Link` header names (at most ten), a `stale` run pending, a
workflow that never started (`startup_failure` suite) failing, and GitHub's secondary rate limits
read as rate limits, not as a refused token.

Lists are served by `tests.support.paging` exactly as GitHub documents its pagination (30 a page
unless `per_page` says otherwise, `Link` with `rel="next"`); bodies are GitHub's published
examples (`tests/integrations/data/github_openapi`, the pull request from `tests/support`; the
check suite from the `check_suite` webhook example, `tests/webhooks/data/github`)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from ppm.integrations.providers import base
from tests.integrations.test_review_reduction import example
from tests.links.conftest import World, add, give_credential
from tests.support.paging import github_page, gitlab_page
from tests.support.provider_examples import github

GH = "https://api.github.com/repos/acme/api"
SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"  # the published pull request's head.sha
COMMIT = f"{GH}/commits/{SHA}"
SECONDARY = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID E198:4063:33BD6:375FF:652AAB04.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
}


def _runs(count: int, failing_at: int | None = None, conclusion: str = "failure") -> list[dict[str, Any]]:
    """`count` copies of the published check run, completed; the one at `failing_at` (1-based)
    concluded `conclusion`."""
    template = example("check-run-paginated")["check_runs"][0]
    runs = []
    for number in range(1, count + 1):
        run = {**copy.deepcopy(template), "id": number, "status": "completed", "conclusion": "success"}
        if number == failing_at:
            run["conclusion"] = conclusion
        runs.append(run)
    return runs


def _serve_runs(provider: responses.RequestsMock, runs: list[dict[str, Any]]) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        page, headers = github_page(runs, request.url)
        return 200, headers, json.dumps({"total_count": len(runs), "check_runs": page})

    provider.add_callback(responses.GET, f"{COMMIT}/check-runs", callback=answer)


def _serve_reviews(provider: responses.RequestsMock, reviews: list[dict[str, Any]]) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        page, headers = github_page(reviews, request.url)
        return 200, headers, json.dumps(page)

    provider.add_callback(responses.GET, f"{GH}/pulls/7/reviews", callback=answer)


def _link(world: World) -> str:
    give_credential(world.member.user, "github")
    return str(add(world.member, world, "https://github.com/acme/api/pull/7").get_json()["id"])


def _refresh(world: World, link_id: str) -> dict[str, Any]:
    response = world.member.api("POST", world.links_url() + f"{link_id}/refresh/")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _calls(provider: responses.RequestsMock, part: str) -> list[str]:
    return [call.request.url or "" for call in provider.calls if part in (call.request.url or "")]


# --- pagination -----------------------------------------------------------------------------


def test_a_failing_31st_check_run_shows_failing(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)
    provider.get(f"{GH}/pulls/7", json=github("pull-request"))
    _serve_runs(provider, _runs(31, failing_at=31))
    provider.get(f"{GH}/pulls/7/reviews", json=[])
    assert _refresh(world, link_id)["checks"] == "failing"
    assert _calls(provider, "/check-runs") == [f"{COMMIT}/check-runs?per_page=100"]


def test_every_page_the_link_header_names_is_read(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)
    provider.get(f"{GH}/pulls/7", json=github("pull-request"))
    _serve_runs(provider, _runs(250, failing_at=250))
    provider.get(f"{GH}/pulls/7/reviews", json=[])
    assert _refresh(world, link_id)["checks"] == "failing"
    assert _calls(provider, "/check-runs") == [
        f"{COMMIT}/check-runs?per_page=100",
        f"{COMMIT}/check-runs?per_page=100&page=2",
        f"{COMMIT}/check-runs?per_page=100&page=3",
    ]


def test_at_most_ten_pages_are_read(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)
    provider.get(f"{GH}/pulls/7", json=github("pull-request"))
    _serve_runs(provider, _runs(1_050, failing_at=1_050))  # on the 11th page: never read
    provider.get(f"{GH}/pulls/7/reviews", json=[])
    assert _refresh(world, link_id)["checks"] == "passing"
    assert len(_calls(provider, "/check-runs")) == 10


def test_a_change_request_on_the_second_page_of_reviews_counts(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)
    approval = example("pull-request-review-items")[0]
    reviews = [{**copy.deepcopy(approval), "id": n, "user": {**approval["user"], "id": n}} for n in range(1, 32)]
    reviews[-1]["state"] = "CHANGES_REQUESTED"
    provider.get(f"{GH}/pulls/7", json=github("pull-request"))
    provider.get(f"{COMMIT}/check-runs", json=example("check-run-paginated"))
    _serve_reviews(provider, reviews)
    assert _refresh(world, link_id)["review"] == "changes_requested"


def test_a_next_page_on_another_host_is_not_followed(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)
    provider.get(f"{GH}/pulls/7", json=github("pull-request"))
    provider.get(
        f"{COMMIT}/check-runs",
        json={"total_count": 1, "check_runs": _runs(1)},
        headers={"Link": '<https://example.org/steal?page=2>; rel="next"'},
    )
    provider.get(f"{GH}/pulls/7/reviews", json=[])
    assert _refresh(world, link_id)["checks"] == "passing"
    assert not _calls(provider, "example.org")


def test_a_list_of_several_pages_is_not_answered_from_a_first_page_304(
    world: World, provider: responses.RequestsMock
) -> None:
    link_id = _link(world)
    runs = _runs(150)
    provider.get(f"{GH}/pulls/7", json=github("pull-request"))

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        page, headers = github_page(runs, request.url)
        return 200, {**headers, "ETag": '"runs"'}, json.dumps({"total_count": len(runs), "check_runs": page})

    provider.add_callback(responses.GET, f"{COMMIT}/check-runs", callback=answer)
    provider.get(f"{GH}/pulls/7/reviews", json=[])
    assert _refresh(world, link_id)["checks"] == "passing"
    runs[-1]["conclusion"] = "failure"  # the second page changed; the first did not
    assert _refresh(world, link_id)["checks"] == "failing"
    runs_calls = [call for call in provider.calls if "/check-runs" in (call.request.url or "")]
    assert all("If-None-Match" not in call.request.headers for call in runs_calls)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Link": '<https://api.github.com/repositories/1300192/issues?page=1>; rel="prev"'}, None),
        (
            {
                "link": '<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", '
                '<https://api.github.com/repositories/1300192/issues?page=4>; rel="next", '
                '<https://api.github.com/repositories/1300192/issues?page=515>; rel="last", '
                '<https://api.github.com/repositories/1300192/issues?page=1>; rel="first"'
            },
            "https://api.github.com/repositories/1300192/issues?page=4",
        ),
    ],
)
def test_github_next_page_reads_the_documented_link_header(headers: dict[str, str], expected: str | None) -> None:
    assert base.github_next_page("https://api.github.com/repos/octocat/Spoon-Knife/issues", headers) == expected


def test_gitlab_next_page_reads_x_next_page() -> None:
    url = "https://gitlab.example.org/api/v4/projects/5/merge_requests?per_page=100"
    items = list(range(230))
    _, first = gitlab_page(items, url)
    assert base.gitlab_next_page(url, first) == f"{url}&page=2"
    last_url = f"{url}&page=3"
    _, last = gitlab_page(items, last_url)
    assert last["X-Next-Page"] == "" and base.gitlab_next_page(last_url, last) is None


def test_gitlab_list_reads_every_page(provider: responses.RequestsMock, app: Any) -> None:
    url = "https://gitlab.com/api/v4/projects/5/merge_requests/1/notes"
    items = [{"id": n} for n in range(1, 206)]

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        page, headers = gitlab_page(items, request.url)
        return 200, headers, json.dumps(page)

    provider.add_callback(responses.GET, url, callback=answer)
    with app.app_context(), base.conditional(None, None):
        found = base.remembered_list("GitLab", url, {}, lambda body: body, len, base.gitlab_next_page)
    assert found == 205 and len(provider.calls) == 3


# --- stale and startup_failure ----------------------------------------------------------------


def test_a_stale_check_run_is_pending(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)
    provider.get(f"{GH}/pulls/7", json=github("pull-request"))
    provider.get(f"{COMMIT}/check-runs", json={"total_count": 2, "check_runs": _runs(2, 2, "stale")})
    provider.get(f"{GH}/pulls/7/reviews", json=[])
    assert _refresh(world, link_id)["checks"] == "pending"


def _suite(conclusion: str) -> dict[str, Any]:
    data = Path(__file__).parents[1] / "webhooks" / "data" / "github" / "check_suite.completed.json"
    suite = json.loads(data.read_text())["check_suite"]
    return {**suite, "head_sha": SHA, "status": "completed", "conclusion": conclusion}


@pytest.mark.parametrize(("conclusion", "expected"), [("startup_failure", "failing"), ("success", "none")])
def test_a_workflow_that_never_started_fails_the_checks(
    world: World, provider: responses.RequestsMock, conclusion: str, expected: str
) -> None:
    link_id = _link(world)
    no_statuses = {**example("combined-commit-status"), "state": "pending", "statuses": [], "total_count": 0}
    provider.get(f"{GH}/pulls/7", json=github("pull-request"))
    provider.get(f"{COMMIT}/check-runs", json={"total_count": 0, "check_runs": []})
    provider.get(f"{COMMIT}/status", json=no_statuses)
    provider.get(f"{COMMIT}/check-suites", json={"total_count": 1, "check_suites": [_suite(conclusion)]})
    provider.get(f"{GH}/pulls/7/reviews", json=[])
    assert _refresh(world, link_id)["checks"] == expected
    assert _calls(provider, "/check-suites") == [f"{COMMIT}/check-suites?per_page=100"]


def test_check_suites_are_not_read_when_statuses_answer(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)
    provider.get(f"{GH}/pulls/7", json=github("pull-request"))
    provider.get(f"{COMMIT}/check-runs", json={"total_count": 0, "check_runs": []})
    provider.get(f"{COMMIT}/status", json=example("combined-commit-status"))
    provider.get(f"{GH}/pulls/7/reviews", json=[])
    assert _refresh(world, link_id)["checks"] == "passing"
    assert not _calls(provider, "/check-suites")


# --- secondary rate limits ----------------------------------------------------------------------


def _issue_link(world: World, provider: responses.RequestsMock) -> dict[str, Any]:
    give_credential(world.member.user, "github")
    link: dict[str, Any] = add(world.member, world, "https://github.com/acme/api/issues/1347").get_json()
    provider.get(f"{GH}/issues/1347", json=github("issue"))
    assert _refresh(world, link["id"])["status"] == "open"
    return link


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_without_retry_after_waits_a_minute(
    world: World, provider: responses.RequestsMock, status: int
) -> None:
    link = _issue_link(world, provider)
    # Plenty of primary quota left, its reset an hour away: neither applies to a secondary limit.
    headers = {"X-RateLimit-Remaining": "4987", "X-RateLimit-Reset": str(int(datetime.now(UTC).timestamp()) + 3600)}
    provider.replace(responses.GET, f"{GH}/issues/1347", json=SECONDARY, status=status, headers=headers)
    before = datetime.now(UTC).replace(microsecond=0)
    body = _refresh(world, link["id"])
    after = datetime.now(UTC)
    error = body["refresh_error"]
    assert error["code"] == "provider_rate_limited"
    assert before + timedelta(seconds=60) <= _when(error["retry_at"]) <= after + timedelta(seconds=60)
    assert "rate-limiting" in error["detail"] and "token" not in error["detail"].lower()
    assert (body["status"], body["title"]) == ("open", "Found a bug")


def test_a_secondary_rate_limit_waits_as_retry_after_says(world: World, provider: responses.RequestsMock) -> None:
    link = _issue_link(world, provider)
    provider.replace(responses.GET, f"{GH}/issues/1347", json=SECONDARY, status=403, headers={"Retry-After": "120"})
    before = datetime.now(UTC).replace(microsecond=0)
    error = _refresh(world, link["id"])["refresh_error"]
    after = datetime.now(UTC)
    assert error["code"] == "provider_rate_limited"
    assert before + timedelta(seconds=120) <= _when(error["retry_at"]) <= after + timedelta(seconds=120)


def test_a_plain_403_is_still_forbidden(world: World, provider: responses.RequestsMock) -> None:
    link = _issue_link(world, provider)
    refused = {"message": "Resource not accessible by personal access token"}
    provider.replace(responses.GET, f"{GH}/issues/1347", json=refused, status=403)
    assert _refresh(world, link["id"])["refresh_error"]["code"] == "provider_forbidden"
