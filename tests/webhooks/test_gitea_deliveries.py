"""Gitea and Forgejo deliveries (SPEC §24 with §13 and §15): `POST /hooks/gitea/{w}`, signed with
a bare hex HMAC-SHA256 of the raw body in `X-Gitea-Signature` or `X-Forgejo-Signature`, the event
in `X-Gitea-Event` / `X-Forgejo-Event`, the delivery id in `X-Gitea-Delivery` / `X-Forgejo-Delivery`.

Payloads: `PullRequestPayload`, `IssuePayload` and `CommitStatusPayload` of Gitea's
`modules/structs/hook.go`, built in `tests/integrations/data/gitea_api.py`. Headers: the ones
`services/webhook/deliver.go` sets (Gitea also sends X-GitHub-* and X-Gogs-* copies; Forgejo sends
X-Forgejo-* beside the X-Gitea-* ones). The refresh a review event queues answers with the swagger
bodies of the same module."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient

from ppm.extensions import db
from ppm.integrations.models import Credential
from ppm.links.models import TaskLink
from tests.integrations.data import gitea_api as g
from tests.jobs.conftest import app_config, needs_redis, redis_conn, run_worker  # noqa: F401 - fixtures
from tests.links.conftest import give_credential
from tests.support.netguard import NetGuard
from tests.webhooks.conftest import Hook, Hooks

PR = "https://codeberg.org/forgejo/website/pulls/7"
ISSUE = "https://codeberg.org/forgejo/website/issues/3"
API = "https://codeberg.org/api/v1/repos/forgejo/website"


@pytest.fixture(autouse=True)
def _codeberg(net: NetGuard) -> Iterator[None]:
    net.resolver.add("codeberg.org", "217.197.91.145")
    yield


_count = iter(range(1, 10_000))


def send(
    client: FlaskClient,
    hook: Hook,
    event: str,
    payload: Any,
    *,
    family: str = "gitea",
    delivery: str | None = None,
    secret: str | None = None,
    signature: str | None = None,
    path: str | None = None,
) -> Any:
    """Post as Gitea (`family="gitea"`: X-Gitea-* with its X-GitHub-*/X-Gogs-* copies), as Forgejo
    (`forgejo`: X-Forgejo-* and X-Gitea-*), or with Forgejo's own headers alone (`forgejo-only`)."""
    body = json.dumps(payload, indent=2).encode()  # Gitea indents its payloads: the raw bytes are signed
    digest = hmac.new((secret or hook.secret).encode(), body, hashlib.sha256).hexdigest()
    signed = digest if signature is None else signature
    delivery = delivery or f"4b6ed3b5-2a1c-4f6e-9d3a-0c7e5f{next(_count):06d}"
    gitea = {
        "X-Gitea-Delivery": delivery,
        "X-Gitea-Event": event,
        "X-Gitea-Event-Type": event,
        "X-Gitea-Signature": signed,
    }
    forgejo = {
        "X-Forgejo-Delivery": delivery,
        "X-Forgejo-Event": event,
        "X-Forgejo-Event-Type": event,
        "X-Forgejo-Signature": signed,
    }
    copies = {
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Event": event,
        "X-Gogs-Delivery": delivery,
        "X-Gogs-Event": event,
        "X-Gogs-Signature": signed,
    }
    headers = {"Content-Type": "application/json", "User-Agent": "Go-http-client/1.1"}
    if family == "gitea":
        headers |= gitea | copies
    elif family == "forgejo":
        headers |= forgejo | gitea | copies
    else:
        headers |= forgejo
    return client.post(path or hook.path, data=body, headers={k: v for k, v in headers.items() if v != ""})


FAMILIES = ["gitea", "forgejo", "forgejo-only"]


# --- receivers ------------------------------------------------------------------------------


def test_a_gitea_receiver_has_its_own_payload_url(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    assert hook.provider == "gitea" and hook.url.endswith(f"/hooks/gitea/{hook.id}")
    assert hooks.receiver(hook)["provider"] == "gitea"


def test_a_receiver_of_another_provider_is_not_found(hooks: Hooks) -> None:
    gitea, github = hooks.create("gitea"), hooks.create("github")
    payload = g.pull_request_payload()
    assert (
        send(hooks.sender.client, gitea, "pull_request", payload, path=f"/hooks/github/{gitea.id}").status_code == 404
    )
    assert (
        send(hooks.sender.client, github, "pull_request", payload, path=f"/hooks/gitea/{github.id}").status_code == 404
    )


# --- pull requests and issues change links (§13) ----------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(
    ("action", "changes", "status"),
    [
        ("opened", {}, "open"),
        ("opened", {"draft": True}, "draft"),
        ("edited", {"title": "WIP: Update the contribution guide"}, "draft"),
        ("closed", {"state": "closed", "merged": True, "merged_at": "2026-12-02T12:00:00+01:00"}, "merged"),
        ("closed", {"state": "closed"}, "closed"),
        ("reopened", {}, "open"),
    ],
)
def test_pull_request_deliveries_with_either_header_family(
    hooks: Hooks, family: str, action: str, changes: dict[str, Any], status: str
) -> None:
    hook = hooks.create("gitea")
    link = hooks.link(PR + "/files", labels=["docs"])
    untouched = hooks.link("https://codeberg.org/forgejo/website/pulls/70")
    response = send(hooks.sender.client, hook, "pull_request", g.pull_request_payload(action, **changes), family=family)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["matched"] == 1
    after = hooks.get_link(link)
    assert after["status"] == status and after["labels"] == ["docs"] and after["fetched_at"]
    assert after["title"] == changes.get("title", "Update the contribution guide")
    assert hooks.get_link(untouched)["status"] == "unknown"
    assert hooks.receiver(hook)["last_delivery_result"] == "ok"


@pytest.mark.parametrize("family", FAMILIES)
def test_issue_deliveries(hooks: Hooks, family: str) -> None:
    hook = hooks.create("gitea")
    link = hooks.link(ISSUE)
    closed = g.issue_payload("closed", state="closed", updated_at="2026-12-03T10:00:00+01:00")
    assert send(hooks.sender.client, hook, "issues", closed, family=family).get_json() == {"matched": 1}
    assert hooks.get_link(link)["status"] == "closed"
    reopened = g.issue_payload("reopened", updated_at="2026-12-03T10:05:00+01:00")
    assert send(hooks.sender.client, hook, "issues", reopened, family=family).get_json() == {"matched": 1}
    assert hooks.get_link(link)["status"] == "open"


def test_an_issue_event_about_a_pull_request_changes_nothing(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    link = hooks.link("https://codeberg.org/forgejo/website/issues/7")
    payload = g.issue_payload("closed", number=7, state="closed")
    payload["issue"]["pull_request"] = {"merged": False, "merged_at": None, "html_url": PR}
    assert send(hooks.sender.client, hook, "issues", payload).get_json() == {"matched": 0}
    assert hooks.get_link(link)["status"] == "unknown"


def test_only_this_projects_links_and_only_the_same_repository(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    mine = hooks.link(PR)
    other_repo = hooks.link("https://codeberg.org/forgejo/forgejo/pulls/7")
    issue_seven = hooks.link("https://codeberg.org/forgejo/website/issues/7")
    elsewhere = hooks.link(PR, task_id=hooks.other_task_id, project_id=hooks.other_project_id)
    payload = g.pull_request_payload("closed", state="closed")
    assert send(hooks.sender.client, hook, "pull_request", payload).get_json() == {"matched": 1}
    assert hooks.get_link(mine)["status"] == "closed"
    assert hooks.get_link(other_repo)["status"] == "unknown"
    assert hooks.get_link(issue_seven)["status"] == "unknown"  # a pull is not the issue of the same number
    assert hooks.get_link(elsewhere, project_id=hooks.other_project_id)["status"] == "unknown"


def test_repository_path_matches_case_insensitively(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    link = hooks.link("https://codeberg.org/Forgejo/Website/pulls/7")
    assert send(hooks.sender.client, hook, "pull_request", g.pull_request_payload()).get_json() == {"matched": 1}
    assert hooks.get_link(link)["status"] == "open"


def test_a_self_hosted_instance_under_a_sub_path(hooks: Hooks) -> None:
    give_credential(hooks.member.user, "gitea", base_url="https://example.org/gitea")
    html = "https://example.org/gitea/forgejo/website"
    link = hooks.link(f"{html}/pulls/7")
    assert link["provider"] == "gitea"
    hook = hooks.create("gitea")
    payload = g.pull_request_payload("closed", html=html, state="closed", merged=True)
    assert send(hooks.sender.client, hook, "pull_request", payload).get_json() == {"matched": 1}
    assert hooks.get_link(link)["status"] == "merged"
    codeberg = g.pull_request_payload("closed", state="closed")  # the same path on another host
    assert send(hooks.sender.client, hook, "pull_request", codeberg).get_json() == {"matched": 0}


def test_never_backwards_with_offsets(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    link = hooks.link(PR)
    merged = g.pull_request_payload("closed", state="closed", merged=True, updated_at="2026-12-02T12:00:00+01:00")
    assert send(hooks.sender.client, hook, "pull_request", merged).get_json() == {"matched": 1}
    late = g.pull_request_payload("edited", updated_at="2026-12-02T11:59:59Z".replace("Z", "+01:00"))
    assert send(hooks.sender.client, hook, "pull_request", late).get_json() == {"matched": 0}
    assert hooks.get_link(link)["status"] == "merged"
    # The same instant written in UTC is not older: 11:00Z == 12:00+01:00 (same second applies, §26).
    later = g.pull_request_payload("reopened", updated_at="2026-12-02T11:00:01Z")
    assert send(hooks.sender.client, hook, "pull_request", later).get_json() == {"matched": 1}
    assert hooks.get_link(link)["status"] == "open"


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_a_bad_signature_is_401_and_changes_nothing(hooks: Hooks, family: str) -> None:
    hook = hooks.create("gitea")
    link = hooks.link(PR)
    payload = g.pull_request_payload("closed", state="closed")
    for wrong in {"secret": "not-the-secret"}, {"signature": ""}, {"signature": "sha256=" + "0" * 64}:
        response = send(hooks.sender.client, hook, "pull_request", payload, family=family, **wrong)  # type: ignore[arg-type]
        assert response.status_code == 401 and response.get_json()["code"] == "bad_signature", wrong
    assert hooks.get_link(link)["status"] == "unknown"
    assert hooks.receiver(hook)["last_delivery_result"] == "bad_signature"
    assert hooks.receiver(hook)["deliveries"] == 0


def test_the_signature_covers_the_raw_body(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    payload = g.pull_request_payload()
    compact = json.dumps(payload).encode()
    digest = hmac.new(hook.secret.encode(), compact, hashlib.sha256).hexdigest()
    # Signed over other bytes (the same JSON, indented): refused.
    response = send(hooks.sender.client, hook, "pull_request", payload, signature=digest)
    assert response.status_code == 401


def test_an_upper_case_hex_signature_is_the_same_signature(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    link = hooks.link(PR)
    body = json.dumps(g.pull_request_payload("closed", state="closed")).encode()
    digest = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest().upper()
    response = hooks.sender.client.post(
        hook.path,
        data=body,
        headers={"Content-Type": "application/json", "X-Gitea-Event": "pull_request", "X-Gitea-Signature": digest},
    )
    assert response.status_code == 200 and hooks.get_link(link)["status"] == "closed"


def test_a_rotated_secret_stops_the_old_one(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    old = hook.secret
    rotated = hooks.admin.api("POST", f"{hooks.api}{hook.id}/rotate-secret/").get_json()
    payload = g.pull_request_payload()
    assert send(hooks.sender.client, hook, "pull_request", payload, secret=old).status_code == 401
    assert send(hooks.sender.client, hook, "pull_request", payload, secret=rotated["secret"]).status_code == 200


def test_a_body_that_is_not_the_promised_payload_is_400(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    response = send(hooks.sender.client, hook, "pull_request", {"action": "opened", "number": 7})
    assert response.status_code == 400 and response.get_json()["code"] == "bad_payload"
    response = send(hooks.sender.client, hook, "issues", ["not", "an", "object"])
    assert response.status_code == 400 and response.get_json()["code"] == "bad_payload"


@pytest.mark.parametrize(
    "event", ["push", "create", "delete", "fork", "issue_comment", "pull_request_comment", "release", "wiki", ""]
)
def test_other_events_are_ignored(hooks: Hooks, event: str) -> None:
    hook = hooks.create("gitea")
    link = hooks.link(PR)
    response = send(hooks.sender.client, hook, event, g.pull_request_payload("closed", state="closed"))
    assert response.status_code == 202 and response.get_json() == {"ignored": event}
    assert hooks.get_link(link)["status"] == "unknown"
    assert hooks.receiver(hook)["last_delivery_result"] == "ignored"


def test_an_archived_project_ignores_deliveries(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    link = hooks.link(PR)
    assert hooks.owner.api("POST", f"/api/v1/projects/{hooks.project_id}/archive/").status_code == 200
    response = send(hooks.sender.client, hook, "pull_request", g.pull_request_payload("closed", state="closed"))
    assert response.status_code == 202 and response.get_json() == {"ignored": "archived"}
    assert hooks.get_link(link)["status"] == "unknown"


# --- idempotency ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "again"), [("gitea", "gitea"), ("forgejo-only", "forgejo-only"), ("gitea", "forgejo")]
)
def test_a_duplicate_delivery_changes_nothing(hooks: Hooks, first: str, again: str) -> None:
    hook = hooks.create("gitea")
    link = hooks.link(PR)
    delivery = "0b2c9e8e-1d3f-4e5a-9b7c-6d5e4f3a2b1c"
    closed = g.pull_request_payload("closed", state="closed", updated_at="2026-12-02T12:00:00+01:00")
    assert send(hooks.sender.client, hook, "pull_request", closed, family=first, delivery=delivery).get_json() == {
        "matched": 1
    }
    # A redelivery of the same id (Gitea's "Redeliver" keeps it) changes nothing, even with a newer body.
    reopened = g.pull_request_payload("reopened", updated_at="2026-12-02T13:00:00+01:00")
    response = send(hooks.sender.client, hook, "pull_request", reopened, family=again, delivery=delivery)
    assert response.status_code == 200 and response.get_json() == {"duplicate": True}
    assert hooks.get_link(link)["status"] == "closed"
    assert hooks.receiver(hook)["deliveries"] == 2  # both accepted (2xx), one applied


# --- review and CI events queue a refresh (§15) ---------------------------------------------


REVIEW_EVENTS = [
    ("pull_request_approved", "pull_request_review_approved"),
    ("pull_request_rejected", "pull_request_review_rejected"),
    ("pull_request_review", "pull_request_review_comment"),
]


@pytest.mark.parametrize(("event", "kind"), REVIEW_EVENTS)
def test_without_redis_review_events_are_ignored_no_queue(hooks: Hooks, event: str, kind: str) -> None:
    hook = hooks.create("gitea")
    hooks.link(PR)
    response = send(hooks.sender.client, hook, event, g.review_payload(kind))
    assert response.status_code == 202 and response.get_json() == {"ignored": "no_queue"}


def test_without_redis_a_status_event_is_ignored_no_queue(hooks: Hooks) -> None:
    hook = hooks.create("gitea")
    response = send(hooks.sender.client, hook, "status", g.status_payload())
    assert response.status_code == 202 and response.get_json() == {"ignored": "no_queue"}


def _background(hooks: Hooks) -> None:
    credential: Credential = give_credential(hooks.member.user, "gitea", token="gitea-tok")
    credential.background_refresh = True
    db.session.commit()


@needs_redis[0]
@needs_redis[1]
@pytest.mark.parametrize("family", ["gitea", "forgejo-only"])
@pytest.mark.parametrize(("event", "kind"), REVIEW_EVENTS)
def test_a_review_event_queues_exactly_its_link_and_the_worker_refreshes_it(
    hooks: Hooks,
    app: Flask,
    provider: responses.RequestsMock,
    allow_egress: None,
    family: str,
    event: str,
    kind: str,
) -> None:
    _background(hooks)
    hook = hooks.create("gitea")
    mine = hooks.link(PR)
    other_number = hooks.link("https://codeberg.org/forgejo/website/pulls/8")
    elsewhere = hooks.link(PR, task_id=hooks.other_task_id, project_id=hooks.other_project_id)
    response = send(hooks.sender.client, hook, event, g.review_payload(kind), family=family)
    assert response.status_code == 200 and response.get_json() == {"queued": 1}

    provider.get(f"{API}/pulls/7", json=g.pull_request())
    provider.get(
        f"{API}/commits/{g.HEAD_SHA}/status?limit=50",
        json=g.combined_status("failure", [g.commit_status(1, "failure")]),
    )
    provider.get(f"{API}/pulls/7/reviews?limit=50&page=1", json=[g.review(1, "earl-warren", 12, "APPROVED")])
    run_worker(app)
    refreshed = hooks.get_link(mine)
    assert (refreshed["status"], refreshed["checks"], refreshed["review"]) == ("open", "failing", "approved")
    assert provider.calls[0].request.headers["Authorization"] == "token gitea-tok"
    assert hooks.get_link(other_number)["fetched_at"] is None
    assert hooks.get_link(elsewhere, project_id=hooks.other_project_id)["fetched_at"] is None


@needs_redis[0]
@needs_redis[1]
def test_a_status_event_matches_links_by_head_sha(hooks: Hooks, redis_conn: Any) -> None:  # noqa: F811 - the fixture
    hook = hooks.create("gitea")
    at_head = hooks.link(PR)
    row = db.session.get(TaskLink, at_head["id"])
    assert row is not None
    row.head_sha = g.HEAD_SHA
    db.session.commit()
    hooks.link("https://codeberg.org/forgejo/website/pulls/8")  # no head known: not matched
    response = send(hooks.sender.client, hook, "status", g.status_payload("success"))
    assert response.status_code == 200 and response.get_json() == {"queued": 1}
    assert len(redis_conn.keys("rq:job:*")) >= 1
    other = send(hooks.sender.client, hook, "status", g.status_payload("success", sha="1" * 40))
    assert other.get_json() == {"queued": 0}


@needs_redis[0]
@needs_redis[1]
def test_a_duplicate_review_event_queues_once(hooks: Hooks, redis_conn: Any) -> None:  # noqa: F811 - the fixture
    hook = hooks.create("gitea")
    hooks.link(PR)
    payload = g.review_payload("pull_request_review_approved")
    first = send(hooks.sender.client, hook, "pull_request_approved", payload, delivery="dup-1")
    again = send(hooks.sender.client, hook, "pull_request_approved", payload, delivery="dup-1", family="forgejo-only")
    assert first.get_json() == {"queued": 1} and again.get_json() == {"duplicate": True}


def test_the_form_content_type_signs_the_json_inside_payload(hooks: Hooks) -> None:
    """Gitea's other POST content type sends `payload=<json>` and signs the JSON itself
    (services/webhook/deliver.go signs `t.PayloadContent`, not the form)."""
    from urllib.parse import urlencode

    hook = hooks.create("gitea")
    link = hooks.link(PR)
    content = json.dumps(g.pull_request_payload("closed", state="closed"), indent=2)
    form = urlencode({"payload": content}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Gitea-Event": "pull_request"}
    right = hmac.new(hook.secret.encode(), content.encode(), hashlib.sha256).hexdigest()
    wrong = hmac.new(b"another secret", content.encode(), hashlib.sha256).hexdigest()
    refused = hooks.sender.client.post(hook.path, data=form, headers={**headers, "X-Gitea-Signature": wrong})
    assert refused.status_code == 401 and hooks.get_link(link)["status"] == "unknown"
    response = hooks.sender.client.post(hook.path, data=form, headers={**headers, "X-Gitea-Signature": right})
    assert response.status_code == 200 and response.get_json() == {"matched": 1}
    assert hooks.get_link(link)["status"] == "closed"


@needs_redis[0]
@needs_redis[1]
def test_a_pull_request_delivery_tells_the_head_a_later_status_names(hooks: Hooks, redis_conn: Any) -> None:  # noqa: F811 - the fixture
    hook = hooks.create("gitea")
    link = hooks.link(PR)
    synced = g.pull_request_payload("synchronized", updated_at="2026-12-02T12:00:00+01:00")
    assert send(hooks.sender.client, hook, "pull_request", synced).get_json() == {"matched": 1}
    db.session.expire_all()
    row = db.session.get(TaskLink, link["id"])
    assert row is not None and row.head_sha == g.HEAD_SHA
    response = send(hooks.sender.client, hook, "status", g.status_payload("failure"))
    assert response.status_code == 200 and response.get_json() == {"queued": 1}
