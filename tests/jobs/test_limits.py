"""Provider limits across workers (SPEC §14): a rate-limited answer pauses that host with that
credential until the provider's reset time (values kept, links skipped), and at most four calls
to one host run at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
import responses
from flask import Flask

from ppm.extensions import db
from ppm.jobs import limits
from ppm.links.models import TaskLink
from tests.jobs.conftest import add_link, give_credential, job, needs_redis, refresh_all, run_worker
from tests.links.conftest import World

pytestmark = needs_redis
GH = "https://api.github.com/repos/acme/api"
NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def _link(link_id: str) -> TaskLink:
    db.session.expire_all()
    found = db.session.get(TaskLink, link_id)
    assert found is not None
    return found


def _wait_until_gone(conn: redis.Redis, pattern: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while list(conn.scan_iter(pattern)):
        assert time.monotonic() < deadline, f"{pattern} was never released"
        time.sleep(0.05)


def test_rate_limited_pauses_that_host_and_credential_then_resumes(
    app: Flask, world: World, provider: responses.RequestsMock, redis_conn: redis.Redis
) -> None:
    give_credential(world.member.user, "github", token="ghp_member")
    give_credential(world.owner.user, "github", token="ghp_owner")
    links = [add_link(world.member, world, f"https://github.com/acme/api/issues/{n}") for n in (1, 2, 3)]
    for link in links[1:]:
        row = _link(link["id"])
        row.status, row.title = "open", "Cached"
        db.session.commit()
    # GitHub's secondary rate limit: 429 with Retry-After in seconds (docs.github.com, "Rate limits
    # for the REST API").
    provider.get(f"{GH}/issues/1", status=429, json={"message": "too many"}, headers={"Retry-After": "3"})
    provider.get(f"{GH}/issues/2", json={"state": "closed", "title": "Two"})
    provider.get(f"{GH}/issues/3", json={"state": "closed", "title": "Three"})

    job_id = refresh_all(world.member, world).get_json()["job_id"]
    run_worker(app)
    status = job(world.member, job_id).get_json()
    assert (status["done"], status["failed"], status["skipped"]) == (0, 1, 2)
    assert status["errors"] == {"provider_rate_limited": 1}
    assert len(provider.calls) == 1  # the paused links were not called
    assert [(_link(x["id"]).status, _link(x["id"]).title) for x in links[1:]] == [("open", "Cached")] * 2

    provider.replace(responses.GET, f"{GH}/issues/1", json={"state": "open", "title": "One"})
    other = refresh_all(world.owner, world).get_json()["job_id"]  # another credential: not paused
    run_worker(app)
    assert job(world.owner, other).get_json()["done"] == 3
    assert {c.request.headers["Authorization"] for c in provider.calls[1:]} == {"Bearer ghp_owner"}

    _wait_until_gone(redis_conn, "ppm:paused:*")  # the provider's reset time passes
    resumed = refresh_all(world.member, world).get_json()["job_id"]
    run_worker(app)
    assert job(world.member, resumed).get_json()["done"] == 3


def test_the_pause_lasts_until_the_provider_s_reset_time(
    app: Flask, world: World, provider: responses.RequestsMock, redis_conn: redis.Redis
) -> None:
    give_credential(world.member.user, "github")
    add_link(world.member, world, "https://github.com/acme/api/issues/1")
    reset = int(time.time()) + 600
    # GitHub's primary rate limit: 403 with X-RateLimit-Remaining: 0 and the reset in epoch seconds.
    provider.get(
        f"{GH}/issues/1",
        status=403,
        json={"message": "API rate limit exceeded"},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    refresh_all(world.member, world)
    run_worker(app)
    key = next(iter(redis_conn.scan_iter("ppm:paused:github.com:*")))
    assert float(redis_conn.get(key) or 0) == pytest.approx(reset)
    assert 590 <= int(redis_conn.ttl(key)) <= 600  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "120"}, NOW + timedelta(seconds=120)),
        ({"Retry-After": "Wed, 02 Dec 2026 14:05:00 GMT"}, datetime(2026, 12, 2, 14, 5, tzinfo=UTC)),
        ({"RateLimit-Reset": str(int(NOW.timestamp()) + 30)}, NOW + timedelta(seconds=30)),
        ({"x-ratelimit-reset": str(int(NOW.timestamp()) + 90)}, NOW + timedelta(seconds=90)),
        ({}, NOW + timedelta(seconds=60)),
        ({"Retry-After": "soon"}, NOW + timedelta(seconds=60)),
    ],
)
def test_reset_time_from_the_provider_s_headers(headers: dict[str, str], expected: datetime) -> None:
    assert limits.reset_time(headers, now=NOW) == expected


def test_reset_time_prefers_the_refresh_error_s_own_retry_at() -> None:
    retry_at = NOW + timedelta(minutes=7)
    assert limits.reset_time({"Retry-After": "1"}, retry_at, now=NOW) == retry_at


def test_at_most_four_calls_to_one_host_at_once(redis_conn: redis.Redis) -> None:
    lock = threading.Lock()
    running = {"now": 0, "peak": 0}
    other_host_entered = threading.Event()

    def call() -> None:
        with limits.host_slot(redis_conn, "api.github.com"):
            with lock:
                running["now"] += 1
                running["peak"] = max(running["peak"], running["now"])
            time.sleep(0.1)
            with lock:
                running["now"] -= 1

    def other() -> None:
        with limits.host_slot(redis_conn, "gitlab.com"):
            other_host_entered.set()

    threads = [threading.Thread(target=call) for _ in range(10)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    threading.Thread(target=other).start()
    assert other_host_entered.wait(5)  # another host is not held up by a busy one
    for thread in threads:
        thread.join(10)
    assert running["peak"] == limits.HOST_CONCURRENCY


def test_a_dead_worker_s_slot_frees_itself(redis_conn: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "LEASE_SECONDS", 1)
    now_ms = int(time.time() * 1000)
    for lease in range(limits.HOST_CONCURRENCY):  # four holders that will never let go
        assert redis_conn.eval(limits._ACQUIRE, 1, "ppm:host-slots:h.example", now_ms, 1000, 4, f"dead{lease}")
    with pytest.raises(limits.NoSlot):
        with limits.host_slot(redis_conn, "h.example", wait=0.2):
            pass
    with limits.host_slot(redis_conn, "h.example", wait=5):
        pass  # their leases ran out


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_pauses_that_host_and_token_for_a_minute(
    app: Flask, world: World, provider: responses.RequestsMock, redis_conn: redis.Redis, status: int
) -> None:
    # SPEC §26: GitHub's secondary limit (403 or 429, its message, no Retry-After) is
    # provider_rate_limited and pauses background work for one minute, not "token refused".
    give_credential(world.member.user, "github")
    links = [add_link(world.member, world, f"https://github.com/acme/api/issues/{n}") for n in (1, 2)]
    secondary = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}
    provider.get(f"{GH}/issues/1", status=status, json=secondary, headers={"X-RateLimit-Remaining": "4990"})
    provider.get(f"{GH}/issues/2", json={"state": "closed", "title": "Two"})
    job_id = refresh_all(world.member, world).get_json()["job_id"]
    run_worker(app)
    status_body = job(world.member, job_id).get_json()
    assert status_body["errors"] == {"provider_rate_limited": 1}
    assert (status_body["failed"], status_body["skipped"]) == (1, 1)
    assert len(provider.calls) == 1
    assert _link(links[0]["id"]).refresh_error["code"] == "provider_rate_limited"  # type: ignore[index]
    key = next(iter(redis_conn.scan_iter("ppm:paused:github.com:*")))
    assert 55 <= int(redis_conn.ttl(key)) <= 60  # type: ignore[arg-type]
