"""The test harness itself: rule zero must hold even when the code under test misbehaves."""

from __future__ import annotations

import socket

import pytest

from tests.support.netguard import ConnectGuard, NetGuard, NetworkViolation, StubResolver


def test_stub_resolver_answers_names_literals_and_sequences() -> None:
    r = StubResolver()
    r.add("Host.Example-Test.com", "140.82.112.5", "2606:50c0:8000::153")
    r.add_sequence("flip.example-test.com", ["93.184.216.34"], ["127.0.0.2"])
    answers = r.getaddrinfo("host.example-test.com.", 443, 0, socket.SOCK_STREAM)
    assert [a[4] for a in answers] == [("140.82.112.5", 443), ("2606:50c0:8000::153", 443, 0, 0)]
    assert [a[4][0] for a in r.getaddrinfo("host.example-test.com", 80, socket.AF_INET)] == ["140.82.112.5"]
    assert r.getaddrinfo("10.0.0.1", 80)[0][4] == ("10.0.0.1", 80)
    assert r.getaddrinfo("flip.example-test.com", 80)[0][4][0] == "93.184.216.34"
    assert r.getaddrinfo("flip.example-test.com", 80)[0][4][0] == "127.0.0.2"
    assert r.getaddrinfo("flip.example-test.com", 80)[0][4][0] == "127.0.0.2"
    with pytest.raises(socket.gaierror):
        r.getaddrinfo("unknown.example-test.com", 80)
    assert r.lookups("FLIP.example-test.com") == 3


def test_connect_guard_routes_loopback_and_fakes_and_refuses_the_rest() -> None:
    g = ConnectGuard()
    g.add_public("140.82.112.5")
    assert g.route(("127.0.0.1", 80)) == ("127.0.0.1", 80)
    assert g.route(("127.9.9.9", 80)) == ("127.9.9.9", 80)
    assert g.route(("::1", 80, 0, 0)) == ("::1", 80, 0, 0)
    assert g.route(("140.82.112.5", 443)) == ("127.0.0.1", 443)
    for address in [("10.0.0.1", 80), ("93.184.216.35", 443), ("fd00::1", 80, 0, 0), ("example.com", 80)]:
        with pytest.raises(NetworkViolation):
            g.route(address)
    assert len(g.violations) == 4
    g.violations.clear()


def test_guard_is_installed_on_real_sockets(net: NetGuard) -> None:
    with socket.socket() as sock, pytest.raises(NetworkViolation):
        sock.connect(("192.0.2.1", 9))  # TEST-NET: refused before any packet
    with socket.socket() as sock:
        assert sock.connect_ex(("198.51.100.1", 9)) != 0
    assert [v[0][0] for v in net.guard.violations] == ["192.0.2.1", "198.51.100.1"]
    net.guard.violations.clear()  # expected here: don't fail this test at teardown
