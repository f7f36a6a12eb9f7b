"""Refreshing Gitea / Forgejo links (SPEC §24 with §6, §14, §15): the status mapping of pulls and
issues, review from the reviews list, checks from the combined commit status, Gitea's paging,
conditional requests and rate limits, on Codeberg and on a self-hosted instance under a sub-path.

Bodies: Gitea's swagger definitions `PullRequest`, `Issue`, `PullReview`, `CombinedStatus`
(`templates/swagger/v1_json.tmpl`, built in `tests/integrations/data/gitea_api.py`), each varied
for one rule at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses

from ppm.extensions import db
from ppm.links.models import TaskLink
from tests.integrations.data import gitea_api as g
from tests.links.conftest import World, add, give_credential
from tests.support.netguard import NetGuard

API = "https://codeberg.org/api/v1/repos/forgejo/website"
SELF_API = "https://example.org/gitea/api/v1/repos/forgejo/website"
PR_URL = "https://codeberg.org/forgejo/website/pulls/7"
ISSUE_URL = "https://codeberg.org/forgejo/website/issues/3"
STATUS = f"{API}/commits/{g.HEAD_SHA}/status?limit=50"
REVIEWS = f"{API}/pulls/7/reviews?limit=50&page=1"


@pytest.fixture(autouse=True)
def _codeberg(net: NetGuard) -> Iterator[None]:
    net.resolver.add("codeberg.org", "217.197.91.145")
    yield


def _link(world: World, url: str = PR_URL, base_url: str = "") -> str:
    give_credential(world.member.user, "gitea", token="gitea-tok", base_url=base_url)
    response = add(world.member, world, url)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["provider"] == "gitea"
    return str(body["id"])


def _refresh(world: World, link_id: str) -> dict[str, Any]:
    response = world.member.api("POST", world.links_url() + f"{link_id}/refresh/")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _row(link_id: str) -> TaskLink:
    db.session.expire_all()
    found = db.session.get(TaskLink, link_id)
    assert found is not None
    return found


def _pull(provider: responses.RequestsMock, api: str = API, **changes: Any) -> None:
    provider.get(f"{api}/pulls/7", json=g.pull_request(**changes))


def _called(provider: responses.RequestsMock) -> list[str]:
    return [call.request.url or "" for call in provider.calls]


# --- pulls and issues -------------------------------------------------------------------


def test_codeberg_pull_request_status_checks_and_review(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)
    _pull(provider)
    provider.get(STATUS, json=g.combined_status("success", [g.commit_status(1, "success")]))
    provider.get(REVIEWS, json=[])
    body = _refresh(world, link_id)
    assert (body["status"], body["title"]) == ("open", "Update the contribution guide")
    # No decisive review yet, but a reviewer is requested.
    assert (body["checks"], body["review"]) == ("passing", "review_required")
    assert body["refresh_error"] is None and body["fetched_at"]
    assert _called(provider) == [f"{API}/pulls/7", STATUS, REVIEWS]
    assert all(call.request.headers["Authorization"] == "token gitea-tok" for call in provider.calls)
    row = _row(link_id)
    assert row.kind == "pull" and row.head_sha == g.HEAD_SHA
    assert row.provider_updated_at is not None  # `updated_at` with an offset: remembered in UTC


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"merged": True, "state": "closed", "merged_at": "2026-12-02T12:00:00+01:00"}, "merged"),
        ({"state": "closed"}, "closed"),
        ({"draft": True}, "draft"),
        ({"title": "WIP: Update the contribution guide"}, "draft"),
        ({"title": "[wip] Update the contribution guide"}, "draft"),
        ({"title": "wip: lower case counts too"}, "draft"),
        ({"title": "Wipe the cache (not a WIP prefix)"}, "open"),
        ({"state": "closed", "title": "WIP: closed beats draft"}, "closed"),
        ({}, "open"),
    ],
)
def test_pull_request_mapping(
    world: World, provider: responses.RequestsMock, changes: dict[str, Any], expected: str
) -> None:
    link_id = _link(world)
    _pull(provider, **changes)
    provider.get(STATUS, json=g.combined_status("", []))
    provider.get(REVIEWS, json=[])
    assert _refresh(world, link_id)["status"] == expected


@pytest.mark.parametrize(("state", "expected"), [("open", "open"), ("closed", "closed")])
def test_issue_mapping_makes_one_call(
    world: World, provider: responses.RequestsMock, state: str, expected: str
) -> None:
    link_id = _link(world, ISSUE_URL)
    provider.get(f"{API}/issues/3", json=g.issue(state=state))
    body = _refresh(world, link_id)
    assert (body["status"], body["title"]) == (expected, "Broken link on the download page")
    assert body["checks"] is None and body["review"] is None  # not a pull request (§15)
    assert _called(provider) == [f"{API}/issues/3"]
    assert _row(link_id).kind == "issue"


def test_a_pull_without_state_is_a_bad_response_and_keeps_the_cache(
    world: World, provider: responses.RequestsMock
) -> None:
    link_id = _link(world)
    _pull(provider)
    provider.get(STATUS, json=g.combined_status("", []))
    provider.get(REVIEWS, json=[])
    assert _refresh(world, link_id)["status"] == "open"
    broken = g.pull_request()
    del broken["state"]
    provider.replace(responses.GET, f"{API}/pulls/7", json=broken)
    body = _refresh(world, link_id)
    assert body["status"] == "open" and body["refresh_error"]["code"] == "provider_bad_response"


def test_other_pages_stay_unknown_without_a_call(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world, f"https://codeberg.org/forgejo/website/commit/{g.HEAD_SHA}")
    body = _refresh(world, link_id)
    assert body["status"] == "unknown" and body["checks"] is None
    assert len(provider.calls) == 0
    assert _row(link_id).kind == ""


def test_self_hosted_under_a_sub_path(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(
        world, "https://example.org/gitea/forgejo/website/pulls/7/files", base_url="https://example.org/gitea"
    )
    html = "https://example.org/gitea/forgejo/website"
    provider.get(f"{SELF_API}/pulls/7", json=g.pull_request(html=html, merged=True, state="closed"))
    provider.get(f"{SELF_API}/commits/{g.HEAD_SHA}/status?limit=50", json=g.combined_status("", []))
    provider.get(f"{SELF_API}/pulls/7/reviews?limit=50&page=1", json=[])
    body = _refresh(world, link_id)
    assert body["status"] == "merged" and body["provider"] == "gitea"
    assert _called(provider)[0] == f"{SELF_API}/pulls/7"


def test_without_a_gitea_credential_the_refresh_asks_for_one(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)  # the member holds a Codeberg credential; the owner holds none
    response = world.owner.api("POST", world.links_url() + f"{link_id}/refresh/")
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "credential_required" and body["provider"] == "gitea"
    assert body["connect_url"] == "/me/settings/connected-accounts#gitea"
    assert len(provider.calls) == 0


def test_a_codeberg_credential_does_not_serve_a_self_hosted_link(
    world: World, provider: responses.RequestsMock
) -> None:
    give_credential(world.member.user, "gitea", token="gitea-tok", base_url="https://example.org/gitea")
    link = add(world.member, world, "https://example.org/gitea/forgejo/website/pulls/7").get_json()
    assert link["provider"] == "gitea"
    give_credential(world.owner.user, "gitea", token="codeberg-tok")  # Codeberg, not that host
    response = world.owner.api("POST", world.links_url() + f"{link['id']}/refresh/")
    assert response.status_code == 422 and response.get_json()["code"] == "credential_required"
    assert len(provider.calls) == 0


# --- review (§15, §24) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reviews", "requested", "expected"),
    [
        ([g.review(1, "earl-warren", 12, "APPROVED")], True, "approved"),
        ([g.review(1, "earl-warren", 12, "APPROVED"), g.review(2, "gusted", 31, "REQUEST_CHANGES")], False,
         "changes_requested"),
        # A reviewer's later approval replaces their change request.
        ([g.review(1, "gusted", 31, "REQUEST_CHANGES"), g.review(2, "gusted", 31, "APPROVED")], False, "approved"),
        # A comment after an approval does not cancel it.
        ([g.review(1, "gusted", 31, "APPROVED"), g.review(2, "gusted", 31, "COMMENT")], False, "approved"),
        # A dismissed latest verdict counts for nothing (and an older one is not revived).
        ([g.review(1, "gusted", 31, "APPROVED"), g.review(2, "gusted", 31, "REQUEST_CHANGES", dismissed=True)],
         False, "none"),
        ([g.review(1, "gusted", 31, "APPROVED", dismissed=True)], True, "review_required"),
        # Pending reviews and review requests are not verdicts.
        ([g.review(1, "gusted", 31, "PENDING"), g.review(2, "earl-warren", 12, "REQUEST_REVIEW")], False, "none"),
        ([], False, "none"),
    ],
)  # fmt: skip
def test_review_mapping(
    world: World, provider: responses.RequestsMock, reviews: list[dict[str, Any]], requested: bool, expected: str
) -> None:
    link_id = _link(world)
    _pull(provider, requested_reviewers=[g.USER] if requested else [])
    provider.get(STATUS, json=g.combined_status("", []))
    provider.get(REVIEWS, json=reviews)
    assert _refresh(world, link_id)["review"] == expected


def test_reviews_are_read_page_by_page(world: World, provider: responses.RequestsMock) -> None:
    """Gitea pages lists with `page` and `limit` and says so in `Link` and `X-Total-Count`."""
    link_id = _link(world)
    _pull(provider, requested_reviewers=[])
    provider.get(STATUS, json=g.combined_status("", []))
    first = [g.review(n, f"user{n}", 100 + n, "APPROVED") for n in range(1, 51)]
    nxt = f'<{API}/pulls/7/reviews?limit=50&page=2>; rel="next",<{API}/pulls/7/reviews?limit=50&page=2>; rel="last"'
    provider.get(REVIEWS, json=first, headers={"Link": nxt, "X-Total-Count": "51"})
    provider.get(
        f"{API}/pulls/7/reviews?limit=50&page=2",
        json=[g.review(51, "user1", 101, "REQUEST_CHANGES")],
        headers={"X-Total-Count": "51"},
    )
    assert _refresh(world, link_id)["review"] == "changes_requested"  # the verdict on page 2 counts
    assert _called(provider)[-1] == f"{API}/pulls/7/reviews?limit=50&page=2"


def test_paging_also_follows_x_total_count_alone(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)
    _pull(provider, requested_reviewers=[])
    provider.get(STATUS, json=g.combined_status("", []))
    provider.get(
        REVIEWS, json=[g.review(n, f"u{n}", 200 + n, "COMMENT") for n in range(50)], headers={"X-Total-Count": "52"}
    )
    provider.get(f"{API}/pulls/7/reviews?limit=50&page=2", json=[g.review(99, "u1", 201, "APPROVED")])
    assert _refresh(world, link_id)["review"] == "approved"


# --- checks (§15, §24) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "statuses", "expected"),
    [
        ("failure", ["success", "failure"], "failing"),
        ("error", ["error"], "failing"),
        ("pending", ["pending", "success"], "pending"),
        ("pending", [], "none"),
        ("success", ["success"], "passing"),
        ("warning", ["warning", "success"], "passing"),
        ("", [], "none"),
    ],
)
def test_checks_from_the_combined_status(
    world: World, provider: responses.RequestsMock, state: str, statuses: list[str], expected: str
) -> None:
    link_id = _link(world)
    _pull(provider)
    provider.get(STATUS, json=g.combined_status(state, [g.commit_status(n, s) for n, s in enumerate(statuses)]))
    provider.get(REVIEWS, json=[])
    assert _refresh(world, link_id)["checks"] == expected


def test_a_failing_extra_call_keeps_the_old_checks_and_saves_the_status(
    world: World, provider: responses.RequestsMock
) -> None:
    link_id = _link(world)
    _pull(provider)
    provider.get(STATUS, json=g.combined_status("failure", [g.commit_status(1, "failure")]))
    provider.get(REVIEWS, json=[g.review(1, "gusted", 31, "APPROVED")])
    assert (_refresh(world, link_id)["checks"], _row(link_id).review) == ("failing", "approved")
    provider.replace(responses.GET, f"{API}/pulls/7", json=g.pull_request(state="closed"))
    provider.replace(responses.GET, STATUS, status=500, json={"message": "oops"})
    provider.replace(responses.GET, REVIEWS, status=500, json={"message": "oops"})
    body = _refresh(world, link_id)
    assert (body["status"], body["checks"], body["review"]) == ("closed", "failing", "approved")


# --- conditional requests and rate limits (§14, §18) ------------------------------------------


def test_conditional_304_keeps_status_and_counts_as_success(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world)
    provider.get(f"{API}/pulls/7", json=g.pull_request(), headers={"ETag": '"pr-7-v1"'})
    provider.get(STATUS, json=g.combined_status("pending", [g.commit_status(1, "pending")]), headers={"ETag": '"st-1"'})
    provider.get(REVIEWS, json=[])
    first = _refresh(world, link_id)
    assert (first["status"], first["checks"]) == ("open", "pending")
    assert "If-None-Match" not in provider.calls[0].request.headers

    # Unchanged pull request, CI finished: the status call still goes out for the stored head.
    provider.replace(responses.GET, f"{API}/pulls/7", status=304, body=b"")
    provider.replace(responses.GET, STATUS, json=g.combined_status("success", [g.commit_status(1, "success")]))
    row = _row(link_id)
    row.refresh_error = {"code": "provider_unreachable", "detail": "x", "at": "2026-12-01T00:00:00Z"}
    db.session.commit()
    second = _refresh(world, link_id)
    assert provider.calls[3].request.headers["If-None-Match"] == '"pr-7-v1"'
    assert provider.calls[4].request.headers["If-None-Match"] == '"st-1"'
    assert (second["status"], second["title"], second["checks"]) == ("open", first["title"], "passing")
    assert second["refresh_error"] is None and second["fetched_at"] >= first["fetched_at"]
    assert second["review"] == "review_required"  # requested reviewers remembered across the 304


def test_last_modified_is_sent_back_as_if_modified_since(world: World, provider: responses.RequestsMock) -> None:
    link_id = _link(world, ISSUE_URL)
    stamp = "Wed, 02 Dec 2026 08:45:00 GMT"
    provider.get(f"{API}/issues/3", json=g.issue(), headers={"Last-Modified": stamp})
    _refresh(world, link_id)
    provider.replace(responses.GET, f"{API}/issues/3", status=304, body=b"")
    body = _refresh(world, link_id)
    assert provider.calls[1].request.headers["If-Modified-Since"] == stamp
    assert body["status"] == "open" and body["refresh_error"] is None


@pytest.mark.parametrize(
    ("status", "headers"),
    [(429, {"Retry-After": "90"}), (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60"})],
)
def test_rate_limited_answers_keep_the_cache_and_say_when(
    world: World, provider: responses.RequestsMock, status: int, headers: dict[str, str]
) -> None:
    link_id = _link(world, ISSUE_URL)
    provider.get(f"{API}/issues/3", json=g.issue(state="closed"))
    assert _refresh(world, link_id)["status"] == "closed"
    provider.replace(responses.GET, f"{API}/issues/3", status=status, json={"message": "slow down"}, headers=headers)
    body = _refresh(world, link_id)
    assert body["status"] == "closed"
    assert body["refresh_error"]["code"] == "provider_rate_limited" and body["refresh_error"]["retry_at"]


@pytest.mark.parametrize(
    ("status", "code"), [(401, "token_rejected"), (404, "not_found"), (502, "provider_unreachable")]
)
def test_refresh_error_codes(world: World, provider: responses.RequestsMock, status: int, code: str) -> None:
    link_id = _link(world, ISSUE_URL)
    provider.get(f"{API}/issues/3", status=status, json={"message": "no", "url": "https://codeberg.org/api/swagger"})
    assert _refresh(world, link_id)["refresh_error"]["code"] == code


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/forgejo/website/pulls/7", ("forgejo", "website", "pulls", "7")),
        ("/forgejo/website/pulls/7/files", ("forgejo", "website", "pulls", "7")),
        ("/forgejo/website/issues/3x", None),  # not a number
        ("/forgejo/website/issues/3", ("forgejo", "website", "issues", "3")),
        ("/forgejo/website/pull/7", None),  # GitHub's shape, not Gitea's
        ("/forgejo/website/pulls/²", None),
        ("/forgejo/website/pulls/７", None),
        ("/forgejo/website/pulls/" + "9" * 19, None),
        ("/../website/pulls/7", None),
        ("/forgejo/website/commit/" + g.HEAD_SHA, None),
        ("/forgejo/website", None),
    ],
)
def test_object_addresses(path: str, expected: tuple[str, ...] | None) -> None:
    from ppm.integrations.providers import gitea

    assert gitea.object_ref(path) == expected
