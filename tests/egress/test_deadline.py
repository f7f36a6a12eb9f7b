"""One deadline per call: DNS, connect, TLS handshake, every send and receive.

A server dripping a byte every 0.1 s would hold a per-read timeout forever; the call must still
end within 0.5 s of its deadline (the correctness bound from the issue).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

import pytest

from ppm import egress
from tests.egress import servers as S
from tests.egress.names import PUBLIC_NAME
from tests.egress.servers import Handler, Server
from tests.support.netguard import NetGuard

TIMEOUT = 1.0
SLACK = 0.5


def _times_out(url: str) -> float:
    started = time.monotonic()
    with pytest.raises(egress.EgressTimeout) as info:
        egress.fetch("GET", url, timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert str(info.value) == egress.MSG_TIMEOUT
    assert TIMEOUT - 0.05 <= elapsed < TIMEOUT + SLACK, elapsed
    return elapsed


SLOW_SERVERS: dict[str, Handler] = {
    "drip-headers": S.drip_headers(0.1),
    "drip-body": S.drip_body(0.1),
    "silent": S.silent(),
}


@pytest.mark.parametrize("kind", sorted(SLOW_SERVERS))
def test_slow_http_server_ends_by_the_deadline(kind: str, serve: Callable[..., Server]) -> None:
    srv = serve(SLOW_SERVERS[kind])
    _times_out(f"http://{PUBLIC_NAME}:{srv.port}/")
    assert srv.hits == 1


@pytest.mark.parametrize("kind", sorted(SLOW_SERVERS))
def test_slow_https_server_ends_by_the_deadline(
    kind: str,
    serve: Callable[..., Server],
    ca_bundle: object,
    tls_server_context: Callable[[str], ssl.SSLContext],
) -> None:
    srv = serve(SLOW_SERVERS[kind], tls=tls_server_context(PUBLIC_NAME))
    _times_out(f"https://{PUBLIC_NAME}:{srv.port}/")
    assert srv.sni == [PUBLIC_NAME]


def test_stalled_tls_handshake_ends_by_the_deadline(serve: Callable[..., Server], ca_bundle: object) -> None:
    srv = serve(S.no_handshake())  # plain TCP that never answers the ClientHello
    _times_out(f"https://{PUBLIC_NAME}:{srv.port}/")


def test_slow_resolver_ends_by_the_deadline(net: NetGuard) -> None:
    net.resolver.add("slow.example-test.com", "140.82.112.5")
    net.resolver.delay("slow.example-test.com", 30)
    _times_out("http://slow.example-test.com/")
    assert net.connects == []


def test_deadline_counts_time_already_spent_resolving(serve: Callable[..., Server], net: NetGuard) -> None:
    # 0.6 s of DNS leaves 0.4 s for a server that needs 1 s: the whole call still ends on time.
    srv = serve(S.drip_body(0.1))
    net.resolver.add("slowish.example-test.com", "140.82.112.5")
    net.resolver.delay("slowish.example-test.com", 0.6)
    _times_out(f"http://slowish.example-test.com:{srv.port}/")


def test_fast_server_within_deadline_is_fine(serve: Callable[..., Server]) -> None:
    srv = serve(S.respond(200, b"quick"))
    assert egress.fetch("GET", f"http://{PUBLIC_NAME}:{srv.port}/", timeout=TIMEOUT).body == b"quick"


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError):
        egress.fetch("GET", f"http://{PUBLIC_NAME}/", timeout=0)


def test_hung_lookups_do_not_starve_later_calls(serve: Callable[..., Server], net: NetGuard) -> None:
    # Abandoned lookups keep their worker thread; new calls get fresh workers.
    net.resolver.add("hung.example-test.com", "140.82.112.5")
    net.resolver.delay("hung.example-test.com", 30)
    for _ in range(3):
        with pytest.raises(egress.EgressTimeout):
            egress.fetch("GET", "http://hung.example-test.com/", timeout=0.2)
    srv = serve(S.respond(200, b"still fine"))
    assert egress.fetch("GET", f"http://{PUBLIC_NAME}:{srv.port}/", timeout=TIMEOUT).body == b"still fine"
