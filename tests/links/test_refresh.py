"""Refresh: exact provider calls and state mappings, the credential for the link's host, and
failures that never lose cached data (SPEC §6, §12)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
from cryptography.fernet import Fernet

from ppm.extensions import db
from ppm.integrations.models import Credential
from tests.links.conftest import World, add, give_credential

GH = "https://api.github.com/repos/acme/api"
GL = "https://gitlab.com/api/v4/projects/group%2Fsub%2Fproj"


def refresh(client: Any, world: World, link: dict[str, Any]) -> Any:
    return client.api("POST", world.links_url() + f"{link['id']}/refresh/")


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"state": "open", "draft": False, "merged": False, "title": "Fix login"}, "open"),
        ({"state": "open", "draft": True, "merged": False, "title": "Fix login"}, "draft"),
        ({"state": "closed", "draft": False, "merged": True, "title": "Fix login"}, "merged"),
        ({"state": "closed", "draft": False, "merged": False, "title": "Fix login"}, "closed"),
        ({"state": "closed", "draft": True, "merged": False, "title": "Fix login"}, "closed"),
    ],
)
def test_github_pull_request_states(
    world: World, provider: responses.RequestsMock, payload: dict[str, Any], status: str
) -> None:
    credential = give_credential(world.viewer.user, "github", token="ghp_viewer")
    link = add(world.member, world, "https://github.com/acme/api/pull/7/files?w=1#diff").get_json()
    provider.get(f"{GH}/pulls/7", json=payload)
    response = refresh(world.viewer, world, link)
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == status and body["title"] == "Fix login"
    assert body["fetched_at"] and body["refresh_error"] is None
    sent = provider.calls[0].request
    assert sent.headers["Authorization"] == "Bearer ghp_viewer"  # the refreshing user's token
    assert sent.headers["X-GitHub-Api-Version"] == "2022-11-28"
    db.session.refresh(credential)
    assert credential.last_used_at is not None


@pytest.mark.parametrize(("state", "status"), [("open", "open"), ("closed", "closed")])
def test_github_issue_states(world: World, provider: responses.RequestsMock, state: str, status: str) -> None:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/acme/api/issues/12").get_json()
    provider.get(f"{GH}/issues/12", json={"state": state, "title": "Crash on save"})
    assert refresh(world.member, world, link).get_json()["status"] == status


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"state": "opened", "draft": False}, "open"),
        ({"state": "opened", "draft": True}, "draft"),
        ({"state": "opened", "work_in_progress": True}, "draft"),
        ({"state": "merged"}, "merged"),
        ({"state": "closed"}, "closed"),
        ({"state": "locked"}, "closed"),
    ],
)
def test_gitlab_merge_request_states_with_nested_groups(
    world: World, provider: responses.RequestsMock, payload: dict[str, Any], status: str
) -> None:
    give_credential(world.member.user, "gitlab")
    link = add(world.member, world, "https://gitlab.com/group/sub/proj/-/merge_requests/5/diffs").get_json()
    provider.get(f"{GL}/merge_requests/5", json={**payload, "title": "MR"})
    body = refresh(world.member, world, link).get_json()
    assert body["status"] == status and body["title"] == "MR"
    assert provider.calls[0].request.headers["PRIVATE-TOKEN"] == "tok-123"


@pytest.mark.parametrize(("state", "status"), [("opened", "open"), ("closed", "closed")])
def test_gitlab_issue_states(world: World, provider: responses.RequestsMock, state: str, status: str) -> None:
    give_credential(world.member.user, "gitlab")
    link = add(world.member, world, "https://gitlab.com/group/sub/proj/-/issues/8").get_json()
    provider.get(f"{GL}/issues/8", json={"state": state, "title": "Issue"})
    assert refresh(world.member, world, link).get_json()["status"] == status


def test_self_hosted_gitlab_under_a_relative_root(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "gitlab", base_url="https://example.org/gitlab")
    link = add(world.member, world, "https://example.org/gitlab/team/app/-/merge_requests/3").get_json()
    provider.get(
        "https://example.org/gitlab/api/v4/projects/team%2Fapp/merge_requests/3",
        json={"state": "merged", "title": "Self-hosted"},
    )
    body = refresh(world.member, world, link).get_json()
    assert body["status"] == "merged" and body["title"] == "Self-hosted"


def test_commit_links_stay_unknown_but_get_a_title(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/acme/api/commit/0123abcd").get_json()
    provider.get(f"{GH}/commits/0123abcd", json={"commit": {"message": "Fix bug\n\nLong text"}})
    body = refresh(world.member, world, link).get_json()
    assert body["status"] == "unknown" and body["title"] == "Fix bug"


def test_branch_links_stay_unknown_without_a_call(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/acme/api/tree/main").get_json()
    body = refresh(world.member, world, link).get_json()
    assert body["status"] == "unknown" and len(provider.calls) == 0


def test_generic_links_refresh_unchanged_without_a_call(
    world: World, provider: responses.RequestsMock, net: Any
) -> None:
    link = add(world.member, world, "https://example.org/wiki").get_json()
    response = refresh(world.member, world, link)
    assert response.status_code == 200 and response.get_json() == link
    assert len(provider.calls) == 0 and net.resolver.calls == []


def test_no_credential_prompts_to_connect(world: World, provider: responses.RequestsMock) -> None:
    link = add(world.member, world, "https://github.com/acme/api/pull/7").get_json()
    response = refresh(world.viewer, world, link)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "credential_required" and body["provider"] == "github"
    assert body["connect_url"] == "/me/settings/connected-accounts#github" and body["detail"]
    assert len(provider.calls) == 0


def test_credential_must_match_the_links_host(world: World, provider: responses.RequestsMock) -> None:
    # A GitLab.com link is not refreshed with a token that belongs to a self-hosted GitLab.
    give_credential(world.member.user, "gitlab", base_url="https://gitlab.example.org")
    link = add(world.member, world, "https://gitlab.com/group/sub/proj/-/merge_requests/5").get_json()
    response = refresh(world.member, world, link)
    assert response.status_code == 422 and response.get_json()["code"] == "credential_required"
    assert len(provider.calls) == 0


# --- failures keep what was cached ----------------------------------------------------


def _merged_link(world: World, provider: responses.RequestsMock) -> dict[str, Any]:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/acme/api/pull/7").get_json()
    provider.get(f"{GH}/pulls/7", json={"state": "closed", "merged": True, "title": "Fix login"})
    good = refresh(world.member, world, link).get_json()
    assert good["status"] == "merged"
    return good


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({"status": 401, "json": {}}, "token_rejected"),
        ({"status": 403, "json": {}, "headers": {"X-RateLimit-Remaining": "0"}}, "provider_rate_limited"),
        ({"status": 429, "json": {}}, "provider_rate_limited"),
        ({"status": 403, "json": {}}, "provider_forbidden"),
        ({"status": 404, "json": {}}, "not_found"),
        ({"status": 500, "json": {}}, "provider_unreachable"),
        ({"status": 502, "body": "<html>bad gateway</html>"}, "provider_unreachable"),
        ({"status": 200, "body": "not json"}, "provider_bad_response"),
        ({"status": 200, "json": ["a list"]}, "provider_bad_response"),
        ({"body": requests.exceptions.ConnectionError("down")}, "provider_unreachable"),
        ({"body": requests.exceptions.ReadTimeout("slow")}, "provider_timeout"),
    ],
)
def test_failures_keep_cached_status_and_title(
    world: World, provider: responses.RequestsMock, answer: dict[str, Any], code: str
) -> None:
    good = _merged_link(world, provider)
    provider.replace(responses.GET, f"{GH}/pulls/7", **answer)
    response = refresh(world.member, world, good)
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "merged" and body["title"] == "Fix login"
    assert body["fetched_at"] == good["fetched_at"]  # "as of" still tells the truth
    assert body["refresh_error"]["code"] == code
    assert body["refresh_error"]["detail"] and body["refresh_error"]["at"].endswith("Z")
    # The next good refresh clears the error.
    provider.replace(responses.GET, f"{GH}/pulls/7", json={"state": "open", "title": "Reopened"})
    again = refresh(world.member, world, good).get_json()
    assert again["refresh_error"] is None and again["status"] == "open"


def test_blocked_host_keeps_cache_and_hides_the_address(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "gitlab", base_url="https://private.example.org")
    link = add(world.member, world, "https://private.example.org/g/p/-/merge_requests/1").get_json()
    body = refresh(world.member, world, link).get_json()
    assert body["refresh_error"]["code"] == "blocked_host"
    assert "10.9.8.7" not in str(body)
    assert body["status"] == "unknown" and len(provider.calls) == 0


def test_unreadable_credential_is_a_refresh_error_not_a_500(
    app: Any, world: World, provider: responses.RequestsMock
) -> None:
    good = _merged_link(world, provider)
    app.config["INTEGRATION_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    response = refresh(world.member, world, good)
    assert response.status_code == 200
    body = response.get_json()
    assert body["refresh_error"]["code"] == "credential_unreadable" and body["status"] == "merged"


def test_custom_title_survives_refresh(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github")
    link = add(world.member, world, "https://github.com/acme/api/pull/7", custom_title="Mine").get_json()
    provider.get(f"{GH}/pulls/7", json={"state": "open", "title": "Theirs"})
    body = refresh(world.member, world, link).get_json()
    assert body["custom_title"] == "Mine" and body["title"] == "Theirs" and body["display_title"] == "Mine"


def test_empty_provider_title_keeps_the_old_one(world: World, provider: responses.RequestsMock) -> None:
    good = _merged_link(world, provider)
    provider.replace(responses.GET, f"{GH}/pulls/7", json={"state": "open", "title": ""})
    assert refresh(world.member, world, good).get_json()["title"] == "Fix login"


def test_a_credential_row_is_never_in_a_link(world: World, provider: responses.RequestsMock) -> None:
    good = _merged_link(world, provider)
    ciphertext = db.session.query(Credential).one().ciphertext
    assert ciphertext not in str(good) and "tok-123" not in str(good)
