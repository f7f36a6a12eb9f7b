"""SPEC §25 routes and rules: who may manage subscriptions, what a subscription looks like in
JSON, what is refused (400 validation_error on the field), the secret shown once."""

from __future__ import annotations

import base64

import pytest
from standardwebhooks.webhooks import Webhook

from ppm import crypto
from ppm.extensions import db
from ppm.notifications.models import NotificationSubscription
from tests.conftest import TokenClient, client_for
from tests.notifications.conftest import HOOKS, PRIVATE_NAME, World, drain, url_of
from tests.support.receiver import Receiver

FIELDS = {
    "id",
    "url",
    "format",
    "events",
    "enabled",
    "disabled_reason",
    "created_at",
    "last_delivery_at",
    "last_delivery_result",
    "failures",
}


def test_create_answers_the_row_and_a_secret_shown_once_stored_encrypted(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver), "standard", ["task.state_changed", "link.status_changed"])
    secret = created.pop("secret")
    assert set(created) == FIELDS
    assert created["events"] == ["link.status_changed", "task.state_changed"]  # SPEC order
    assert created["enabled"] is True and created["failures"] == 0 and created["last_delivery_at"] is None
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32

    row = db.session.get(NotificationSubscription, created["id"])
    assert row is not None and row.secret_ciphertext and secret not in row.secret_ciphertext
    assert crypto.decrypt(row.secret_ciphertext) == secret

    listed = world.admin.api("GET", world.base)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.get_json()] == [created["id"]]
    assert secret not in listed.get_data(as_text=True)
    one = world.admin.api("GET", f"{world.base}{created['id']}/")
    assert one.get_json() == created and secret not in one.get_data(as_text=True)


def test_slack_subscriptions_have_no_secret(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver), "slack")
    assert "secret" not in created
    rotate = world.admin.api("POST", f"{world.base}{created['id']}/rotate-secret/")
    assert rotate.status_code == 400 and "format" in rotate.get_json()["fields"]


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_only_admins_and_owners_see_or_manage_subscriptions(world: World, receiver: Receiver, who: str) -> None:
    created = world.subscribe(url_of(receiver))
    client: TokenClient = getattr(world, who)
    sid = created["id"]
    calls = [
        ("GET", world.base, None),
        ("POST", world.base, {"url": url_of(receiver), "events": ["task.state_changed"]}),
        ("GET", f"{world.base}{sid}/", None),
        ("PATCH", f"{world.base}{sid}/", {"enabled": False}),
        ("DELETE", f"{world.base}{sid}/", None),
        ("POST", f"{world.base}{sid}/rotate-secret/", None),
        ("POST", f"{world.base}{sid}/test/", None),
        ("GET", f"{world.base}{sid}/deliveries/", None),
        ("POST", f"{world.base}{sid}/deliveries/x/redeliver/", None),
    ]
    for method, url, body in calls:
        response = client.api(method, url, json=body)
        assert response.status_code == 403, (method, url, response.get_json())
        assert url_of(receiver) not in response.get_data(as_text=True)


def test_a_non_member_gets_404(world: World, make: object, receiver: Receiver) -> None:
    stranger = client_for(world.app, make.user())  # type: ignore[attr-defined]
    assert stranger.api("GET", world.base).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/in",
        "https://",
        "not a url",
        "https://127.0.0.1/in",
        "https://localhost/in",
        "https://10.0.0.8/in",
        "https://169.254.169.254/latest",
        f"https://{PRIVATE_NAME}/in",
        "https://nowhere.example.com/in",  # does not resolve
        "https://[::1]/in",
        "",
        None,
        7,
    ],
)
def test_bad_urls_are_400_on_url(world: World, url: object) -> None:
    response = world.admin.api("POST", world.base, json={"url": url, "events": ["task.state_changed"]})
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["code"] == "validation_error" and list(body["fields"]) == ["url"]
    assert db.session.query(NotificationSubscription).count() == 0


def test_http_needs_integration_allow_http(world: World, receiver: Receiver) -> None:
    world.app.config["INTEGRATION_ALLOW_HTTP"] = False
    response = world.admin.api("POST", world.base, json={"url": url_of(receiver), "events": ["task.state_changed"]})
    assert response.status_code == 400 and "https" in response.get_json()["fields"]["url"][0]
    response = world.admin.api(
        "POST", world.base, json={"url": f"https://{HOOKS}/in", "events": ["task.state_changed"]}
    )
    assert response.status_code == 201


@pytest.mark.parametrize("events", [[], ["task.deleted"], "nope", None, [1], {"a": 1}])
def test_bad_events_are_400_on_events(world: World, receiver: Receiver, events: object) -> None:
    response = world.admin.api("POST", world.base, json={"url": url_of(receiver), "events": events})
    assert response.status_code == 400
    assert list(response.get_json()["fields"]) == ["events"]


def test_bad_format_and_bodies(world: World, receiver: Receiver) -> None:
    bad = world.admin.api("POST", world.base, json={"url": url_of(receiver), "events": ["ping"], "format": "xml"})
    assert bad.status_code == 400 and set(bad.get_json()["fields"]) == {"format", "events"}
    assert world.admin.api("POST", world.base, json=["x"]).status_code == 400
    assert world.admin.api("POST", world.base, data="{", content_type="application/json").status_code == 400


def test_patch_events_and_enabled_and_reenabling_resets_failures(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver))
    url = f"{world.base}{created['id']}/"
    changed = world.admin.api("PATCH", url, json={"events": ["task.attention_changed"]})
    assert changed.status_code == 200 and changed.get_json()["events"] == ["task.attention_changed"]
    assert world.admin.api("PATCH", url, json={"events": []}).status_code == 400
    assert world.admin.api("PATCH", url, json={"enabled": "maybe"}).status_code == 400

    row = db.session.get(NotificationSubscription, created["id"])
    assert row is not None
    row.enabled, row.failures, row.disabled_reason = False, 20, "failures"
    db.session.commit()
    shown = world.admin.api("GET", url).get_json()
    assert shown["enabled"] is False and shown["failures"] == 20
    enabled = world.admin.api("PATCH", url, json={"enabled": True}).get_json()
    assert enabled["enabled"] is True and enabled["failures"] == 0 and enabled["disabled_reason"] is None


def test_delete(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver))
    assert world.admin.api("DELETE", f"{world.base}{created['id']}/").status_code == 204
    assert world.admin.api("GET", f"{world.base}{created['id']}/").status_code == 404
    assert world.admin.api("GET", world.base).get_json() == []


def test_rotate_secret_answers_a_new_secret_and_the_old_one_no_longer_signs(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver))
    old = created["secret"]
    rotated = world.admin.api("POST", f"{world.base}{created['id']}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    new = rotated.get_json()["secret"]
    assert new != old and new.startswith("whsec_")
    assert world.admin.api("POST", f"{world.base}{created['id']}/test/").status_code == 202
    drain()
    (ping,) = receiver.received
    headers = {k: v for k, v in ping.headers.items() if k.startswith("webhook-")}
    Webhook(new).verify(ping.body, headers)
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(old).verify(ping.body, headers)


def test_test_queues_a_ping_to_that_subscription_alone(world: World, receiver: Receiver) -> None:
    first = world.subscribe(url_of(receiver, "/one"))
    world.subscribe(url_of(receiver, "/two"))
    answer = world.admin.api("POST", f"{world.base}{first['id']}/test/")
    assert answer.status_code == 202
    assert receiver.received == []  # queued, not sent in the request
    drain()
    (ping,) = receiver.received
    assert ping.path == "/one"
    payload = Webhook(first["secret"]).verify(ping.body, ping.headers)
    assert payload["type"] == "ping" and payload["timestamp"].endswith("Z")
    assert payload["data"] == {"project": {"id": world.project_id, "key": "APO", "name": "Apollo"}}
    assert ping.webhook_id == answer.get_json()["event_id"]


def test_deliveries_log_and_redeliver_with_the_same_webhook_id(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver))
    sid = created["id"]
    for _ in range(3):
        world.admin.api("POST", f"{world.base}{sid}/test/")
    drain()
    log = world.admin.api("GET", f"{world.base}{sid}/deliveries/")
    assert log.status_code == 200
    rows = log.get_json()
    assert len(rows) == 3
    assert set(rows[0]) == {"id", "event_id", "type", "attempt", "at", "http_status", "error", "duration_ms"}
    assert all(r["http_status"] == 200 and r["error"] is None and r["attempt"] == 1 for r in rows)
    assert created["secret"] not in log.get_data(as_text=True)

    target = rows[-1]
    again = world.admin.api("POST", f"{world.base}{sid}/deliveries/{target['id']}/redeliver/")
    assert again.status_code == 202
    drain()
    assert len(receiver.received) == 4
    resent = receiver.received[-1]
    assert resent.webhook_id == target["event_id"]
    assert resent.body == next(r.body for r in receiver.received if r.webhook_id == target["event_id"])
    Webhook(created["secret"]).verify(resent.body, resent.headers)
    newest = world.admin.api("GET", f"{world.base}{sid}/deliveries/").get_json()[0]
    assert newest["event_id"] == target["event_id"] and newest["attempt"] == 2
    missing = world.admin.api("POST", f"{world.base}{sid}/deliveries/nope/redeliver/")
    assert missing.status_code == 404


def test_the_log_keeps_the_last_50(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver))
    for _ in range(53):
        world.admin.api("POST", f"{world.base}{created['id']}/test/")
    drain()
    assert len(receiver.received) == 53
    assert len(world.admin.api("GET", f"{world.base}{created['id']}/deliveries/").get_json()) == 50
