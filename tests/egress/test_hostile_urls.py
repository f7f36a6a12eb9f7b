"""A table of hostile URLs: every one is refused with EgressBlocked before any connection."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppm import egress
from tests.egress.names import PRIVATE_ANSWERS
from tests.support.netguard import NetGuard

# Ambiguous numeric forms of loopback, RFC 1918 and metadata addresses (inet_aton accepts them).
NUMERIC_FORMS = [
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/",
    "http://0X7F000001/",
    "http://017700000001/",  # octal
    "http://0x7f.1/",
    "http://0x7f.0.0.1/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://0177.0.0.1/",
    "http://0177.0000.0000.0001/",
    "http://127.1/",
    "http://127.0.1/",
    "http://127.000.000.001/",
    "http://127.0.0.01/",
    "http://127.0.0.1./",  # trailing dot
    "http://127.1./",
    "http://0/",
    "http://0x0/",
    "http://00/",
    "http://167772161/",  # 10.0.0.1
    "http://10.1/",
    "http://012.0.0.1/",
    "http://0xa.0.0.1/",
    "http://2852039166/",  # 169.254.169.254
    "http://0xa9fea9fe/",
    "http://169.254.43518/",
    "http://0251.0376.0251.0376/",
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://3232235777/",  # 192.168.1.1
    "http://192.168.257/",
    "http://api.example-test.com.127/",  # a host that ends in a number is an IPv4 form
    "http://foo.0x7f/",
    "https://2130706433:443/",
]

PRIVATE_IPV4_LITERALS = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.1",
    "169.254.169.254",
    "169.254.170.2",
    "169.254.0.1",
    "100.100.100.200",
    "192.0.0.192",
    "192.0.0.8",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "198.18.0.1",
    "198.19.255.255",
    "192.88.99.1",
    "192.0.2.1",
    "198.51.100.1",
    "203.0.113.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
]

IPV6_LITERALS = [
    "::1",
    "::",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",  # mapped
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:140.82.112.5",  # mapped public: still refused (SPEC §12)
    "::127.0.0.1",  # compatible
    "::a00:1",
    "::ffff:0:7f00:1",  # translated
    "::ffff:0:a00:1",
    "::ffff:0:a9fe:a9fe",
    "64:ff9b::7f00:1",  # NAT64 well-known prefix
    "64:ff9b::10.0.0.1",
    "64:ff9b::8c52:7005",  # NAT64 of a public IPv4: still refused
    "64:ff9b:1::a00:1",  # NAT64 local-use prefix
    "64:ff9b:1::1",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",
    "2002:8c52:7005::1",  # 6to4 of a public IPv4: still refused
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001::1",
    "fc00::1",
    "fd00::1",
    "fd00:ec2::254",  # AWS metadata (IPv6)
    "fe80::1",
    "fec0::1",  # site-local
    "ff02::1",
    "ff05::1:3",
    "3fff::1",  # documentation (RFC 9637)
    "2001:db8::1",
    "100::1",
    "5f00::1",
]

ZONE_IDS = [
    "http://[fe80::1%25eth0]/",
    "http://[fe80::1%eth0]/",
    "http://[::1%251]/",
    "http://[fe80::a9fe:a9fe%25en0]:8080/",
    "http://[2606:50c0:8000::153%25eth0]/",  # a zone id on a public address is still refused
]

METADATA_NAMES = [
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.GOOGLE.INTERNAL/",
    "http://metadata.google.internal./",
    "http://Metadata.Goog/",
    "http://metadata/",
    "http://metadata./",
    "http://instance-data/latest/meta-data/",
    "http://instance-data.ec2.internal/",
    "http://INSTANCE-DATA.EC2.INTERNAL./",
    "http://metadata.tencentyun.com/",
    "http://metadata.amazonaws.com/",
    "https://MetaData.AmazonAWS.com./",
    "http://metadata.google.internal:8080/",
]

USERINFO = [
    "http://user@api.example-test.com/",
    "http://user:pass@api.example-test.com/",
    "http://@api.example-test.com/",
    "http://api.example-test.com@127.0.0.1/",
    "http://127.0.0.1:80@api.example-test.com/",
    "http://a%40b@api.example-test.com/",
    "https://:@api.example-test.com/",
]

BACKSLASHES = [
    "http://127.0.0.1\\@api.example-test.com/",
    "https://127.0.0.1\\@github.com/",
    "http://api.example-test.com\\@127.0.0.1/",
    "http:\\\\127.0.0.1/",
    "http://api.example-test.com\\.127.0.0.1/",
    "http://api.example-test.com/\\..\\",
]

WHITESPACE_AND_CONTROL = [
    "http://api.example-test.com\t@127.0.0.1/",
    "http://127.0.0.1\t/",
    "http://api.example-test.com/\r\nHost: 127.0.0.1",
    "http://api.example-test.com\n.127.0.0.1/",
    "http://api.example-test.com\r/",
    " http://127.0.0.1/",
    "http://127.0.0.1 /",
    "http://api.example-test.com/a b",
    "http://api.example-test.com/\x00",
    "http://api.example-test.com\x0b/",
    "http://api.example-test.com\x7f/",
    "http://api.example-test.com\u00a0/",
    "http://api.example-test.com\u3000/",
    "http://api.example-test.com\u200b/",
    "http://api.example-test.com\u2028/",
]

PERCENT_ENCODED = [
    "http://%31%32%37.0.0.1/",
    "http://127%2E0%2E0%2E1/",
    "http://loc%61lhost/",
    "http://127.0.0.1%2E/",
    "http://%6d%65%74%61data.google.internal/",
    "http://api.example-test.com%00.127.0.0.1/",
    "http://%5B::1%5D/",
    "http://%31%30.0.0.1:8080/",
]

UNICODE_DIGITS = [
    "http://①②⑦.⓪.⓪.①/",
    "http://127。0。0。1/",
    "http://۱۲۷.0.0.1/",
    "http://१२७.०.०.१/",
    "http://１２７.０.０.１/",
    "http://127.0.0.①/",
    "http://𝟏𝟐𝟕.0.0.1/",
    "http://١٢٧.٠.٠.١/",
    "http://169.254.169.²⁵⁴/",
]

SCHEMES = [
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "FILE:///etc/passwd",
    "ftp://api.example-test.com/",
    "gopher://127.0.0.1:6379/_INFO",
    "gopher://api.example-test.com/",
    "javascript:alert(1)",
    "data:text/plain,hello",
    "dict://127.0.0.1:11211/stats",
    "ldap://api.example-test.com/",
    "ws://api.example-test.com/",
    "wss://api.example-test.com/",
    "jar:http://api.example-test.com/x.jar!/",
    "netdoc:///etc/passwd",
    "//api.example-test.com/",
    "api.example-test.com/path",
    "http:api.example-test.com",
    "http:/api.example-test.com",
    "http:///127.0.0.1/",
    "http://",
    "",
]

LOOPBACK_NAMES = [
    "http://localhost/",
    "http://LOCALHOST./",
    "http://localhost:5000/admin",
    "http://foo.localhost/",
    "http://localhost.localdomain/",
    "http://ip6-localhost/",
]

PRIVATE_NAMES = [f"http://{name}/" for name in PRIVATE_ANSWERS] + [
    "http://PRIVATE.Example-Test.com./",
    "https://loop.example-test.com:8443/x?y=1",
    "http://linklocal.example-test.com./latest/meta-data/",
]


def _table() -> list[str]:
    urls = (
        NUMERIC_FORMS
        + [f"http://{ip}/" for ip in PRIVATE_IPV4_LITERALS]
        + [f"http://[{ip}]/" for ip in IPV6_LITERALS]
        + ZONE_IDS
        + METADATA_NAMES
        + USERINFO
        + BACKSLASHES
        + WHITESPACE_AND_CONTROL
        + PERCENT_ENCODED
        + UNICODE_DIGITS
        + SCHEMES
        + LOOPBACK_NAMES
        + PRIVATE_NAMES
    )
    return list(dict.fromkeys(urls))


HOSTILE = _table()
SHORT_MESSAGES = {egress.MSG_URL, egress.MSG_PRIVATE}


def test_the_table_is_big_enough() -> None:
    assert len(HOSTILE) >= 120


@pytest.mark.parametrize("url", HOSTILE, ids=ascii)
def test_hostile_url_is_refused_before_any_connection(url: str, net: NetGuard) -> None:
    with pytest.raises(egress.EgressBlocked) as info:
        egress.fetch("GET", url, timeout=2.0)
    assert net.connects == []
    assert str(info.value) in SHORT_MESSAGES


@pytest.mark.parametrize("url", METADATA_NAMES + LOOPBACK_NAMES, ids=ascii)
def test_special_names_are_refused_without_a_lookup(url: str, net: NetGuard) -> None:
    with pytest.raises(egress.EgressBlocked):
        egress.fetch("GET", url)
    assert net.resolver.calls == []


@pytest.mark.parametrize("name", sorted(PRIVATE_ANSWERS))
def test_private_answers_say_so_without_the_address(name: str, net: NetGuard) -> None:
    with pytest.raises(egress.EgressBlocked) as info:
        egress.fetch("GET", f"https://{name}/")
    assert str(info.value) in SHORT_MESSAGES
    for ip in PRIVATE_ANSWERS[name]:
        assert ip not in str(info.value)
    assert net.resolver.lookups(name) == 1
    assert net.connects == []


# ---- properties over whole address ranges -----------------------------------------------------

_BLOCKED_V4_NETS = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
]


@st.composite
def blocked_ipv4(draw: st.DrawFn) -> ipaddress.IPv4Address:
    net = ipaddress.IPv4Network(draw(st.sampled_from(_BLOCKED_V4_NETS)))
    return net[draw(st.integers(0, net.num_addresses - 1))]


def _embeddings(v4: ipaddress.IPv4Address) -> list[str]:
    n = int(v4)
    packed = v4.packed.hex()
    return [
        f"::ffff:{v4}",  # mapped
        f"::{v4}",  # compatible
        f"::ffff:0:{v4}",  # translated
        f"64:ff9b::{v4}",  # NAT64
        str(ipaddress.IPv6Address((0x0064FF9B0001 << 80) | n)),  # NAT64 local-use
        f"2002:{packed[:4]}:{packed[4:]}::1",  # 6to4
        str(ipaddress.IPv6Address((0x20010000 << 96) | (n ^ 0xFFFFFFFF))),  # Teredo client bits
    ]


_FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_FAST
@given(blocked_ipv4())
def test_every_blocked_ipv4_is_refused(net: NetGuard, ip: ipaddress.IPv4Address) -> None:
    with pytest.raises(egress.EgressBlocked):
        egress.fetch("GET", f"http://{ip}/")
    assert net.connects == []


@_FAST
@given(st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address))
def test_every_ipv6_embedding_of_any_ipv4_is_refused(net: NetGuard, v4: ipaddress.IPv4Address) -> None:
    for literal in _embeddings(v4):
        with pytest.raises(egress.EgressBlocked):
            egress.fetch("GET", f"http://[{literal}]/")
    assert net.connects == []


@_FAST
@given(st.text(max_size=60))
def test_any_string_fails_only_with_egress_errors(net: NetGuard, junk: str) -> None:
    for url in (junk, "http://" + junk, "https://" + junk + "/"):
        try:
            egress.fetch("GET", url, timeout=0.5)
        except egress.EgressError:
            pass
    assert net.guard.violations == []


def test_idn_names_without_digits_are_not_refused_up_front(net: NetGuard) -> None:
    net.resolver.add("xn--mnchen-3ya.example-test.com", "10.0.0.1")
    for url in ("http://münchen.example-test.com/", "http://中国一号.example-test.com/"):
        with pytest.raises(egress.EgressError) as info:
            egress.fetch("GET", url)
        # refused (or unresolvable) after IDNA encoding and lookup, not as a malformed URL
        assert str(info.value) in {egress.MSG_PRIVATE, egress.MSG_NO_NAME}
    assert net.resolver.lookups("xn--mnchen-3ya.example-test.com") == 1
