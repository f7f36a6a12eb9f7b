"""Attack tests (SPEC §25): who can read subscriptions, which addresses are refused, hostile
bodies answer 400, and no secret or Slack address reaches a non-admin or a log line."""

# ruff: noqa: F811 - pytest fixtures imported from the suites' conftests are parameters here

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import client_for
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

EVENTS = ["task.state_changed"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://127.1/x",
        "http://2130706433/x",
        "http://0x7f000001/x",
        "http://0177.0.0.1/x",
        "http://017700000001/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[::ffff:7f00:1]/x",
        "http://[::127.0.0.1]/x",
        "http://[64:ff9b::a9fe:a9fe]/x",
        "http://[fe80::1%25eth0]/x",
        "http://[fd00::1]/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/x",
        "http://localhost/x",
        "http://localhost./x",
        "http://LOCALHOST/x",
        "http://a.localhost/x",
        "http://user:pw@hooks.example.com/x",
        "http://hooks.example.com@127.0.0.1/x",
        "http://127.0.0.1#@hooks.example.com/x",
        "http://127.0.0.1\\@hooks.example.com/x",
        "http://intranet.example.com/x",
        "http://no-such-name.example.com/x",
        "http://１２７.０.０.１/x",
        "http://127.0.0.1./x",
        "http://%31%32%37.0.0.1/x",
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http:///x",
        "http://hooks.example.com:99999/x",
        "http://hooks.example.com:-1/x",
        "http://metadata.google.internal/x",
        "http://hooks.example.com/" + "a" * 3000,
    ],
)
def test_private_loopback_and_malformed_urls_are_400(world: World, url: str) -> None:
    response = world.admin.api("POST", world.base, json={"url": url, "events": EVENTS})
    assert response.status_code == 400, (url, response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert body["code"] == "validation_error" and "url" in body["fields"]


@pytest.mark.parametrize(
    "body",
    [
        {"url": 5, "events": EVENTS},
        {"url": ["http://hooks.example.com/"], "events": EVENTS},
        {"url": {"a": 1}, "events": EVENTS},
        {"url": None, "events": EVENTS},
        {"events": EVENTS},
        {"url": "http://hooks.example.com/x", "events": []},
        {"url": "http://hooks.example.com/x", "events": {"task.state_changed": 1}},
        {"url": "http://hooks.example.com/x", "events": [1, 2]},
        {"url": "http://hooks.example.com/x", "events": [None]},
        {"url": "http://hooks.example.com/x", "events": [["task.state_changed"]]},
        {"url": "http://hooks.example.com/x", "events": ["x" * 100_000] * 50},
        {"url": "http://hooks.example.com/x", "events": "nope"},
        {"url": "http://hooks.example.com/x", "events": 7},
        {"url": "http://hooks.example.com/x", "events": EVENTS, "format": {"a": 1}},
        {"url": "http://hooks.example.com/x", "events": EVENTS, "format": ["slack"]},
        {"url": "http://hooks.example.com/x", "events": EVENTS, "format": None},
        {"url": "http://hooks.example.com/x", "events": EVENTS, "format": "SLACK"},
        {"url": "http://hooks.example.com/x", "events": EVENTS, "format": 1},
        {"url": "http://hooks.example.com/x", "events": EVENTS, "format": "x" * 100_000},
        {"url": "http://hooks.example.com/x\x00", "events": EVENTS},
        {"url": "http://hooks.example.com/x\ud800", "events": EVENTS},
    ],
)
def test_malformed_bodies_are_400_not_500(world: World, body: dict[str, Any]) -> None:
    response = world.admin.api("POST", world.base, json=body)
    assert response.status_code in (400, 413), (response.status_code, response.get_data(as_text=True)[:300])
    assert response.get_json()["code"] in ("validation_error", "too_large")


@pytest.mark.parametrize("body", [[], "x", 5, None, [1, 2]])
def test_non_object_bodies_are_400(world: World, body: Any) -> None:
    response = world.admin.api("POST", world.base, json=body)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize(
    "body",
    [
        {"enabled": "maybe"},
        {"enabled": None},
        {"enabled": [True]},
        {"events": []},
        {"events": {"a": 1}},
        {"events": ["nope"]},
        {"url": "http://127.0.0.1/x"},
    ],
)
def test_patch_hostile_values(world: World, receiver: Receiver, body: dict[str, Any]) -> None:
    sid = world.subscribe(url_of(receiver))["id"]
    response = world.admin.api("PATCH", f"{world.base}{sid}/", json=body)
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    if "url" in body:  # url is not patchable: the stored address must not change
        listed = world.admin.api("GET", f"{world.base}{sid}/").get_json()
        assert listed["url"] == url_of(receiver)
    else:
        assert response.status_code == 400


@pytest.mark.parametrize("who", ["member", "viewer", "stranger"])
def test_non_admins_never_see_url_secret_or_log(world: World, receiver: Receiver, make: Any, who: str) -> None:
    slack = url_of(receiver, "/services/T000/B000/XXXXSECRETXXXX")
    created = world.subscribe(url_of(receiver, "/std-secret-path"))
    sid = created["id"]
    world.subscribe(slack, "slack")
    assert world.admin.api("POST", f"{world.base}{sid}/test/").status_code == 202
    drain()
    log_rows = world.admin.api("GET", f"{world.base}{sid}/deliveries/").get_json()
    assert log_rows
    client = (
        client_for(world.app, make.user(email="stranger@example.com")) if who == "stranger" else getattr(world, who)
    )
    expected = 404 if who == "stranger" else 403
    for method, path in [
        ("GET", world.base),
        ("GET", f"{world.base}{sid}/"),
        ("GET", f"{world.base}{sid}/deliveries/"),
        ("POST", f"{world.base}{sid}/deliveries/{log_rows[0]['id']}/redeliver/"),
        ("POST", f"{world.base}{sid}/rotate-secret/"),
    ]:
        response = client.api(method, path)
        assert response.status_code == expected, (method, path, response.status_code)
        text = response.get_data(as_text=True)
        assert "XXXXSECRETXXXX" not in text and "std-secret-path" not in text and created["secret"] not in text


def test_member_integrations_page_hides_the_section(world: World, receiver: Receiver) -> None:
    from tests.conftest import SessionClient

    world.subscribe(url_of(receiver, "/services/T000/B000/XXXXSECRETXXXX"), "slack")
    for client in (world.member, world.viewer):
        session = SessionClient(world.app.test_client(), client.user).login()
        for path in [
            f"/projects/{world.project_id}/integrations",
            f"/projects/{world.project_id}/integrations/notifications",
        ]:
            for headers in ({}, {"HX-Request": "true"}):
                response = session.get(path, headers=headers)
                assert response.status_code in (200, 302, 403), (path, response.status_code)
                assert "XXXXSECRETXXXX" not in response.get_data(as_text=True), (client.user.email, path)


def test_a_redirect_to_loopback_is_not_followed(world: World, net: NetGuard) -> None:
    """The receiver answers 307 to a loopback address: ppm must record the 307, not follow it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if self.path == "/start":
                self.send_response(307)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/internal")  # type: ignore[index]
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sid = world.subscribe(f"http://{HOOKS}:{server.server_address[1]}/start")["id"]
        assert world.admin.api("POST", f"{world.base}{sid}/test/").status_code == 202
        drain()
        assert hits == ["/start"]
        rows = world.admin.api("GET", f"{world.base}{sid}/deliveries/").get_json()
        assert rows[0]["http_status"] == 307
    finally:
        server.shutdown()
        server.server_close()


def test_redeliver_after_the_name_turns_private_is_blocked(world: World, receiver: Receiver, net: NetGuard) -> None:
    sid = world.subscribe(url_of(receiver))["id"]
    world.admin.api("POST", f"{world.base}{sid}/test/")
    drain()
    first = world.admin.api("GET", f"{world.base}{sid}/deliveries/").get_json()[0]
    count = len(receiver.received)
    net.resolver.add(HOOKS, "127.0.0.1")
    assert world.admin.api("POST", f"{world.base}{sid}/deliveries/{first['id']}/redeliver/").status_code == 202
    drain()
    assert len(receiver.received) == count
    rows = world.admin.api("GET", f"{world.base}{sid}/deliveries/").get_json()
    assert rows[0]["error"] == "blocked_address"


def test_redeliver_ids_of_another_subscription_are_404(world: World, receiver: Receiver) -> None:
    one = world.subscribe(url_of(receiver, "/one"))["id"]
    two = world.subscribe(url_of(receiver, "/two"))["id"]
    world.admin.api("POST", f"{world.base}{one}/test/")
    drain()
    row = world.admin.api("GET", f"{world.base}{one}/deliveries/").get_json()[0]
    for wanted in (row["id"], row["event_id"]):
        response = world.admin.api("POST", f"{world.base}{two}/deliveries/{wanted}/redeliver/")
        assert response.status_code == 404


def test_hostile_ids_are_404(world: World, receiver: Receiver) -> None:
    sid = world.subscribe(url_of(receiver))["id"]
    for bad in ["x" * 5000, "%00", "' OR 1=1 --", "\u0661\u0662"]:
        for path in [f"{world.base}{bad}/", f"{world.base}{sid}/deliveries/{bad}/redeliver/"]:
            response = world.admin.api("POST" if "redeliver" in path else "GET", path)
            assert response.status_code == 404, (path[:80], response.status_code)


def _egress_log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_creating_a_slack_subscription_to_a_private_address_does_not_log_it(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = world.admin.api(
        "POST",
        world.base,
        json={"url": "http://10.0.0.1/services/T0/B0/XXXXSECRETXXXX", "format": "slack", "events": EVENTS},
    )
    assert response.status_code == 400
    assert "XXXXSECRETXXXX" not in _egress_log_text(caplog)


PRIVATE_ANSWERS = [
    ["127.0.0.1"],
    ["::ffff:127.0.0.1"],
    ["::1"],
    ["10.0.0.5"],
    ["169.254.169.254"],
    ["0.0.0.0"],
    ["64:ff9b::7f00:1"],
    ["fd00:ec2::254"],
    ["100.64.0.1"],
    ["140.82.112.5", "127.0.0.1"],  # one public, one loopback answer
]


@pytest.mark.parametrize("answers", PRIVATE_ANSWERS)
def test_a_name_resolving_to_a_private_address_is_refused_at_create(
    world: World, net: NetGuard, answers: list[str]
) -> None:
    net.resolver.add("rebind.example.com", *answers)
    response = world.admin.api("POST", world.base, json={"url": "http://rebind.example.com/x", "events": EVENTS})
    assert response.status_code == 400, (answers, response.status_code)
    assert "url" in response.get_json()["fields"]


@pytest.mark.parametrize("answers", PRIVATE_ANSWERS)
def test_a_name_that_turns_private_is_refused_at_delivery(
    world: World, receiver: Receiver, net: NetGuard, answers: list[str]
) -> None:
    sid = world.subscribe(url_of(receiver))["id"]
    net.resolver.add(HOOKS, *answers)
    assert world.admin.api("POST", f"{world.base}{sid}/test/").status_code == 202
    drain()
    assert receiver.received == []
    rows = world.admin.api("GET", f"{world.base}{sid}/deliveries/").get_json()
    assert rows and rows[0]["error"] == "blocked_address" and rows[0]["http_status"] is None


def test_subscription_ids_of_another_project_are_404(world: World, receiver: Receiver, make: Any) -> None:
    from ppm.auth.models import User
    from ppm.extensions import db

    owner = db.session.scalars(db.select(User).where(User.email == "owner@example.com")).one()
    other = make.project(owner, "Zephyr")
    make.member(owner, other, "admin", user=world.admin.user)
    theirs = world.admin.api(
        "POST",
        f"/api/v1/projects/{other}/notifications/",
        json={"url": url_of(receiver, "/theirs"), "events": EVENTS},
    ).get_json()["id"]
    for method, suffix in [
        ("GET", f"{theirs}/"),
        ("PATCH", f"{theirs}/"),
        ("DELETE", f"{theirs}/"),
        ("POST", f"{theirs}/rotate-secret/"),
        ("POST", f"{theirs}/test/"),
        ("GET", f"{theirs}/deliveries/"),
    ]:
        response = world.admin.api(method, world.base + suffix, json={"enabled": False} if method == "PATCH" else None)
        assert response.status_code == 404, (method, suffix, response.status_code)


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_non_admins_get_403_on_every_html_route(world: World, receiver: Receiver, who: str) -> None:
    from tests.conftest import SessionClient

    sid = world.subscribe(url_of(receiver, "/services/T000/B000/XXXXSECRETXXXX"), "slack")["id"]
    session = SessionClient(world.app.test_client(), getattr(world, who).user).login()
    base = f"/projects/{world.project_id}/integrations/notifications"
    for method, path in [
        ("GET", base),
        ("GET", f"{base}/{sid}/deliveries"),
        ("GET", f"{base}/{sid}/disable"),
        ("GET", f"{base}/{sid}/enable"),
        ("GET", f"{base}/{sid}/delete"),
        ("POST", base),
        ("POST", f"{base}/{sid}/test"),
        ("POST", f"{base}/{sid}/disable"),
        ("POST", f"{base}/{sid}/delete"),
    ]:
        for headers in ({}, {"HX-Request": "true"}):
            if method == "GET":
                response = session.get(path, headers=headers)
            else:
                response = session.form(path, {"url": "http://hooks.example.com/", "events": EVENTS}, headers=headers)
            assert response.status_code == 403, (method, path, headers, response.status_code)
            assert "XXXXSECRETXXXX" not in response.get_data(as_text=True)
    assert world.admin.api("GET", f"{world.base}{sid}/").get_json()["enabled"] is True


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com:0/x",
        "http://[::]/x",
        "http://0/x",
        "http://hooks.example.com:/x",
        "http://[::ffff:a9fe:a9fe]/x",
        "http://hooks.example.com./x",
        "HTTP://HOOKS.EXAMPLE.COM/x",
        "http://hooks.example.com:080/x",
        "http://xn--/x",
        "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/x",
        "http://hooks。example。com/x",
        "http://" + "a." * 200 + "com/x",
        "http://[" + "1" * 5000 + "]/x",
    ],
)
def test_odd_urls_never_500(world: World, url: str) -> None:
    response = world.admin.api("POST", world.base, json={"url": url, "events": EVENTS})
    assert response.status_code in (201, 400), (url[:60], response.status_code)
    if response.status_code == 201:
        assert urlsplit(url).hostname in (HOOKS, HOOKS + "."), url
