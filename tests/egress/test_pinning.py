"""The connection dials exactly the checked address; TLS keeps SNI and name checks."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from importlib.metadata import version

import pytest
import requests

from ppm import egress
from tests.egress import servers as S
from tests.egress.names import PUBLIC_IP, PUBLIC_IP_2, PUBLIC_NAME, PUBLIC_V6
from tests.egress.servers import Server
from tests.support.netguard import NetGuard

REBIND = "rebind.example-test.com"


def test_public_name_reaches_the_stand_in_server(serve: Callable[..., Server], net: NetGuard) -> None:
    srv = serve(S.respond(200, b'{"ok": true}', {"Content-Type": "application/json"}))
    resp = egress.fetch("GET", f"http://{PUBLIC_NAME}:{srv.port}/user?x=1")
    assert (resp.status, resp.json()) == (200, {"ok": True})
    assert resp.headers["content-type"] == "application/json"  # case-insensitive
    assert net.connects == [((PUBLIC_IP, srv.port), ("127.0.0.1", srv.port))]
    head = srv.requests[0].decode()
    assert head.startswith("GET /user?x=1 HTTP/1.1\r\n")
    assert f"Host: {PUBLIC_NAME}:{srv.port}\r\n" in head
    assert "Accept-Encoding: identity\r\n" in head
    assert "Connection: close\r\n" in head


def test_dns_rebinding_cannot_reach_the_internal_server(net: NetGuard) -> None:
    public, internal = S.twin_servers(S.respond(200, b"public"), S.respond(200, b"internal secrets"))
    try:
        net.resolver.add_sequence(REBIND, [PUBLIC_IP_2], ["127.0.0.2"])
        url = f"http://{REBIND}:{public.port}/"
        assert egress.fetch("GET", url).body == b"public"
        assert net.resolver.lookups(REBIND) == 1  # resolved once: urllib3 never looked again
        with pytest.raises(egress.EgressBlocked) as info:
            egress.fetch("GET", url)
        assert str(info.value) == egress.MSG_PRIVATE
        assert (public.hits, internal.hits) == (1, 0)
        assert net.guard.dialled_hosts() == ["127.0.0.1"]
    finally:
        public.close()
        internal.close()


def test_a_connection_without_a_pin_is_refused() -> None:
    # The canary for the _new_conn hook: a pinned connection never resolves on its own.
    pool = egress._PinnedHTTPPool("127.0.0.1", 9, retries=False)
    with pytest.raises(egress.EgressBlocked):
        pool.request("GET", "/")


def test_ipv6_answer_is_dialled_as_checked(serve: Callable[..., Server], net: NetGuard) -> None:
    srv = serve(S.respond(200, b"six"))
    net.resolver.add("v6.example-test.com", PUBLIC_V6)
    assert egress.fetch("GET", f"http://v6.example-test.com:{srv.port}/").body == b"six"
    assert net.connects[0][0][:2] == (PUBLIC_V6, srv.port)


def test_ipv6_literal_is_dialled_as_given(serve: Callable[..., Server], net: NetGuard) -> None:
    srv = serve(S.respond(200, b"literal"))
    assert egress.fetch("GET", f"http://[{PUBLIC_V6}]:{srv.port}/").body == b"literal"
    assert net.resolver.calls == []  # a literal needs no lookup
    assert net.connects[0][0][:2] == (PUBLIC_V6, srv.port)


def test_one_address_per_family_in_resolver_order(serve: Callable[..., Server], net: NetGuard) -> None:
    srv = serve(S.respond(200, b"ok"))
    net.resolver.add("multi.example-test.com", PUBLIC_IP_2, PUBLIC_IP)
    egress.fetch("GET", f"http://multi.example-test.com:{srv.port}/")
    assert [asked[0] for asked, _ in net.connects] == [PUBLIC_IP_2]


def test_tls_sends_sni_for_the_name_while_dialling_the_pinned_address(
    serve: Callable[..., Server],
    net: NetGuard,
    ca_bundle: object,
    tls_server_context: Callable[[str], ssl.SSLContext],
) -> None:
    srv = serve(S.respond(200, b"secure"), tls=tls_server_context(PUBLIC_NAME))
    resp = egress.fetch("GET", f"https://{PUBLIC_NAME}:{srv.port}/")
    assert resp.body == b"secure"
    assert srv.sni == [PUBLIC_NAME]
    assert net.connects == [((PUBLIC_IP, srv.port), ("127.0.0.1", srv.port))]
    assert f"Host: {PUBLIC_NAME}:{srv.port}" in srv.requests[0].decode()


def test_tls_certificate_for_another_name_fails(
    serve: Callable[..., Server],
    ca_bundle: object,
    tls_server_context: Callable[[str], ssl.SSLContext],
) -> None:
    srv = serve(S.respond(200, b"nope"), tls=tls_server_context("other.example-test.com"))
    with pytest.raises(egress.EgressError) as info:
        egress.fetch("GET", f"https://{PUBLIC_NAME}:{srv.port}/")
    assert type(info.value) is egress.EgressError
    assert str(info.value) == egress.MSG_TLS
    assert srv.requests == []  # no request was sent over the unverified channel


def test_tls_from_an_untrusted_ca_fails(
    serve: Callable[..., Server], tls_server_context: Callable[[str], ssl.SSLContext]
) -> None:
    srv = serve(S.respond(200, b"nope"), tls=tls_server_context(PUBLIC_NAME))
    with pytest.raises(egress.EgressError) as info:
        egress.fetch("GET", f"https://{PUBLIC_NAME}:{srv.port}/")
    assert type(info.value) is egress.EgressError


def test_ca_bundle_from_app_config(
    serve: Callable[..., Server],
    ca_bundle: object,
    monkeypatch: pytest.MonkeyPatch,
    tls_server_context: Callable[[str], ssl.SSLContext],
    app_with: Callable[..., object],
) -> None:
    monkeypatch.delenv("EGRESS_CA_BUNDLE")
    srv = serve(S.respond(200, b"cfg"), tls=tls_server_context(PUBLIC_NAME))
    app = app_with(EGRESS_CA_BUNDLE=str(ca_bundle))
    with app.app_context():  # type: ignore[attr-defined]
        assert egress.fetch("GET", f"https://{PUBLIC_NAME}:{srv.port}/").body == b"cfg"


def test_pinned_https_uses_verifying_context() -> None:
    ctx = egress._ssl_context(requests.utils.DEFAULT_CA_BUNDLE_PATH)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.sslsocket_class is egress._DeadlineSSLSocket
    # The pin hooks urllib3's private _new_conn: pinned to urllib3 2.x (EGRESS.md, Layer B).
    assert version("urllib3").startswith("2.")
