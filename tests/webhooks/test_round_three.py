"""SPEC §27 (and §26 same-second times) on the delivery and refresh paths: bounded addresses,
one GitLab parser, never backwards everywhere, archived means frozen, numbers of 19 digits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses

from ppm.extensions import db
from ppm.integrations.providers import gitlab
from ppm.links.models import TaskLink
from ppm.webhooks import matching
from ppm.webhooks import services as webhook_services
from tests.links.conftest import give_credential
from tests.webhooks.conftest import EXAMPLE_PR, Hooks, github_example, gitlab_merge_request

API_PR = "https://api.github.com/repos/Codertocat/Hello-World/pulls/2"
MR = "https://gitlab.com/awesome_space/awesome_project/-/merge_requests/1"


def _pull(url: str = EXAMPLE_PR, updated_at: Any = "2019-05-15T15:21:18Z", **fields: Any) -> dict[str, Any]:
    payload = github_example("pull_request.closed")
    payload["pull_request"].update({"html_url": url, "updated_at": updated_at, **fields})
    if updated_at is None:
        payload["pull_request"].pop("updated_at")
    return payload


def _stored_time(link: dict[str, Any]) -> datetime | None:
    db.session.expire_all()
    value = db.session.get(TaskLink, link["id"]).provider_updated_at
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def in_thread(call: Any) -> Any:
    """Run `call` in its own thread (its own app context and session, like another request
    arriving meanwhile) and hand back what it returned."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.start()
    thread.join(timeout=60)
    return result[0] if result else None


def refresh(hooks: Hooks, link: dict[str, Any]) -> Any:
    url = f"/api/v1/projects/{hooks.project_id}/tasks/{link['task_id']}/links/{link['id']}/refresh/"
    return hooks.member.api("POST", url)


# --- bounded addresses ----------------------------------------------------------------------


def test_an_address_over_2048_bytes_is_400_and_recorded(hooks: Hooks) -> None:
    github, lab = hooks.create(), hooks.create("gitlab")
    long_pull = "https://github.com/" + "a/" * 1100 + "Codertocat/Hello-World/pull/2"
    response = hooks.sender.github(github, "pull_request", _pull(long_pull))
    assert response.status_code == 400 and response.get_json()["code"] == "bad_payload"
    assert "2048" in response.get_json()["detail"]
    assert hooks.receiver(github)["last_delivery_result"] == "bad_payload"
    long_mr = "https://gitlab.com/" + "é/" * 700 + "acme/api/-/merge_requests/1"  # 2 bytes a character
    assert len(long_mr) < 2048 < len(long_mr.encode())
    payload = gitlab_merge_request(MR)
    payload["object_attributes"]["url"] = long_mr
    refused = hooks.sender.gitlab(lab, "Merge Request Hook", payload)
    assert refused.status_code == 400 and refused.get_json()["code"] == "bad_payload"


def test_an_address_of_exactly_2048_bytes_is_read(hooks: Hooks) -> None:
    hook = hooks.create()
    tail = "/Codertocat/Hello-World/pull/2"
    url = "https://github.com" + "/x" * ((2048 - len("https://github.com") - len(tail)) // 2) + tail
    url = url.replace("https://github.com", "https://github.com" + "/y" * ((2048 - len(url)) // 2), 1)
    assert len(url.encode()) in (2047, 2048)
    assert hooks.sender.github(hook, "pull_request", _pull(url)).get_json() == {"matched": 0}


def test_a_review_event_naming_a_long_address_is_400(hooks: Hooks) -> None:
    hook = hooks.create()
    payload = github_example("pull_request_review.submitted")
    payload["pull_request"]["html_url"] = "https://github.com/" + "a" * 2100 + "/x/pull/2"
    response = hooks.sender.github(hook, "pull_request_review", payload)
    assert response.status_code == 400 and response.get_json()["code"] == "bad_payload"


def test_matching_reads_gitlab_addresses_with_the_providers_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """One parser: what gitlab.parse_object_path says is what matching says."""
    seen: list[str] = []
    real = gitlab.parse_object_path

    def spy(path: str, **kwargs: Any) -> Any:
        seen.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(gitlab, "parse_object_path", spy)
    key = matching.object_key("gitlab", "https://gitlab.com/group/sub/proj/-/issues/incident/23")
    assert key == matching.ObjectKey("gitlab.com", "group/sub/proj", "issue", "23")
    assert seen == ["/group/sub/proj/-/issues/incident/23"]
    assert gitlab.object_ref("/group/sub/proj/-/issues/incident/23") == ("group/sub/proj", "issues", "23")


@pytest.mark.parametrize(
    ("path", "ref"),
    [
        ("/group/proj/merge_requests/5", ("group/proj", "merge_requests", "5")),
        ("/group/sub/proj/issues/incident/5/x", ("group/sub/proj", "issues", "5")),
        ("/group/proj/-/merge_requests/5", ("group/proj", "merge_requests", "5")),
        ("/proj/merge_requests/5", None),
        ("/groups/acme/sub/work_items/5", None),
        ("/group/proj/merge_requests/x/issues/6", ("group/proj/merge_requests/x", "issues", "6")),
        ("/" + "a/" * 3000 + "merge_requests/x", None),
    ],
)
def test_older_addresses_without_the_dash(path: str, ref: tuple[str, str, str] | None) -> None:
    assert gitlab.parse_object_path(path, undashed=True) == ref
    if "/-/" not in path:
        assert gitlab.object_ref(path) is None  # refresh reads only the current addresses


def test_a_number_of_19_digits_or_other_digits_is_no_match(hooks: Hooks) -> None:
    hook = hooks.create()
    eighteen = "9" * 18
    link = hooks.link(f"https://github.com/Codertocat/Hello-World/pull/{eighteen}")
    assert hooks.sender.github(hook, "pull_request", _pull(link["url"])).get_json() == {"matched": 1}
    for number in ("9" * 19, "9" * 1900, "²", "١٢"):
        url = f"https://github.com/Codertocat/Hello-World/pull/{number}"
        assert matching.object_number("github", url) is None
        assert matching.object_key("gitlab", f"https://gitlab.com/a/b/-/merge_requests/{number}") is None
        response = hooks.sender.github(hook, "pull_request", _pull(url))
        assert response.status_code == 200 and response.get_json() == {"matched": 0}, response.get_json()


def test_a_60000_digit_pull_number_is_a_clear_400_not_database_unavailable(hooks: Hooks) -> None:
    hook = hooks.create()
    hooks.link(EXAMPLE_PR)
    response = hooks.sender.github(hook, "pull_request", _pull("https://github.com/a/b/pull/" + "7" * 60000))
    assert response.status_code == 400 and response.get_json()["code"] == "bad_payload"


# --- never backwards, everywhere --------------------------------------------------------------


def test_same_second_as_a_millisecond_api_time_is_applied(
    hooks: Hooks, provider: responses.RequestsMock, allow_egress: None
) -> None:
    give_credential(hooks.member.user, "github")
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    provider.get(
        API_PR, json={"state": "open", "merged": False, "title": "Open", "updated_at": "2019-05-15T15:21:18.700Z"}
    )
    assert refresh(hooks, link).get_json()["status"] == "open"
    # The webhook of the same version (GitHub's webhook times have no milliseconds).
    closed = _pull(updated_at="2019-05-15T15:21:18Z", merged=True)
    assert hooks.sender.github(hook, "pull_request", closed).get_json() == {"matched": 1}
    assert hooks.get_link(link)["status"] == "merged"
    # One second older is still older.
    stale = _pull(updated_at="2019-05-15T15:21:17Z", state="open", merged=False)
    assert hooks.sender.github(hook, "pull_request", stale).get_json() == {"matched": 0}


def test_a_delivery_without_a_time_never_overrides_an_applied_time(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    assert hooks.sender.github(hook, "pull_request", _pull(merged=True)).get_json() == {"matched": 1}
    timeless = _pull(updated_at=None, state="open", merged=False)
    assert hooks.sender.github(hook, "pull_request", timeless).get_json() == {"matched": 0}
    assert hooks.get_link(link)["status"] == "merged"


def test_a_delivery_without_a_time_applies_to_a_link_with_none(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    assert hooks.sender.github(hook, "pull_request", _pull(updated_at=None, merged=True)).get_json() == {"matched": 1}
    assert hooks.get_link(link)["status"] == "merged"


def test_a_far_future_time_counts_as_now_and_freezes_nothing(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    future = _pull(updated_at="9999-01-01T00:00:00Z", merged=True)
    assert hooks.sender.github(hook, "pull_request", future).get_json() == {"matched": 1}
    stored = _stored_time(link)
    assert stored is not None and stored < datetime.now(UTC) + timedelta(minutes=1)
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reopened = _pull(updated_at=later, state="open", merged=False)
    assert hooks.sender.github(hook, "pull_request", reopened).get_json() == {"matched": 1}
    assert hooks.get_link(link)["status"] == "open"


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-13-40T00:00:00Z", "2026-02-30 10:00:00 UTC"],
)
def test_an_unrepresentable_time_is_400_and_recorded(hooks: Hooks, value: str) -> None:
    github, lab = hooks.create(), hooks.create("gitlab")
    link = hooks.link(EXAMPLE_PR)
    response = hooks.sender.github(github, "pull_request", _pull(updated_at=value, merged=True))
    assert response.status_code == 400 and response.get_json()["code"] == "bad_payload"
    assert hooks.receiver(github)["last_delivery_result"] == "bad_payload"
    assert hooks.get_link(link)["status"] == "unknown"
    refused = hooks.sender.gitlab(lab, "Merge Request Hook", gitlab_merge_request(MR, updated_at=value))
    assert refused.status_code == 400 and hooks.receiver(lab)["last_delivery_result"] == "bad_payload"


def test_an_unrepresentable_time_in_a_refresh_is_a_bad_response(
    hooks: Hooks, provider: responses.RequestsMock, allow_egress: None
) -> None:
    give_credential(hooks.member.user, "github")
    link = hooks.link(EXAMPLE_PR)
    provider.get(
        API_PR, json={"state": "closed", "merged": True, "title": "T", "updated_at": "0001-01-01T00:00:00+01:00"}
    )
    body = refresh(hooks, link).get_json()
    assert body["status"] == "unknown" and body["refresh_error"]["code"] == "provider_bad_response"


def test_a_refresh_in_flight_when_a_newer_webhook_lands_changes_only_fetched_at(
    hooks: Hooks, provider: responses.RequestsMock, allow_egress: None
) -> None:
    """The real order: the refresh reads the link and calls GitHub; while GitHub answers (the
    older, open state), the merge's webhook arrives and is applied; then the answer lands."""
    give_credential(hooks.member.user, "github")
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    delivered: list[Any] = []

    def github_answers(request: Any) -> tuple[int, dict[str, str], str]:
        merged = _pull(updated_at="2019-05-15T15:30:00Z", merged=True, title="Merged")
        delivered.append(in_thread(lambda: hooks.sender.github(hook, "pull_request", merged).get_json()))
        body = '{"state": "open", "merged": false, "title": "Still open", "updated_at": "2019-05-15T15:29:59Z"}'
        return 200, {"Content-Type": "application/json"}, body

    provider.add_callback(responses.GET, API_PR, callback=github_answers)
    before = hooks.get_link(link)
    answer = refresh(hooks, link)
    assert delivered == [{"matched": 1}]
    assert answer.status_code == 200
    after = hooks.get_link(link)
    assert after["status"] == "merged" and after["title"] == "Merged"
    assert after["fetched_at"] and after["fetched_at"] != before["fetched_at"]
    assert _stored_time(link) == datetime(2019, 5, 15, 15, 30, tzinfo=UTC)


# --- archived means frozen ------------------------------------------------------------------


def test_archiving_while_a_refresh_is_in_flight_freezes_the_link(
    hooks: Hooks, provider: responses.RequestsMock, allow_egress: None
) -> None:
    give_credential(hooks.member.user, "github")
    link = hooks.link(EXAMPLE_PR)

    def github_answers(request: Any) -> tuple[int, dict[str, str], str]:
        archived = in_thread(lambda: hooks.admin.api("POST", f"/api/v1/projects/{hooks.project_id}/archive/"))
        assert archived is not None and archived.status_code == 200
        body = '{"state": "closed", "merged": true, "title": "Merged", "updated_at": "2019-05-15T15:30:00Z"}'
        return 200, {"Content-Type": "application/json"}, body

    provider.add_callback(responses.GET, API_PR, callback=github_answers)
    answer = refresh(hooks, link)
    assert answer.status_code == 200, answer.get_json()
    after = hooks.get_link(link)
    assert after["status"] == "unknown" and after["fetched_at"] is None


def test_archiving_while_a_delivery_is_matched_freezes_the_link(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> None:
    """Archiving answers between the delivery's matching and its writes: the flag is read under
    the lock, so nothing changes."""
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    real = webhook_services.link_matcher

    statuses: list[int] = []

    def archive_meanwhile(provider: str, url: str) -> Any:
        archived = in_thread(lambda: hooks.admin.api("POST", f"/api/v1/projects/{hooks.project_id}/archive/"))
        statuses.append(archived.status_code if archived is not None else 0)
        return real(provider, url)

    monkeypatch.setattr(webhook_services, "link_matcher", archive_meanwhile)
    response = hooks.sender.github(hook, "pull_request", _pull(merged=True))
    assert statuses == [200]
    assert response.status_code == 202 and response.get_json() == {"ignored": "archived"}
    assert hooks.get_link(link)["status"] == "unknown"


# --- receivers can't be starved: a delivery racing the deletion of its receiver ---------------


@pytest.mark.parametrize("event", ["pull_request", "ping"])
def test_a_delivery_racing_its_receivers_deletion_is_404_or_normal(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch, event: str
) -> None:
    hook = hooks.create()
    hooks.link(EXAMPLE_PR)
    real = webhook_services.projects.lock_sequence
    deleted: list[int] = []

    def delete_meanwhile(project_id: str) -> None:
        if not deleted:
            gone = in_thread(lambda: hooks.admin.api("DELETE", f"{hooks.api}{hook.id}/"))
            deleted.append(gone.status_code if gone is not None else 0)
        real(project_id)

    monkeypatch.setattr(webhook_services.projects, "lock_sequence", delete_meanwhile)
    payload = _pull(merged=True) if event == "pull_request" else github_example("ping")
    response = hooks.sender.github(hook, event, payload)
    assert deleted == [204]
    assert response.status_code in (200, 404), response.get_json()
    if response.status_code == 404:
        assert response.get_json()["code"] == "not_found"
