"""Notifications out (SPEC §25) under faults, with real processes: an RQ worker SIGKILLed in the
middle of a delivery, Redis stopped while events keep being written, and a receiver that answers
500 to every event's first try and 200 after. No event is lost, none is sent again after its
2xx, every try of one event carries the same webhook-id and bytes, and order is kept."""

from __future__ import annotations

import os
import signal
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from tests.ops.conftest import Seeded, in_app, migrated_env, seed
from tests.support.receiver import Received, Receiver
from tests.support.servers import RedisServer, RQWorker, wait_until


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    tries: dict[str, int] = defaultdict(int)
    lock = threading.Lock()

    def first_500_then_200(item: Received) -> int:
        with lock:
            tries[item.webhook_id] += 1
            return 500 if tries[item.webhook_id] == 1 else 200

    server = Receiver(first_500_then_200)
    yield server
    server.close()


def _subscribe(env: dict[str, str], seeded: Seeded, url: str) -> tuple[str, str]:
    from ppm.auth.models import User
    from ppm.extensions import db
    from ppm.notifications import services

    app = in_app(env)
    with app.app_context():
        owner = db.session.scalars(db.select(User).where(User.email == seeded.owner_email)).one()
        revealed = services.create_subscription(
            owner, seeded.project_id, {"url": url, "format": "standard", "events": ["task.state_changed"]}
        )
        result = revealed.subscription.id, str(revealed.secret)
        db.session.remove()
        db.engine.dispose()
    return result


def _state_changes(env: dict[str, str], seeded: Seeded, names: list[str]) -> None:
    """Each a transaction of its own, as a person's edits would be."""
    from ppm import events
    from ppm.extensions import db

    app = in_app(env)
    with app.app_context():
        for before, after in zip(["start", *names], names, strict=False):
            events.emit(events.TaskStateChanged(seeded.project_id, seeded.task_ids[0], before, after, "person"))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _outbox(env: dict[str, str]) -> list[tuple[str, str, int]]:
    from ppm.extensions import db
    from ppm.notifications.models import NotificationEvent

    app = in_app(env)
    with app.app_context():
        rows = [
            (e.id, e.status, e.attempts)
            for e in db.session.scalars(db.select(NotificationEvent).order_by(NotificationEvent.seq))
        ]
        db.session.remove()
        db.engine.dispose()
    return rows


def test_no_event_lost_or_sent_twice_through_a_killed_worker_a_redis_outage_and_500s(
    pass_database: str, own_redis: RedisServer, receiver: Receiver, tmp_path: Path
) -> None:
    env = migrated_env(
        pass_database,
        tmp_path,
        REDIS_URL=own_redis.url,
        NOTIFY_RETRY_WAITS="1,1,1,1,1,1",
        NOTIFY_LEASE_SECONDS="8",
        NOTIFY_TICK_SECONDS="0.3",
        NOTIFY_ALLOWLISTED_HOSTS="localhost",  # the receiver is on loopback
    )
    seeded = seed(env, tasks=1)
    subscription_id, secret = _subscribe(env, seeded, f"http://localhost:{receiver.port}/hook")
    assert subscription_id

    # 1. A worker is killed while its first delivery waits for the receiver's answer.
    receiver.hold = threading.Event()
    first = RQWorker(env)
    try:
        _state_changes(env, seeded, ["s1", "s2", "s3"])
        assert receiver.arrived.acquire(timeout=60), first.log()
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(10)
    finally:
        first.stop()
    receiver.hold.set()  # the dead worker's request is answered (500, its first try) to no one

    # 2. A new worker; Redis stops; events keep being written; nothing is sent while Redis is out.
    second = RQWorker(env)
    try:
        own_redis.stop()
        _state_changes(env, seeded, ["s4", "s5", "s6"])
        assert [row[1] for row in _outbox(env)] == ["pending"] * 6  # waiting, not lost
        own_redis.start()

        # 3. Everything drains: each event's first try gets 500, the retry 200.
        try:
            wait_until(lambda: all(row[1] == "delivered" for row in _outbox(env)), 120, "the outbox to drain")
        except TimeoutError:
            pytest.fail(f"not drained: {_outbox(env)} {receiver.statuses()}\n{second.log()[-6000:]}")
    finally:
        second.stop()
        own_redis.stop()

    outbox = _outbox(env)
    ids = [row[0] for row in outbox]
    # The killed worker's try was never recorded; every other event shows its 500 and its 200.
    assert len(ids) == 6 and all(attempts >= 2 for _, _, attempts in outbox[1:])
    by_id: dict[str, list[Received]] = defaultdict(list)
    for item in receiver.received:
        by_id[item.webhook_id].append(item)
    assert set(by_id) == set(ids)  # nothing lost, nothing invented
    hook = Webhook(secret)
    for event_id, tries in by_id.items():
        statuses = [item.status for item in tries]
        assert statuses.count(200) == 1 and statuses[-1] == 200, (event_id, statuses)  # none after its 2xx
        assert len({item.body for item in tries}) == 1  # the same bytes every time
        for item in tries:
            hook.verify(item.body, item.headers)
    delivered = [item.webhook_id for item in receiver.received if item.status == 200]
    assert delivered == ids  # the order of events kept
