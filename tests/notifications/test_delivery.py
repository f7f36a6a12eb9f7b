"""Delivery (SPEC §25): the outbox written in the writer's transaction, Standard Webhooks and
Slack payloads, retries with growing waits, 410 and 20 failures in a row disabling, order per
subscription, at most 4 calls at once per host, the egress guard at every delivery."""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from standardwebhooks.webhooks import Webhook

from ppm import events
from ppm.extensions import db
from ppm.jobs import notify
from ppm.links.models import TaskLink
from ppm.models_base import utcnow
from ppm.notifications.models import NotificationAttempt, NotificationEvent, NotificationSubscription
from ppm.projects.models import Task
from tests.notifications.conftest import World, drain, events_of, make_due, url_of
from tests.support.netguard import NetGuard
from tests.support.receiver import Receiver

PULL = "https://github.com/acme/api/pull/7"


def _link(world: World, **fields: Any) -> TaskLink:
    link = TaskLink(
        project_id=world.project_id,
        task_id=world.task_id,
        url=PULL,
        url_key=PULL,
        provider="github",
        title="Fix the thing",
        status=fields.pop("status", "open"),
        fetched_at=utcnow(),
        **fields,
    )
    db.session.add(link)
    db.session.commit()
    return link


def _state(link: TaskLink) -> events.LinkState:
    return events.LinkState(
        status=link.status,
        checks=link.checks,
        review=link.review,
        closes=False,
        kind=link.kind,
        url=link.url,
        display_title=link.custom_title or link.title,
    )


def change_link(world: World, link: TaskLink, commit: bool = True, **changes: Any) -> None:
    """A link write as links' write path makes it: change, emit LinkChanged, commit."""
    before = _state(link)
    for key, value in changes.items():
        setattr(link, key, value)
    db.session.flush()
    events.emit(events.LinkChanged(world.project_id, world.task_id, link.id, before, _state(link)))
    if commit:
        db.session.commit()


def change_state(world: World, before: str, after: str) -> None:
    events.emit(events.TaskStateChanged(world.project_id, world.task_id, before, after, "person"))
    db.session.commit()


def test_a_link_change_is_delivered_signed_with_absolute_urls(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver))
    link = _link(world)
    change_link(world, link, status="merged", checks="passing", review="approved")
    (event,) = events_of(created["id"])
    assert event.status == "pending" and receiver.received == []
    assert drain() == 1
    (got,) = receiver.received
    payload = Webhook(created["secret"]).verify(got.body, got.headers)
    assert got.headers["content-type"] == "application/json"
    assert got.webhook_id == event.id and got.webhook_id.startswith("msg_")
    assert abs(int(got.headers["webhook-timestamp"]) - int(utcnow().timestamp())) < 60
    assert payload["type"] == "link.status_changed" and payload["timestamp"].endswith("Z")
    data = payload["data"]
    assert data["project"] == {"id": world.project_id, "key": "APO", "name": "Apollo"}
    assert data["task"] == {
        "id": world.task_id,
        "key": "APO-1",
        "name": "Ship it",
        "url": f"https://ppm.example.org/projects/{world.project_id}/schedule?task={world.task_id}",
    }
    assert data["link"] == {
        "id": link.id,
        "url": PULL,
        "display_title": "Fix the thing",
        "status": "merged",
        "checks": "passing",
        "review": "approved",
    }
    assert data["previous"] == {"status": "open", "checks": None, "review": None}
    assert data["current"] == {"status": "merged", "checks": "passing", "review": "approved"}
    assert events_of(created["id"])[0].status == "delivered"
    assert drain() == 0 and len(receiver.received) == 1  # never sent twice after a 2xx


def test_the_outbox_row_is_in_the_writers_transaction(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver))
    link = _link(world)
    change_link(world, link, commit=False, status="closed")
    assert len(events_of_uncommitted(created["id"])) == 1
    db.session.rollback()
    assert events_of(created["id"]) == []
    assert db.session.get(TaskLink, link.id).status == "open"  # type: ignore[union-attr]


def events_of_uncommitted(subscription_id: str) -> list[NotificationEvent]:
    return list(
        db.session.scalars(db.select(NotificationEvent).where(NotificationEvent.subscription_id == subscription_id))
    )


def test_only_listening_enabled_subscriptions_and_real_changes_get_events(world: World, receiver: Receiver) -> None:
    links_only = world.subscribe(url_of(receiver), events=["link.status_changed"])
    states_only = world.subscribe(url_of(receiver), events=["task.state_changed"])
    off = world.subscribe(url_of(receiver), events=["link.status_changed"])
    world.admin.api("PATCH", f"{world.base}{off['id']}/", json={"enabled": False})
    link = _link(world)
    change_link(world, link, title="A new title")  # not status, checks or review
    change_link(world, link, checks="failing")
    change_state(world, "todo", "in_progress")
    assert [e.type for e in events_of(links_only["id"])] == ["link.status_changed"]
    assert [e.type for e in events_of(states_only["id"])] == ["task.state_changed"]
    assert events_of(off["id"]) == []


def test_task_state_changed_payload(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver), events=["task.state_changed"])
    change_state(world, "in_progress", "done")
    drain()
    payload = Webhook(created["secret"]).verify(receiver.received[0].body, receiver.received[0].headers)
    assert payload["type"] == "task.state_changed"
    assert payload["data"]["previous"] == {"state": "in_progress"}
    assert payload["data"]["current"] == {"state": "done"}
    assert payload["data"]["task"]["id"] == world.task_id and "link" not in payload["data"]


def test_task_attention_changed_when_codes_are_gained_or_lost(world: World, receiver: Receiver) -> None:
    link = _link(world)
    created = world.subscribe(url_of(receiver), events=["task.attention_changed"])
    change_link(world, link, checks="failing")  # gains failing_checks
    change_link(world, link, review="approved")  # no attention change
    task = db.session.get(Task, world.task_id)
    assert task is not None
    past = (task.start_date - timedelta(days=1)).isoformat()
    response = world.admin.api(
        "PATCH",
        f"/api/v1/projects/{world.project_id}/tasks/{world.task_id}/",
        json={"start_date": (task.start_date - timedelta(days=10)).isoformat(), "finish_date": past},
    )
    assert response.status_code == 200, response.get_json()  # overdue with open work: gained
    change_link(world, link, checks="passing")  # lost failing_checks
    drain()
    bodies = [Webhook(created["secret"]).verify(r.body, r.headers) for r in receiver.received]
    assert [b["type"] for b in bodies] == ["task.attention_changed"] * 3
    assert [(b["data"]["previous"]["attention"], b["data"]["current"]["attention"]) for b in bodies] == [
        ([], ["failing_checks"]),
        # SPEC §21: a late task not done is also `overdue`
        (["failing_checks"], ["failing_checks", "overdue_open", "overdue"]),
        (["failing_checks", "overdue_open", "overdue"], ["overdue_open", "overdue"]),
    ]


def test_slack_format(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver), "slack")
    link = _link(world)
    change_link(world, link, status="merged")
    drain()
    (got,) = receiver.received
    assert "webhook-signature" not in got.headers and got.webhook_id
    body = json.loads(got.body)
    assert list(body) == ["text"]
    text = body["text"]
    assert "Ship it" in text and "merged" in text and "open" in text and "Fix the thing" in text
    assert f"<https://ppm.example.org/projects/{world.project_id}/schedule?task={world.task_id}|Open in ppm>" in text
    assert created["id"]


def test_retries_wait_longer_each_time_then_fail_with_the_same_webhook_id(world: World, receiver: Receiver) -> None:
    receiver.answer = lambda _r: 500
    created = world.subscribe(url_of(receiver))
    change_state(world, "todo", "done")
    waits = []
    for _ in range(7):
        started = utcnow()
        drain()
        (event,) = events_of(created["id"])
        if event.status == "pending":
            due = event.next_attempt_at
            due = due if due.tzinfo else due.replace(tzinfo=started.tzinfo)
            waits.append(round((due - started).total_seconds() / 10) * 10)
            assert drain() == 0  # not due yet: nothing is sent early
        make_due()
    assert waits == [10, 60, 300, 1800, 7200, 21600]
    assert event.status == "failed" and event.attempts == 7
    assert len(receiver.received) == 7 and len({r.webhook_id for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1
    row = db.session.get(NotificationSubscription, created["id"])
    assert row is not None and row.failures == 1 and row.enabled and row.last_delivery_result == "http_500"
    attempts = db.session.scalars(db.select(NotificationAttempt).order_by(NotificationAttempt.attempt)).all()
    assert [(a.attempt, a.http_status, a.error) for a in attempts] == [(n, 500, None) for n in range(1, 8)]
    assert all(a.duration_ms >= 0 for a in attempts)


def test_500_then_200_is_delivered_once(world: World, receiver: Receiver) -> None:
    answers = iter([500, 503, 200])
    receiver.answer = lambda _r: next(answers, 200)
    created = world.subscribe(url_of(receiver))
    change_state(world, "todo", "done")
    for _ in range(5):
        drain()
        make_due()
    assert receiver.statuses() == [500, 503, 200]
    assert len({r.webhook_id for r in receiver.received}) == 1
    for got in receiver.received:
        Webhook(created["secret"]).verify(got.body, got.headers)
    row = db.session.get(NotificationSubscription, created["id"])
    assert row is not None and row.failures == 0 and row.last_delivery_result == "ok"


def test_410_disables_at_once(world: World, receiver: Receiver) -> None:
    receiver.answer = lambda _r: 410
    created = world.subscribe(url_of(receiver))
    change_state(world, "todo", "in_progress")
    change_state(world, "in_progress", "done")
    drain()
    make_due()
    drain()
    assert receiver.statuses() == [410]
    shown = world.admin.api("GET", f"{world.base}{created['id']}/").get_json()
    assert shown["enabled"] is False and shown["disabled_reason"] == "gone"
    change_state(world, "done", "todo")  # a disabled subscription gets no new events
    assert [e.status for e in events_of(created["id"])] == ["failed", "pending"]
    receiver.answer = lambda _r: 200
    world.admin.api("PATCH", f"{world.base}{created['id']}/", json={"enabled": True})
    drain()
    assert receiver.statuses() == [410, 200]  # what waited is sent after re-enabling


def test_twenty_failed_events_in_a_row_disable_and_reenable_resets(
    world: World, receiver: Receiver, app: Flask
) -> None:
    app.config["NOTIFY_RETRY_WAITS"] = []  # each event fails at its first try
    receiver.answer = lambda _r: 500
    created = world.subscribe(url_of(receiver))
    for n in range(21):
        change_state(world, f"s{n}", f"s{n + 1}")
    drain()
    assert len(receiver.received) == 20
    shown = world.admin.api("GET", f"{world.base}{created['id']}/").get_json()
    assert shown["enabled"] is False and shown["failures"] == 20 and shown["disabled_reason"] == "failures"
    receiver.answer = lambda _r: 200
    shown = world.admin.api("PATCH", f"{world.base}{created['id']}/", json={"enabled": True}).get_json()
    assert shown["failures"] == 0
    drain()
    assert receiver.statuses()[-1] == 200 and len(receiver.received) == 21


def test_nineteen_failures_then_a_success_resets_the_count(world: World, receiver: Receiver, app: Flask) -> None:
    app.config["NOTIFY_RETRY_WAITS"] = []
    answers = iter([500] * 19 + [200] + [500])
    receiver.answer = lambda _r: next(answers, 500)
    created = world.subscribe(url_of(receiver))
    for n in range(21):
        change_state(world, f"s{n}", f"s{n + 1}")
    drain()
    shown = world.admin.api("GET", f"{world.base}{created['id']}/").get_json()
    assert shown["enabled"] is True and shown["failures"] == 1


def test_order_is_kept_behind_a_retry(world: World, receiver: Receiver) -> None:
    answers = iter([500])
    receiver.answer = lambda _r: next(answers, 200)
    created = world.subscribe(url_of(receiver))
    for n in range(5):
        change_state(world, f"s{n}", f"s{n + 1}")
    drain()
    assert len(receiver.received) == 1  # the first failed: the others wait behind it
    make_due()
    drain()
    states = [json.loads(r.body)["data"]["current"]["state"] for r in receiver.received]
    assert states == ["s1", "s1", "s2", "s3", "s4", "s5"]
    assert [e.status for e in events_of(created["id"])] == ["delivered"] * 5


def test_a_name_that_now_resolves_privately_is_refused_at_delivery(
    world: World, receiver: Receiver, net: NetGuard
) -> None:
    created = world.subscribe(url_of(receiver))
    net.resolver.add("hooks.example.com", "10.9.9.9")
    change_state(world, "todo", "done")
    drain()
    assert receiver.received == []
    (attempt,) = db.session.scalars(db.select(NotificationAttempt)).all()
    assert attempt.http_status is None and attempt.error == "blocked_address"
    assert events_of(created["id"])[0].status == "pending"


def test_an_unreachable_receiver_is_an_error_code_and_a_retry(world: World, receiver: Receiver) -> None:
    created = world.subscribe(url_of(receiver))
    receiver.close()
    change_state(world, "todo", "done")
    drain()
    (attempt,) = db.session.scalars(db.select(NotificationAttempt)).all()
    assert attempt.http_status is None and attempt.error == "connection_refused"
    shown = world.admin.api("GET", f"{world.base}{created['id']}/").get_json()
    assert shown["last_delivery_result"] == "connection_refused" and shown["last_delivery_at"]


def test_redirects_are_not_followed(world: World, receiver: Receiver) -> None:
    receiver.answer = lambda _r: 302
    created = world.subscribe(url_of(receiver))
    change_state(world, "todo", "done")
    drain()
    assert receiver.statuses() == [302]
    assert events_of(created["id"])[0].status == "pending"


def test_the_secret_never_reaches_the_log(world: World, receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.answer = lambda _r: 500
    created = world.subscribe(url_of(receiver))
    change_state(world, "todo", "done")
    drain()
    signature = receiver.received[0].headers["webhook-signature"]
    for record in caplog.records:
        text = record.getMessage()
        assert created["secret"] not in text and created["secret"][6:] not in text and signature not in text


def test_at_most_four_deliveries_at_once_per_host(world: World, receiver: Receiver, app: Flask) -> None:
    import redis

    from tests.support.settings import TEST_REDIS_URL

    if not TEST_REDIS_URL:
        pytest.skip("needs PPM_TEST_REDIS_URL: the host slots are shared in Redis")
    conn = redis.Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    receiver.hold_seconds = 0.3
    subscriptions = [world.subscribe(url_of(receiver, f"/{n}")) for n in range(8)]
    change_state(world, "todo", "done")
    due = notify.notifications.due_subscriptions()
    assert len(due) == 8 == len(subscriptions)

    def run(subscription_id: str) -> None:
        with app.app_context():
            notify.deliver_subscription(subscription_id, conn)

    threads = [threading.Thread(target=run, args=(sid,)) for sid in due]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(receiver.received) == 8
    assert 2 <= receiver.max_active <= 4


def test_burst_worker_delivers_the_outbox(world: World, receiver: Receiver, app: Flask) -> None:
    from tests.support.settings import TEST_REDIS_URL

    if not TEST_REDIS_URL:
        pytest.skip("needs PPM_TEST_REDIS_URL: the burst worker reads the queue first")
    app.config["REDIS_URL"] = TEST_REDIS_URL
    created = world.subscribe(url_of(receiver))
    change_state(world, "todo", "done")
    result = app.test_cli_runner().invoke(args=["ppm", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    (got,) = receiver.received
    Webhook(created["secret"]).verify(got.body, got.headers)


def test_burst_without_redis_still_drains_the_outbox(world: World, receiver: Receiver, app: Flask) -> None:
    app.config["REDIS_URL"] = None
    world.subscribe(url_of(receiver))
    change_state(world, "todo", "done")
    result = app.test_cli_runner().invoke(args=["ppm", "worker", "--burst"])
    assert result.exit_code == 1 and "no job queue" in result.output
    assert len(receiver.received) == 1
