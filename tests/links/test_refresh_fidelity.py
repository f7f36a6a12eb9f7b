"""Refresh, as GitHub and GitLab answer today (SPEC §18, and the provider rules of §19): the three
GitLab issue addresses, group work items left alone, rate limits with `retry_at` and words,
`insufficient_scope`, GitHub's `merged` flag, answers without `state`, and provider strings
cleaned before they are stored. GitLab rules run for a gitlab.com project, a project in a nested
group, and a self-managed instance under a relative root."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import responses

from ppm.extensions import db
from ppm.integrations.providers import gitlab
from ppm.links.models import TaskLink
from tests.links.conftest import World, add, give_credential
from tests.support import provider_examples as examples

GH = "https://api.github.com/repos/octocat/Hello-World"


class Place:
    """Where a GitLab project lives: its web root (with any relative root), and its path."""

    def __init__(self, base_url: str, project: str) -> None:
        self.base_url = base_url
        self.project = project
        self.web = f"{base_url or 'https://gitlab.com'}/{project}"
        self.api = f"{base_url or 'https://gitlab.com'}/api/v4/projects/{quote(project, safe='')}"


PLACES = [
    pytest.param(Place("", "acme/app"), id="gitlab.com"),
    pytest.param(Place("", "group/sub/proj"), id="nested-group"),
    pytest.param(Place("https://example.org/gitlab", "team/sub/app"), id="relative-root"),
]
ISSUE_SHAPES = ["-/issues/1", "-/work_items/1", "-/issues/incident/1"]


def refresh(client: Any, world: World, link: dict[str, Any]) -> Any:
    return client.api("POST", world.links_url() + f"{link['id']}/refresh/")


def gitlab_link(world: World, place: Place, tail: str) -> dict[str, Any]:
    give_credential(world.member.user, "gitlab", base_url=place.base_url)
    response = add(world.member, world, f"{place.web}/{tail}")
    assert response.status_code == 201, response.get_json()
    link: dict[str, Any] = response.get_json()
    assert link["provider"] == "gitlab"
    return link


def iso_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- GitLab issue addresses ---------------------------------------------------------------


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("shape", ISSUE_SHAPES)
@pytest.mark.parametrize(("state", "status"), [("closed", "closed"), ("opened", "open")])
def test_every_issue_address_is_read_from_the_issues_endpoint(
    world: World, provider: responses.RequestsMock, place: Place, shape: str, state: str, status: str
) -> None:
    link = gitlab_link(world, place, shape)
    provider.get(f"{place.api}/issues/1", json=examples.gitlab(examples.GITLAB_ISSUE, state=state))
    body = refresh(world.member, world, link).get_json()
    assert body["status"] == status and body["refresh_error"] is None
    assert body["title"] == "Ut commodi ullam eos dolores perferendis nihil sunt."
    assert [call.request.url for call in provider.calls] == [f"{place.api}/issues/1"]


@pytest.mark.parametrize("place", PLACES)
def test_merge_request_example_and_commit_example(world: World, provider: responses.RequestsMock, place: Place) -> None:
    mr = gitlab_link(world, place, "-/merge_requests/1/diffs")
    provider.get(f"{place.api}/merge_requests/1", json=examples.GITLAB_MERGE_REQUEST)
    body = refresh(world.member, world, mr).get_json()
    assert body["status"] == "merged" and body["title"] == "test1"
    sha = examples.GITLAB_COMMIT["id"]
    commit = add(world.member, world, f"{place.web}/-/commit/{sha}").get_json()
    provider.get(f"{place.api}/repository/commits/{sha}", json=examples.GITLAB_COMMIT)
    body = refresh(world.member, world, commit).get_json()
    assert body["status"] == "unknown" and body["title"] == "Sanitize for network graph"


@pytest.mark.parametrize("base_url", ["", "https://example.org/gitlab"])
@pytest.mark.parametrize(
    "tail", ["groups/acme/-/work_items/5", "groups/acme/sub/-/work_items/5", "groups/acme/-/epics/5"]
)
def test_group_work_items_stay_unknown_without_a_call(
    world: World, provider: responses.RequestsMock, net: Any, base_url: str, tail: str
) -> None:
    give_credential(world.member.user, "gitlab", base_url=base_url)
    link = add(world.member, world, f"{base_url or 'https://gitlab.com'}/{tail}").get_json()
    body = refresh(world.member, world, link).get_json()
    assert body["status"] == "unknown" and body["refresh_error"] is None
    assert len(provider.calls) == 0


@pytest.mark.parametrize(
    ("path", "ref"),
    [
        ("/acme/app/-/issues/7", ("acme/app", "issues", "7")),
        ("/acme/app/-/work_items/7", ("acme/app", "issues", "7")),
        ("/acme/app/-/issues/incident/7", ("acme/app", "issues", "7")),
        ("/group/sub/proj/-/issues/7/designs", ("group/sub/proj", "issues", "7")),
        ("/group/sub/proj/-/merge_requests/5/diffs", ("group/sub/proj", "merge_requests", "5")),
        ("/acme/app/-/commit/0123abcd", ("acme/app", "commit", "0123abcd")),
        ("/groups/acme/-/work_items/7", None),
        ("/groups/acme/sub/-/work_items/7", None),
        ("/groups/acme/-/epics/7", None),
        ("/acme/app/-/issues/incident/x", None),
        ("/acme/app/-/issues/incident", None),
        ("/acme/app/-/work_items", None),
        ("/acme/app/-/tree/main", None),
        ("/acme/-/issues/7", None),
    ],
)
def test_object_ref_folds_the_issue_shapes(path: str, ref: tuple[str, str, str] | None) -> None:
    assert gitlab.object_ref(path) == ref


def test_the_three_issue_shapes_are_one_issue() -> None:
    refs = {gitlab.object_ref(f"/group/sub/proj/{shape}") for shape in ISSUE_SHAPES}
    assert refs == {("group/sub/proj", "issues", "1")}


# --- rate limits: code, retry_at and words ------------------------------------------------


def _cached_gitlab_mr(world: World, provider: responses.RequestsMock, place: Place) -> dict[str, Any]:
    link = gitlab_link(world, place, "-/merge_requests/1")
    provider.get(f"{place.api}/merge_requests/1", json=examples.GITLAB_MERGE_REQUEST)
    good = refresh(world.member, world, link).get_json()
    assert good["status"] == "merged"
    return good


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("status", [429, 403])
def test_gitlab_ratelimit_remaining_zero_with_its_reset(
    world: World, provider: responses.RequestsMock, place: Place, status: int
) -> None:
    good = _cached_gitlab_mr(world, provider, place)
    headers = {k: v for k, v in examples.GITLAB_RATE_LIMIT_HEADERS.items() if k != "Retry-After"}
    provider.replace(
        responses.GET, f"{place.api}/merge_requests/1", body="Retry later\n", status=status, headers=headers
    )
    body = refresh(world.member, world, good).get_json()
    error = body["refresh_error"]
    assert error["code"] == "provider_rate_limited" and error["retry_at"] == "2021-01-05T11:00:00Z"
    assert "GitLab's rate limit resets at 11:00 UTC on 2021-01-05" in error["detail"]
    assert body["status"] == "merged" and body["title"] == "test1" and body["fetched_at"] == good["fetched_at"]


@pytest.mark.parametrize("place", PLACES)
def test_retry_after_seconds_wins_over_the_reset(world: World, provider: responses.RequestsMock, place: Place) -> None:
    good = _cached_gitlab_mr(world, provider, place)
    provider.replace(
        responses.GET,
        f"{place.api}/merge_requests/1",
        body="Retry later\n",
        status=429,
        headers=examples.GITLAB_RATE_LIMIT_HEADERS,
    )
    before = datetime.now(UTC).replace(microsecond=0)
    error = refresh(world.member, world, good).get_json()["refresh_error"]
    after = datetime.now(UTC)
    retry_at = iso_time(error["retry_at"])
    assert before + timedelta(seconds=30) <= retry_at <= after + timedelta(seconds=30)
    assert f"resets at {retry_at:%H:%M} UTC" in error["detail"]


def test_retry_after_as_an_http_date(world: World, provider: responses.RequestsMock) -> None:
    place = Place("", "group/sub/proj")
    good = _cached_gitlab_mr(world, provider, place)
    provider.replace(
        responses.GET,
        f"{place.api}/merge_requests/1",
        status=429,
        headers={"Retry-After": "Tue, 05 Jan 2021 11:00:00 GMT"},
    )
    error = refresh(world.member, world, good).get_json()["refresh_error"]
    assert error["retry_at"] == "2021-01-05T11:00:00Z"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(examples.GITHUB_RATE_LIMIT_RESET)},
        {"Retry-After": "Thu, 28 May 2020 21:38:08 GMT"},
    ],
)
@pytest.mark.parametrize("status", [403, 429])
def test_github_rate_limits(
    world: World, provider: responses.RequestsMock, headers: dict[str, str], status: int
) -> None:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/octocat/Hello-World/issues/1347").get_json()
    provider.get(f"{GH}/issues/1347", json=examples.github("issue"))
    assert refresh(world.member, world, link).get_json()["status"] == "open"
    provider.replace(
        responses.GET, f"{GH}/issues/1347", json={"message": "API rate limit exceeded"}, status=status, headers=headers
    )
    body = refresh(world.member, world, link).get_json()
    error = body["refresh_error"]
    assert error["code"] == "provider_rate_limited" and error["retry_at"] == "2020-05-28T21:38:08Z"
    assert "GitHub's rate limit resets at 21:38 UTC on 2020-05-28" in error["detail"]
    assert body["status"] == "open" and body["title"] == "Found a bug"


def test_rate_limited_without_a_time_has_null_retry_at(world: World, provider: responses.RequestsMock) -> None:
    place = Place("", "acme/app")
    good = _cached_gitlab_mr(world, provider, place)
    provider.replace(responses.GET, f"{place.api}/merge_requests/1", body="Retry later\n", status=429)
    error = refresh(world.member, world, good).get_json()["refresh_error"]
    assert error["code"] == "provider_rate_limited" and error["retry_at"] is None and error["detail"]


@pytest.mark.parametrize(
    ("status", "headers", "code"),
    [
        (
            404,
            {"X-RateLimit-Reset": str(examples.GITHUB_RATE_LIMIT_RESET), "X-RateLimit-Remaining": "4999"},
            "not_found",
        ),
        (403, {"X-RateLimit-Remaining": "4999"}, "provider_forbidden"),
        (401, {}, "token_rejected"),
        (500, {}, "provider_unreachable"),
    ],
)
def test_other_failures_carry_a_null_retry_at(
    world: World, provider: responses.RequestsMock, status: int, headers: dict[str, str], code: str
) -> None:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/octocat/Hello-World/pull/1347").get_json()
    provider.get(f"{GH}/pulls/1347", json={"message": "no"}, status=status, headers=headers)
    error = refresh(world.member, world, link).get_json()["refresh_error"]
    assert error["code"] == code and error["retry_at"] is None


def test_retry_at_is_sent_in_links_and_sync_rows_even_for_errors_stored_before_it(
    world: World, provider: responses.RequestsMock
) -> None:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/octocat/Hello-World/pull/1347").get_json()
    row = db.session.get(TaskLink, link["id"])
    row.refresh_error = {"code": "provider_unreachable", "detail": "Down.", "at": "2026-01-01T00:00:00Z"}
    db.session.commit()
    listed = world.member.api("GET", world.links_url()).get_json()[0]
    assert listed["refresh_error"] == {
        "code": "provider_unreachable",
        "detail": "Down.",
        "at": "2026-01-01T00:00:00Z",
        "retry_at": None,
    }
    delta = world.member.api("GET", f"/api/v1/projects/{world.project_id}/sync/?since=0").get_json()
    synced = next(item for item in delta["task_links"]["updated"] if item["id"] == link["id"])
    assert synced["refresh_error"]["retry_at"] is None


# --- insufficient scope and expired tokens on refresh --------------------------------------


@pytest.mark.parametrize("place", PLACES)
def test_insufficient_scope_says_to_rotate_with_read_api(
    world: World, provider: responses.RequestsMock, place: Place
) -> None:
    good = _cached_gitlab_mr(world, provider, place)
    provider.replace(
        responses.GET, f"{place.api}/merge_requests/1", json=examples.GITLAB_INSUFFICIENT_SCOPE, status=403
    )
    body = refresh(world.member, world, good).get_json()
    error = body["refresh_error"]
    assert error["code"] == "insufficient_scope" and error["retry_at"] is None
    assert "rotate your GitLab token with read_api" in error["detail"]
    assert body["status"] == "merged"


@pytest.mark.parametrize("place", PLACES)
def test_expired_token_on_refresh_says_so(world: World, provider: responses.RequestsMock, place: Place) -> None:
    good = _cached_gitlab_mr(world, provider, place)
    provider.replace(responses.GET, f"{place.api}/merge_requests/1", json=examples.GITLAB_TOKEN_EXPIRED, status=401)
    error = refresh(world.member, world, good).get_json()["refresh_error"]
    assert error["code"] == "token_rejected" and "expired" in error["detail"]


# --- GitHub's merged flag -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, "open"),  # GitHub's own example: open, merged false, yet a merged_at
        ({"merged": True, "state": "closed"}, "merged"),
        ({"merged": False, "state": "closed"}, "closed"),
        ({"merged": None, "state": "closed"}, "merged"),  # flag absent: merged_at decides
        ({"merged": None, "merged_at": None, "state": "closed"}, "closed"),
        ({"merged": None, "merged_at": None, "draft": True}, "draft"),
        ({"draft": True}, "draft"),
    ],
)
def test_github_merged_flag_decides(
    world: World, provider: responses.RequestsMock, changes: dict[str, Any], status: str
) -> None:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/octocat/Hello-World/pull/1347").get_json()
    provider.get(f"{GH}/pulls/1347", json=examples.github("pull-request", **changes))
    body = refresh(world.member, world, link).get_json()
    assert body["status"] == status and body["title"] == "Amazing new feature"


def test_github_merged_null_falls_back_to_merged_at(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/octocat/Hello-World/pull/1347").get_json()
    example = examples.github("pull-request")
    example["merged"] = None  # present but null: not a boolean, so merged_at decides
    provider.get(f"{GH}/pulls/1347", json=example)
    assert refresh(world.member, world, link).get_json()["status"] == "merged"


# --- a 2xx answer without state changes nothing ---------------------------------------------


def _stays(world: World, provider: responses.RequestsMock, url: str, api: str, first: Any, second: Any) -> None:
    link = add(world.member, world, url).get_json()
    provider.get(api, json=first)
    good = refresh(world.member, world, link).get_json()
    assert good["refresh_error"] is None
    provider.replace(responses.GET, api, json=second)
    body = refresh(world.member, world, good).get_json()
    assert body["refresh_error"]["code"] == "provider_bad_response"
    assert body["refresh_error"]["retry_at"] is None
    for field in ("status", "title", "fetched_at"):
        assert body[field] == good[field], field


@pytest.mark.parametrize("second", [{}, {"title": "x"}, {"state": None}, {"state": 3}, {"state": "weird"}])
def test_github_issue_without_state(world: World, provider: responses.RequestsMock, second: Any) -> None:
    give_credential(world.member.user, "github")
    _stays(
        world,
        provider,
        "https://github.com/octocat/Hello-World/issues/1347",
        f"{GH}/issues/1347",
        examples.github("issue"),
        second,
    )


def test_github_pull_request_without_state(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github")
    _stays(
        world,
        provider,
        "https://github.com/octocat/Hello-World/pull/1347",
        f"{GH}/pulls/1347",
        examples.github("pull-request", merged=True, state="closed"),
        examples.github("pull-request", merged=True, state=None),
    )


@pytest.mark.parametrize("place", PLACES)
def test_gitlab_merge_request_and_issue_without_state(
    world: World, provider: responses.RequestsMock, place: Place
) -> None:
    give_credential(world.member.user, "gitlab", base_url=place.base_url)
    _stays(
        world,
        provider,
        f"{place.web}/-/merge_requests/1",
        f"{place.api}/merge_requests/1",
        examples.GITLAB_MERGE_REQUEST,
        examples.gitlab(examples.GITLAB_MERGE_REQUEST, state=None),
    )
    _stays(
        world,
        provider,
        f"{place.web}/-/work_items/1",
        f"{place.api}/issues/1",
        examples.GITLAB_ISSUE,
        examples.gitlab(examples.GITLAB_ISSUE, state=None),
    )


# --- provider strings are cleaned before they are stored ------------------------------------


def test_titles_and_commit_messages_are_cleaned(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github")
    pr = add(world.member, world, "https://github.com/octocat/Hello-World/pull/1347").get_json()
    provider.get(
        f"{GH}/pulls/1347", json=examples.github("pull-request", title="Amazing\x00 new\ud800 \x1b[31mfeature\x7f")
    )
    body = refresh(world.member, world, pr).get_json()
    assert body["title"] == "Amazing new [31mfeature"
    sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    commit = add(world.member, world, f"https://github.com/octocat/Hello-World/commit/{sha}").get_json()
    example = examples.github("commit")
    example["commit"]["message"] = "\x00\n  Fix\tall the\x00 bugs\udfff\n\nMore"
    provider.get(f"{GH}/commits/{sha}", json=example)
    assert refresh(world.member, world, commit).get_json()["title"] == "Fix all the bugs"
    db.session.expire_all()
    assert db.session.get(TaskLink, pr["id"]).title == "Amazing new [31mfeature"


@pytest.mark.parametrize("place", PLACES)
def test_gitlab_title_with_nul_and_a_lone_surrogate(
    world: World, provider: responses.RequestsMock, place: Place
) -> None:
    link = gitlab_link(world, place, "-/issues/incident/1")
    provider.get(
        f"{place.api}/issues/1", json=examples.gitlab(examples.GITLAB_ISSUE, title="\ud83dOutage\x00 at\u202e night")
    )
    body = refresh(world.member, world, link).get_json()
    assert body["status"] == "closed" and body["title"] == "Outage at night"


def test_a_title_of_only_control_characters_keeps_the_old_one(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/octocat/Hello-World/issues/1347").get_json()
    provider.get(f"{GH}/issues/1347", json=examples.github("issue"))
    good = refresh(world.member, world, link).get_json()
    provider.replace(responses.GET, f"{GH}/issues/1347", json=examples.github("issue", title="\x00\x01\ud800"))
    assert refresh(world.member, world, good).get_json()["title"] == "Found a bug"
