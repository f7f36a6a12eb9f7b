"""EGRESS_ALLOWLISTED_HOSTS: exact names from config skip only the private-address test."""

from __future__ import annotations

from collections.abc import Callable

import flask
import pytest

from ppm import egress
from tests.egress import servers as S
from tests.egress.servers import Server
from tests.support.netguard import NetGuard

INTRANET = "intranet.example-test.com"

# Allow-listed names that resolve to cloud-metadata addresses, directly or embedded in IPv6.
METADATA_ANSWERS = {
    "gce.example-test.com": "169.254.169.254",
    "ecs.example-test.com": "169.254.170.2",
    "alibaba.example-test.com": "100.100.100.200",
    "oracle.example-test.com": "192.0.0.192",
    "aws6.example-test.com": "fd00:ec2::254",
    "mapped-meta.example-test.com": "::ffff:169.254.169.254",
    "nat64-meta.example-test.com": "64:ff9b::a9fe:a9fe",
}


@pytest.fixture
def allow_app(app_with: Callable[..., flask.Flask], net: NetGuard) -> flask.Flask:
    net.resolver.add(INTRANET, "127.0.0.1")  # a real loopback answer: only the allow-list lets it through
    for name, ip in METADATA_ANSWERS.items():
        net.resolver.add(name, ip)
    hosts = [INTRANET, "metadata.google.internal", "169.254.169.254", "[fd00:ec2::254]", *METADATA_ANSWERS]
    return app_with(EGRESS_ALLOWLISTED_HOSTS=hosts)


def test_allowlisted_host_reaches_a_private_address(
    allow_app: flask.Flask, serve: Callable[..., Server], net: NetGuard
) -> None:
    srv = serve(S.respond(200, b"intranet"))
    with allow_app.app_context():
        assert egress.fetch("GET", f"http://{INTRANET}:{srv.port}/").body == b"intranet"
        # exact match is case-insensitive and ignores a trailing dot
        assert egress.fetch("GET", f"http://INTRANET.Example-Test.COM.:{srv.port}/").status == 200
    assert srv.hits == 2
    assert net.guard.dialled_hosts() == ["127.0.0.1", "127.0.0.1"]


def test_the_same_host_is_refused_outside_an_app_context(serve: Callable[..., Server], net: NetGuard) -> None:
    net.resolver.add(INTRANET, "127.0.0.1")
    srv = serve(S.respond(200, b"intranet"))
    with pytest.raises(egress.EgressBlocked):
        egress.fetch("GET", f"http://{INTRANET}:{srv.port}/")
    assert srv.hits == 0


def test_allowlist_is_exact_not_subdomains(allow_app: flask.Flask, net: NetGuard) -> None:
    net.resolver.add("x." + INTRANET, "127.0.0.1")
    with allow_app.app_context(), pytest.raises(egress.EgressBlocked):
        egress.fetch("GET", f"http://x.{INTRANET}/")
    assert net.connects == []


def test_allowlist_comes_from_config_not_the_environment(
    monkeypatch: pytest.MonkeyPatch, app_with: Callable[..., flask.Flask], net: NetGuard
) -> None:
    net.resolver.add(INTRANET, "127.0.0.1")
    monkeypatch.setenv("EGRESS_ALLOWLISTED_HOSTS", INTRANET)
    with pytest.raises(egress.EgressBlocked):
        egress.fetch("GET", f"http://{INTRANET}/")
    with app_with().app_context(), pytest.raises(egress.EgressBlocked):
        egress.fetch("GET", f"http://{INTRANET}/")
    assert net.connects == []


def test_comma_separated_config_string_is_accepted(
    app_with: Callable[..., flask.Flask], serve: Callable[..., Server], net: NetGuard
) -> None:
    net.resolver.add(INTRANET, "10.1.2.3")
    net.guard.add_public("10.1.2.3")  # let the guard carry the private answer to loopback
    srv = serve(S.respond(204))
    with app_with(EGRESS_ALLOWLISTED_HOSTS=f"other.example-test.com, {INTRANET}").app_context():
        assert egress.fetch("GET", f"http://{INTRANET}:{srv.port}/").status == 204


@pytest.mark.parametrize(
    "url",
    [
        "http://metadata.google.internal/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        *[f"http://{name}/" for name in METADATA_ANSWERS],
    ],
)
def test_metadata_is_refused_even_when_allowlisted(url: str, allow_app: flask.Flask, net: NetGuard) -> None:
    with allow_app.app_context(), pytest.raises(egress.EgressBlocked) as info:
        egress.fetch("GET", url)
    assert str(info.value) == egress.MSG_URL
    assert net.connects == []


def test_allowlisted_host_keeps_the_deadline_and_the_cap(allow_app: flask.Flask, serve: Callable[..., Server]) -> None:
    slow = serve(S.silent())
    big = serve(S.close_delimited(10_000))
    with allow_app.app_context():
        with pytest.raises(egress.EgressTimeout):
            egress.fetch("GET", f"http://{INTRANET}:{slow.port}/", timeout=0.5)
        with pytest.raises(egress.EgressTooLarge):
            egress.fetch("GET", f"http://{INTRANET}:{big.port}/", max_bytes=1000)


def test_allowlisted_host_still_needs_a_clean_url(allow_app: flask.Flask, net: NetGuard) -> None:
    with allow_app.app_context():
        for url in (f"http://user@{INTRANET}/", f"ftp://{INTRANET}/", f"http://{INTRANET}\\@x/"):
            with pytest.raises(egress.EgressBlocked):
                egress.fetch("GET", url)
    assert net.connects == []


def test_for_log_keeps_only_scheme_and_authority() -> None:
    from ppm.egress import for_log

    assert for_log("https://hooks.slack.com/services/T0/B0/secret?x=1") == "https://hooks.slack.com/…"
    assert for_log("https://user:pw@git.example.org:8443") == "https://git.example.org:8443"
    assert for_log("no scheme at all") == "<not a URL>"
