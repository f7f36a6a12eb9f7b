"""Error classes and messages (SPEC §12), non-2xx responses, bodies, and `responses` as the far side."""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Callable

import pytest
import responses

from ppm import egress
from tests.egress import servers as S
from tests.egress.names import PUBLIC_IP, PUBLIC_NAME
from tests.egress.servers import Server
from tests.support.netguard import NetGuard

IP_LIKE = re.compile(r"\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f]*:[0-9a-f:]*", re.IGNORECASE)


def test_exception_hierarchy() -> None:
    for cls in (egress.EgressBlocked, egress.EgressTimeout, egress.EgressTooLarge):
        assert issubclass(cls, egress.EgressError)
    assert not issubclass(egress.EgressError, OSError)  # never swallowed as a socket error


@pytest.mark.parametrize("status", [201, 204, 301, 400, 401, 403, 404, 429, 500, 503])
def test_non_2xx_is_returned(status: int, serve: Callable[..., Server]) -> None:
    body = b"" if status == 204 else b'{"message": "x"}'
    srv = serve(S.respond(status, body, {"X-RateLimit-Remaining": "0"}))
    resp = egress.fetch("GET", f"http://{PUBLIC_NAME}:{srv.port}/")
    assert resp.status == status
    assert resp.body == body
    assert resp.headers["x-ratelimit-remaining"] == "0"


def test_json_and_data_bodies_are_sent(serve: Callable[..., Server]) -> None:
    srv = serve(S.respond(201, b"{}"))
    egress.fetch("POST", f"http://{PUBLIC_NAME}:{srv.port}/", json={"a": [1, 2]})
    egress.fetch("PUT", f"http://{PUBLIC_NAME}:{srv.port}/", data=b"raw", headers={"X-Token": "t"})
    assert json.loads(srv.bodies[0]) == {"a": [1, 2]}
    assert srv.bodies[1] == b"raw"
    assert b"X-Token: t\r\n" in srv.requests[1]


def test_invalid_json_raises_value_error(serve: Callable[..., Server]) -> None:
    srv = serve(S.respond(200, b"<html>"))
    with pytest.raises(ValueError):
        egress.fetch("GET", f"http://{PUBLIC_NAME}:{srv.port}/").json()


def test_unknown_method_and_host_header_are_programming_errors() -> None:
    with pytest.raises(ValueError):
        egress.fetch("CONNECT", f"http://{PUBLIC_NAME}/")
    with pytest.raises(ValueError):
        egress.fetch("GET", f"http://{PUBLIC_NAME}/", headers={"Host": "127.0.0.1"})


def _plain_error(url: str) -> egress.EgressError:
    with pytest.raises(egress.EgressError) as info:
        egress.fetch("GET", url, timeout=2.0)
    assert type(info.value) is egress.EgressError  # not Blocked, not Timeout
    return info.value


def test_name_that_does_not_resolve_is_a_plain_error(net: NetGuard) -> None:
    err = _plain_error("https://nowhere.example-test.com/")
    assert str(err) == egress.MSG_NO_NAME
    assert net.connects == []


def test_refused_connection_is_a_plain_error() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    assert str(_plain_error(f"http://{PUBLIC_NAME}:{port}/")) == egress.MSG_REFUSED


def test_reset_is_a_plain_error(serve: Callable[..., Server]) -> None:
    srv = serve(S.reset())
    _plain_error(f"http://{PUBLIC_NAME}:{srv.port}/")


def test_garbage_response_is_a_plain_error(serve: Callable[..., Server]) -> None:
    def garbage(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

    srv = serve(garbage)
    _plain_error(f"http://{PUBLIC_NAME}:{srv.port}/")


def test_user_messages_never_carry_an_address(
    serve: Callable[..., Server], net: NetGuard, caplog: pytest.LogCaptureFixture
) -> None:
    silent = serve(S.silent())
    reset = serve(S.reset())
    urls = [
        "http://private.example-test.com/",
        "http://mixed.example-test.com/",
        "http://10.0.0.1/",
        "http://[::ffff:10.0.0.1]/",
        "http://nowhere.example-test.com/",
        f"http://{PUBLIC_NAME}:{silent.port}/",
        f"http://{PUBLIC_NAME}:{reset.port}/",
    ]
    caplog.set_level(logging.INFO, logger="ppm.egress")
    for url in urls:
        with pytest.raises(egress.EgressError) as info:
            egress.fetch("GET", url, timeout=0.5)
        message = str(info.value)
        assert not IP_LIKE.search(message), message
        assert len(message) < 60
    logged = caplog.text
    assert "10.0.0.5" in logged  # the detail goes to the server log
    assert PUBLIC_IP in logged or "127.0.0.1" in logged


# ---- `responses` stands in for the far side; the guard's resolution still runs --------------


def test_responses_mock_works_and_the_guard_still_resolves(net: NetGuard) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        good = mock.get(f"https://{PUBLIC_NAME}/user", json={"login": "octo"}, status=200)
        bad = mock.get("https://private.example-test.com/user", json={"secret": 1})
        resp = egress.fetch("GET", f"https://{PUBLIC_NAME}/user")
        assert (resp.status, resp.json()) == (200, {"login": "octo"})
        assert good.call_count == 1
        with pytest.raises(egress.EgressBlocked):
            egress.fetch("GET", "https://private.example-test.com/user")
        assert bad.call_count == 0
    assert net.resolver.lookups(PUBLIC_NAME) == 1
    assert net.resolver.lookups("private.example-test.com") == 1
    assert net.connects == []  # responses answered; nothing was dialled


def test_responses_mock_still_gets_the_size_cap() -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"https://{PUBLIC_NAME}/big", body=b"x" * 5000)
        with pytest.raises(egress.EgressTooLarge):
            egress.fetch("GET", f"https://{PUBLIC_NAME}/big", max_bytes=4096)
