"""Redirects are returned, never followed, whatever the caller asks."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from ppm import egress
from tests.egress import servers as S
from tests.egress.names import PUBLIC_IP_2
from tests.egress.servers import Server
from tests.support.netguard import NetGuard

HOP = "hop.example-test.com"
CODES = [301, 302, 303, 307, 308]
LOCATIONS = {
    "absolute": "http://127.0.0.2:{port}/internal",
    "protocol-relative": "//127.0.0.2:{port}/internal",
    "relative": "/internal",
    "metadata": "http://169.254.169.254/latest/meta-data/",
    "internal-name": "http://private.example-test.com:{port}/",
}


@pytest.fixture
def redirecting(net: NetGuard, request: pytest.FixtureRequest) -> Iterator[tuple[Server, Server]]:
    """Public stand-in on 127.0.0.1 answering a redirect; an internal server on 127.0.0.2."""
    code, location = request.param
    holder: dict[str, int] = {}

    def redirect(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        target = location.format(port=holder["port"])
        conn.sendall(S.http_response(code, b"moved", {"Location": target}))

    public, internal = S.twin_servers(redirect, S.respond(200, b"internal secrets"))
    holder["port"] = public.port
    net.resolver.add(HOP, PUBLIC_IP_2)
    try:
        yield public, internal
    finally:
        public.close()
        internal.close()


CASES = [(code, loc) for code in CODES for loc in LOCATIONS.values()]
IDS = [f"{code}-{name}" for code in CODES for name in LOCATIONS]


@pytest.mark.parametrize("redirecting", CASES, ids=IDS, indirect=True)
def test_redirect_is_returned_not_followed(redirecting: tuple[Server, Server], net: NetGuard) -> None:
    public, internal = redirecting
    resp = egress.fetch("GET", f"http://{HOP}:{public.port}/start")
    assert 300 <= resp.status < 400
    assert resp.headers["Location"]
    assert resp.body == b"moved"
    assert (public.hits, internal.hits) == (1, 0)
    assert len(net.connects) == 1


@pytest.mark.parametrize("redirecting", [(302, LOCATIONS["absolute"])], indirect=True)
def test_session_ignores_allow_redirects_true(redirecting: tuple[Server, Server]) -> None:
    public, internal = redirecting
    with egress.GuardedSession() as session:
        resp = session.get(f"http://{HOP}:{public.port}/start", allow_redirects=True, timeout=2)
    assert resp.status_code == 302
    assert resp.history == []
    assert (public.hits, internal.hits) == (1, 0)


@pytest.mark.parametrize("redirecting", [(307, LOCATIONS["absolute"])], indirect=True)
def test_post_redirect_is_not_replayed(redirecting: tuple[Server, Server]) -> None:
    public, internal = redirecting
    resp = egress.fetch("POST", f"http://{HOP}:{public.port}/start", json={"a": 1})
    assert resp.status == 307
    assert internal.hits == 0
