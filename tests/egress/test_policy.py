"""The address policy does not over-block: public unicast addresses pass."""

from __future__ import annotations

import ipaddress

import pytest

from ppm import egress

PUBLIC = [
    "140.82.112.5",
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above CGNAT
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.1",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.254",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "2a00:1450:4001:80b::200e",
    "2606:50c0:8000::153",
    "2600::a9fe:a9fe",  # public, though its low 32 bits spell 169.254.169.254
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_unicast_passes(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert egress.private_address_reason(ip) is None
    assert not egress.is_metadata_address(ip)


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "::ffff:169.254.169.254",
        "::ffff:0:a9fe:a9fe",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::a9fe:a9fe",
        "2002:a9fe:a9fe::",
        "::169.254.169.254",
        "fd00:ec2::254",
        "192.0.0.192",
        "::ffff:100.100.100.200",
        "2002:a9fe:aa02::1",
    ],
)
def test_metadata_in_any_form(address: str) -> None:
    assert egress.is_metadata_address(ipaddress.ip_address(address))


def test_3fff_slash_20_is_documentation() -> None:
    assert egress.private_address_reason(ipaddress.ip_address("3fff::")) == "in 3fff::/20"
    assert egress.private_address_reason(ipaddress.ip_address("3fff:fff:ffff::1")) == "in 3fff::/20"
    assert egress.private_address_reason(ipaddress.ip_address("3fff:1000::1")) is None  # past the /20
