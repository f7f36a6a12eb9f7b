"""Deliveries are limited per receiver (6,000 a minute by default; 3 here) → 429 JSON with
Retry-After; other receivers keep their own budget (SPEC §13)."""

from __future__ import annotations

from typing import Any

import pytest

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
