"""Attack tests that FAIL on main: real defects, left failing on purpose (see the report).

SPEC §25: "a Slack address is itself a secret" and each attempt "is logged ... never with the
secret"; COMMON rules: secrets never in logs. ppm/egress.py logs the full request URL at INFO
(`_log_end`, on any non-HTTP outcome) and at WARNING (`_blocked`, `_read`), and the app logs
`ppm.*` at INFO in production (ppm/__init__.py), so a failed Slack delivery writes the Slack
webhook address (its secret path) into the server log.
"""

# ruff: noqa: F811 - pytest fixtures imported from the suites' conftests are parameters here

from __future__ import annotations

import logging

import pytest

from tests.notifications.conftest import (  # noqa: F401 - fixtures reused here
    HOOKS,
    World,
    app_config,
    drain,
    net,
    receiver,
    url_of,
    world,
)
from tests.support.netguard import NetGuard
from tests.support.receiver import Receiver


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
