"""Rule zero of TESTING.md: tests never send a packet off this machine.

Two reusable pieces, installed with pytest's ``monkeypatch``:

* :class:`StubResolver` replaces ``socket.getaddrinfo``: a dict of name -> answers; IP literals
  answer themselves; unknown names raise ``socket.gaierror``. It can answer a name differently
  on successive lookups (DNS rebinding) and can be slow (deadline tests).
* :class:`ConnectGuard` replaces ``socket.socket.connect`` / ``connect_ex``: loopback connects for
  real; configured fake public IPs are translated to 127.0.0.1 on the same port; anything else
  is recorded as a violation, refused, and fails the test at teardown.

Usage in a conftest (or import the ready-made ``netguard`` fixture below)::

    @pytest.fixture(autouse=True)
    def net(monkeypatch):
        with installed_netguard(monkeypatch) as net:
            net.resolver.add_public("api.github.com", "gitlab.com")
            yield net

Code under test that calls ``ppm.egress.fetch`` with ``responses`` standing in for the far side
still resolves the host first (the guard runs before ``responses``), so provider names must be
given fake public answers here.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

# Public-looking stand-ins (never dialled for real: the guard sends them to 127.0.0.1).
PUBLIC_V4 = ("140.82.112.5", "93.184.216.34", "151.101.1.69")
PUBLIC_V6 = ("2606:50c0:8000::153",)

_LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")
_LOOPBACK_V6 = ipaddress.IPv6Address("::1")


class NetworkViolation(ConnectionRefusedError):
    """A test tried to reach an address that is neither loopback nor a translated fake."""


class StubResolver:
    """A dict-backed stand-in for ``socket.getaddrinfo``."""

    def __init__(self) -> None:
        self._answers: dict[str, list[list[str]]] = {}
        self._delays: dict[str, float] = {}
        self._served: dict[str, int] = {}
        self.calls: list[str] = []
        self.release = threading.Event()  # set at teardown: frees slow lookups left behind
        self._lock = threading.Lock()

    @staticmethod
    def _key(name: str) -> str:
        return name.lower().rstrip(".")

    def add(self, name: str, *ips: str) -> None:
        """``name`` always answers ``ips`` (in this order)."""
        self._answers[self._key(name)] = [list(ips)]

    def add_sequence(self, name: str, *answers: Sequence[str]) -> None:
        """Successive lookups get successive answer lists; the last one repeats."""
        self._answers[self._key(name)] = [list(a) for a in answers]

    def add_public(self, *names: str, ip: str = PUBLIC_V4[0]) -> None:
        """Each name answers a fake public IP (which the connect guard sends to 127.0.0.1)."""
        for name in names:
            self.add(name, ip)

    def delay(self, name: str, seconds: float) -> None:
        """Lookups of ``name`` take ``seconds`` (or until teardown) before answering."""
        self._delays[self._key(name)] = seconds

    def lookups(self, name: str) -> int:
        key = self._key(name)
        return sum(1 for c in self.calls if self._key(c) == key)

    def getaddrinfo(
        self,
        host: Any,
        port: Any,
        family: int = 0,
        type: int = 0,  # socket.getaddrinfo's own parameter names
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, ...]]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        with self._lock:
            self.calls.append(name)
        ips = self._lookup(name)
        port_num = int(port) if port not in (None, "") else 0
        return [r for ip in ips if (r := _addrinfo(ip, port_num, family, type)) is not None]

    def _lookup(self, name: str) -> list[str]:
        literal = name[1:-1] if name.startswith("[") else name
        try:
            return [str(ipaddress.ip_address(literal))]
        except ValueError:
            pass
        key = self._key(name)
        if key in self._delays:
            self.release.wait(self._delays[key])
        with self._lock:
            if key not in self._answers:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            answers = self._answers[key]
            served = self._served.get(key, 0)
            self._served[key] = served + 1
        return answers[min(served, len(answers) - 1)]


def _addrinfo(ip: str, port: int, family: int, socktype: int) -> tuple[Any, ...] | None:
    addr = ipaddress.ip_address(ip)
    fam = socket.AF_INET if addr.version == 4 else socket.AF_INET6
    if family not in (0, socket.AF_UNSPEC, fam):
        return None
    sockaddr: tuple[Any, ...] = (ip, port) if addr.version == 4 else (ip, port, 0, 0)
    return (fam, socktype or socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)


@dataclass
class ConnectGuard:
    """Lets loopback through, translates fake public IPs to 127.0.0.1, refuses the rest."""

    translate: dict[str, str] = field(default_factory=dict)
    connects: list[tuple[Any, Any]] = field(default_factory=list)  # (asked, actually dialled)
    violations: list[Any] = field(default_factory=list)

    def add_public(self, *ips: str, to: str = "127.0.0.1") -> None:
        for ip in ips:
            self.translate[str(ipaddress.ip_address(ip))] = to

    def route(self, address: Any) -> Any:
        """The address to really dial, or raise NetworkViolation."""
        if not isinstance(address, tuple):  # AF_UNIX paths never leave the machine
            return address
        host = str(address[0])
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return self._violate(address, "connect by name (resolution outside the resolver)")
        if str(ip) in self.translate:
            return (self.translate[str(ip)], *address[1:2])
        if (ip.version == 4 and ip in _LOOPBACK_V4) or ip == _LOOPBACK_V6:
            return address
        return self._violate(address, "not loopback")

    def _violate(self, address: Any, why: str) -> Any:
        self.violations.append((address, why))
        raise NetworkViolation(f"connect guard refused {address!r}: {why}")

    def dialled_hosts(self) -> list[str]:
        return [str(actual[0]) for _asked, actual in self.connects if isinstance(actual, tuple)]


@dataclass
class NetGuard:
    resolver: StubResolver
    guard: ConnectGuard

    @property
    def connects(self) -> list[tuple[Any, Any]]:
        return self.guard.connects


def install(monkeypatch: pytest.MonkeyPatch, public: Iterable[str] = PUBLIC_V4 + PUBLIC_V6) -> NetGuard:
    """Install the stub resolver and the connect guard for the current test."""
    resolver = StubResolver()
    guard = ConnectGuard()
    guard.add_public(*public)
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(sock: socket.socket, address: Any) -> None:
        actual = guard.route(address)
        guard.connects.append((address, actual))
        return real_connect(sock, _fit(sock, actual))

    def connect_ex(sock: socket.socket, address: Any) -> int:
        try:
            actual = guard.route(address)
        except NetworkViolation:
            return errno.ECONNREFUSED  # recorded: the test fails at teardown
        guard.connects.append((address, actual))
        return real_connect_ex(sock, _fit(sock, actual))

    monkeypatch.setattr(socket, "getaddrinfo", resolver.getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return NetGuard(resolver, guard)


def _fit(sock: socket.socket, address: Any) -> Any:
    # A fake public IPv6 translated to 127.0.0.1 is dialled as its IPv4-mapped form.
    if isinstance(address, tuple) and sock.family == socket.AF_INET6 and ":" not in str(address[0]):
        return ("::ffff:" + str(address[0]), address[1], 0, 0)
    return address


@contextmanager
def installed_netguard(monkeypatch: pytest.MonkeyPatch, names: Mapping[str, str] | None = None) -> Iterator[NetGuard]:
    """Install, yield, then fail the test if anything tried to leave loopback. `names` maps host
    names to the (fake public) address the stub resolver answers for each."""
    net = install(monkeypatch)
    for name, ip in (names or {}).items():
        net.resolver.add(name, ip)
    try:
        yield net
    finally:
        net.resolver.release.set()
    if net.guard.violations:
        pytest.fail(f"test tried to reach non-loopback addresses: {net.guard.violations!r}")


@pytest.fixture
def netguard(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    """Ready-made fixture: ``from tests.support.netguard import netguard`` in a conftest."""
    with installed_netguard(monkeypatch) as net:
        yield net
