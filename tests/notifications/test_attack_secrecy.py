"""Regressions of two defects an attack review found in notifications (SPEC §25):

- a destination on a host the operator allow-listed for providers (`EGRESS_ALLOWLISTED_HOSTS`)
  was accepted, so a project admin could aim events at an internal address and port;
- egress log lines carried whole URLs, so a failed Slack delivery wrote the Slack address (a
  secret) into the server log. Log lines now show scheme and host only (`egress.for_log`).
"""

# ruff: noqa: F811 - pytest fixtures imported from the suites' conftests are parameters here

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.notifications.conftest import (  # noqa: F401 - fixtures reused here
    HOOKS,
    PRIVATE_NAME,
    World,
    drain,
    net,
    receiver,
    url_of,
    world,
)
from tests.notifications.conftest import app_config as notifications_config  # noqa: F401
from tests.support.netguard import NetGuard
from tests.support.receiver import Receiver


@pytest.fixture
def app_config(notifications_config: dict[str, Any]) -> dict[str, Any]:
    """The instance trusts one internal host (a self-hosted GitLab or Gitea, SPEC §4/§24): the
    egress allow-list lets that host resolve to a private address for provider calls."""
    return {**notifications_config, "EGRESS_ALLOWLISTED_HOSTS": [PRIVATE_NAME]}


def _egress_log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_a_failed_slack_delivery_does_not_log_the_slack_address(
    world: World, net: NetGuard, caplog: pytest.LogCaptureFixture
) -> None:
    """SPEC §25: a Slack address is itself a secret; attempts are logged never with the secret.
    ppm logs at INFO in production (ppm/__init__.py), so check INFO and above."""
    port = 9  # nothing listens on loopback port 9: connection refused
    slack = f"http://{HOOKS}:{port}/services/T000/B000/XXXXSECRETXXXX"
    sid = world.subscribe(slack, "slack")["id"]
    caplog.set_level(logging.INFO)
    world.admin.api("POST", f"{world.base}{sid}/test/")
    drain()
    rows = world.admin.api("GET", f"{world.base}{sid}/deliveries/").get_json()
    assert rows and rows[0]["error"]
    assert "XXXXSECRETXXXX" not in _egress_log_text(caplog)


def test_a_blocked_slack_delivery_does_not_log_the_slack_address(
    world: World, receiver: Receiver, net: NetGuard, caplog: pytest.LogCaptureFixture
) -> None:
    slack = url_of(receiver, "/services/T000/B000/XXXXSECRETXXXX")
    sid = world.subscribe(slack, "slack")["id"]
    net.resolver.add(HOOKS, "10.9.9.9")  # the name now answers a private address
    caplog.set_level(logging.INFO)
    world.admin.api("POST", f"{world.base}{sid}/test/")
    drain()
    rows = world.admin.api("GET", f"{world.base}{sid}/deliveries/").get_json()
    assert rows and rows[0]["error"] == "blocked_address"
    assert "XXXXSECRETXXXX" not in _egress_log_text(caplog)


@pytest.mark.parametrize("port", ["", ":6379", ":22"])
def test_a_project_admin_cannot_aim_notifications_at_an_allowlisted_private_host(world: World, port: str) -> None:
    """SPEC §25: a `url` that is "a private or loopback address" → 400 validation_error on url.
    The instance's egress allow-list exists for provider calls to self-hosted forges; a project
    admin must not inherit it to POST to any port of an internal host (10.1.2.3 here)."""
    response = world.admin.api(
        "POST", world.base, json={"url": f"http://{PRIVATE_NAME}{port}/x", "events": ["task.state_changed"]}
    )
    assert response.status_code == 400, response.get_json()
    assert "url" in response.get_json()["fields"]
