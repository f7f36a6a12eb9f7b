"""Deliveries are limited per receiver (6,000 a minute by default; 3 here) → 429 JSON with
Retry-After; other receivers keep their own budget (SPEC §13)."""

from __future__ import annotations

from typing import Any

import pytest

from ppm.extensions import db
from ppm.webhooks.models import WebhookReceiver
from tests.webhooks.conftest import Hooks, github_example


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "RATELIMIT_ENABLED": True, "WEBHOOK_DELIVERY_LIMIT": "3 per minute"}


def test_the_default_budget_is_6000_a_minute(app: Any) -> None:
    from config import Config

    assert Config.WEBHOOK_DELIVERY_LIMIT == "6000 per minute"


def test_deliveries_past_the_budget_answer_429_per_receiver(hooks: Hooks) -> None:
    busy, quiet = hooks.create(), hooks.create()
    ping = github_example("ping")
    assert [hooks.sender.github(busy, "ping", ping).status_code for _ in range(3)] == [200] * 3
    refused = hooks.sender.github(busy, "ping", ping)
    assert refused.status_code == 429
    assert refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    assert hooks.receiver(busy)["deliveries"] == 3
    # Bad signatures count against the same budget: a flood cannot hide behind them.
    assert hooks.sender.github(busy, "ping", ping, secret="wrong").status_code == 429
    assert hooks.sender.github(quiet, "ping", ping).status_code == 200


def test_unsigned_posts_do_not_spend_the_budget(hooks: Hooks) -> None:
    """SPEC §27: anyone who can see the payload URL could otherwise starve the receiver."""
    hook = hooks.create()
    ping = github_example("ping")
    assert [hooks.sender.github(hook, "ping", ping, secret="wrong").status_code for _ in range(10)] == [401] * 10
    assert [hooks.sender.github(hook, "ping", ping, signature="").status_code for _ in range(5)] == [401] * 5
    assert [hooks.sender.github(hook, "ping", ping).status_code for _ in range(3)] == [200] * 3
    assert hooks.sender.github(hook, "ping", ping).status_code == 429


def test_unsigned_posts_are_limited_per_client_address(hooks: Hooks) -> None:
    hook, other = hooks.create(), hooks.create()
    ping = github_example("ping")
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    hooks.sender.client.environ_base.update(attacker)
    assert {hooks.sender.github(hook, "ping", ping, secret="wrong").status_code for _ in range(60)} == {401}
    refused = hooks.sender.github(hook, "ping", ping, secret="wrong")
    assert refused.status_code == 429 and refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    assert hooks.sender.github(other, "ping", ping, secret="wrong").status_code == 401  # per receiver
    hooks.sender.client.environ_base["REMOTE_ADDR"] = "198.51.100.7"  # GitHub's own address
    assert hooks.sender.github(hook, "ping", ping, secret="wrong").status_code == 401
    assert hooks.sender.github(hook, "ping", ping).status_code == 200


def test_unsigned_posts_write_their_result_at_most_once_a_minute(hooks: Hooks, count_queries: Any) -> None:
    hook = hooks.create()
    ping = github_example("ping")
    assert hooks.sender.github(hook, "ping", ping, secret="wrong").status_code == 401
    first = hooks.receiver(hook)
    assert first["last_delivery_result"] == "bad_signature"
    with count_queries() as counted:
        for _ in range(5):
            assert hooks.sender.github(hook, "ping", ping, secret="wrong").status_code == 401
    writes = [s for s in counted.statements if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert writes == []
    assert hooks.receiver(hook)["last_delivery_at"] == first["last_delivery_at"]
    assert hooks.sender.github(hook, "ping", ping).status_code == 200
    # Read from the database: a fifth listing call in this test can meet the API's own limit.
    db.session.expire_all()
    assert db.session.get(WebhookReceiver, hook.id).last_delivery_result == "ping"
