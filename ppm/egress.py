"""The only way out: SSRF-guarded outbound HTTP (SPEC §10, design notes in EGRESS.md).

Every outbound request ppm makes goes through :func:`fetch`. The guard, in order:

A. pre-flight on the raw URL and on the URL as requests prepared it (the client's own parser):
   http/https only, no userinfo, whitespace, control characters, backslashes, percent signs or
   Unicode digits in the authority, no ambiguous numeric host, no zone id, no metadata name;
B. inside the adapter's ``send()``: resolve the host once (``socket.getaddrinfo`` in a worker
   thread, bounded by the deadline), refuse if any answer is not public unicast (C), then pin
   the checked addresses for the connection, which dials exactly them (no second resolution)
   while TLS keeps SNI and certificate checks for the host name;
C. an explicit address policy that does not depend on the Python patch version;
D. a session that never follows redirects, never uses a proxy, never reads the environment;
E. one monotonic deadline per call enforced on every blocking socket operation, and a cap on
   decoded body bytes.

Users see short fixed messages; details (host, addresses, causes) go to the ``ppm.egress`` log.

Configuration (read per call): ``EGRESS_ALLOWLISTED_HOSTS`` from the current Flask app's config
(exact names; empty outside an app context); ``EGRESS_CA_BUNDLE`` (a PEM file of trusted CAs)
from the app config, else the environment, else the certifi bundle requests ships with.
"""

from __future__ import annotations

import contextvars
import ipaddress
import json as _json
import logging
import os
import queue
import re
import socket
import ssl
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, NoReturn

import flask
import requests
import requests.adapters
import requests.exceptions
import requests.utils
import urllib3
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict
from urllib3.util import parse_url
from urllib3.util.ssl_ import create_urllib3_context

__all__ = [
    "EgressBlocked",
    "EgressError",
    "EgressResponse",
    "EgressTimeout",
    "EgressTooLarge",
    "check_url",
    "fetch",
]

log = logging.getLogger("ppm.egress")

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_BYTES = 262144
_CHUNK = 16384
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Messages a user may see: short, fixed, never an address.
MSG_URL = "URL not allowed"
MSG_PRIVATE = "the host resolves to a private address"
MSG_NO_NAME = "the host name does not resolve"
MSG_REFUSED = "the host refused the connection"
MSG_CONNECT = "the host could not be reached"
MSG_TLS = "the secure connection failed"
MSG_TIMEOUT = "timed out"
MSG_TOO_LARGE = "the response is too large"


class EgressError(Exception):
    """Any failure of an outbound call (base class)."""


class EgressBlocked(EgressError):
    """The URL, the host name or one of its addresses is not allowed."""


class EgressTimeout(EgressError):
    """The call did not finish by its deadline."""


class EgressTooLarge(EgressError):
    """The response body is larger than the cap."""


@dataclass(frozen=True)
class EgressResponse:
    """A fully read response. Non-2xx statuses are returned, not raised."""

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    url: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Decode the body as JSON (raises ``ValueError`` when it is not JSON)."""
        return _json.loads(self.body)


# --------------------------------------------------------------------------------------------
# Layer C: address policy, written as explicit ranges.

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

_BLOCKED_V4: tuple[ipaddress.IPv4Network, ...] = tuple(
    _V4(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.31.196.0/24",  # AS112
        "192.52.193.0/24",  # AMT
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # RFC 1918
        "192.175.48.0/24",  # AS112 direct delegation
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
    )
)

_GLOBAL_UNICAST_V6 = _V6("2000::/3")
_BLOCKED_V6: tuple[ipaddress.IPv6Network, ...] = tuple(
    _V6(n)
    for n in (
        "::/96",  # unspecified, loopback, IPv4-compatible
        "::ffff:0:0/96",  # IPv4-mapped
        "::ffff:0:0:0/96",  # IPv4-translated
        "64:ff9b::/96",  # NAT64 well-known prefix
        "64:ff9b:1::/48",  # NAT64 local-use prefix
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo 2001::/32, benchmarking, ORCHID)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4
        "2620:4f:8000::/48",  # AS112
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)

_METADATA_IPS = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)
METADATA_NAMES = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.amazonaws.com",
    }
)
# Names that are loopback by definition (RFC 6761, Debian's /etc/hosts): no lookup needed.
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# Prefixes whose low 32 bits carry an IPv4 address (compatible, mapped, translated, NAT64).
_LOW32_EMBEDDING_V6 = tuple(
    _V6(n) for n in ("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")
)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address carries (used to keep metadata IPs out)."""
    found: list[ipaddress.IPv4Address] = []
    if any(ip in net for net in _LOW32_EMBEDDING_V6):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def is_metadata_address(ip: IPAddress) -> bool:
    """A cloud-metadata address, directly or carried inside an IPv6 address."""
    if ip in _METADATA_IPS:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        return any(v4 in _METADATA_IPS for v4 in _embedded_ipv4(ip))
    return False


def private_address_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not public unicast, or None when it is."""
    if isinstance(ip, ipaddress.IPv4Address):
        for net in _BLOCKED_V4:
            if ip in net:
                return f"in {net}"
    else:
        if ip.scope_id:
            return "has a scope id"
        if ip not in _GLOBAL_UNICAST_V6:
            return "outside 2000::/3"
        for net6 in _BLOCKED_V6:
            if ip in net6:
                return f"in {net6}"
    # Belt and braces: the stdlib's view, on top of (never instead of) the explicit ranges.
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return "not global"
    return None


# --------------------------------------------------------------------------------------------
# Layer A: URL pre-flight. No DNS, no socket.

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME_RE = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")
# WHATWG "ends in a number": a last label like 1, 0177, 0x7f or 0x makes the host an IPv4 form.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_BAD_UNICODE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # lower case, no brackets; trailing dot kept (it matters to DNS)
    port: int
    ip: IPAddress | None  # set when the host is an IP literal

    @property
    def bare_name(self) -> str:
        return self.host.rstrip(".")


def _blocked(detail: str, *args: object, message: str = MSG_URL) -> NoReturn:
    log.warning("egress refused: " + detail, *(for_log(a) if isinstance(a, str) and "://" in a else a for a in args))
    raise EgressBlocked(message)


def for_log(url: str) -> str:
    """A URL as log lines may show it: scheme and authority only. Paths and queries can be
    secrets (a Slack incoming-webhook address is one), so no log line carries them."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "<not a URL>"
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    more = "/…" if len(rest) > len(authority) else ""
    host = authority.rpartition("@")[2]  # userinfo is a credential too
    return f"{scheme}://{host}"[:300] + more


def _check_raw_url(url: str) -> None:
    """Refuse what must never reach a URL parser (parsers disagree on these)."""
    if not isinstance(url, str) or not url or len(url) > 8192:
        _blocked("URL is not a usable string")
    for ch in url:
        if ch <= " " or ch in "\x7f\\" or (not ch.isascii() and _bad_unicode(ch)):
            _blocked("URL %r holds a control, space or backslash character", url)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _DEFAULT_PORTS:
        _blocked("URL %r is not http(s)", url)
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not authority or "@" in authority or "%" in authority:
        _blocked("URL %r has no host, userinfo or a percent-encoded host", url)
    if not authority.isascii() and any(_unicode_digit(ch) for ch in authority):
        _blocked("URL %r has Unicode digits in its host", url)


def _bad_unicode(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in _BAD_UNICODE_CATEGORIES


def _unicode_digit(ch: str) -> bool:
    # Digits of any script (and circled, fullwidth, superscript forms) may fold to ASCII digits
    # under IDNA/NFKC, turning a "name" into an address. Numerals without a digit value pass.
    if ch.isascii():
        return False
    if unicodedata.digit(ch, None) is not None:
        return True
    return any(c in "0123456789" for c in unicodedata.normalize("NFKC", ch))


def _parse_target(url: str) -> _Target:
    """Parse with urllib3 (what requests connects with) and classify the host."""
    try:
        parsed = parse_url(url)
    except urllib3.exceptions.LocationParseError:
        _blocked("URL %r does not parse", url)
    scheme = (parsed.scheme or "").lower()
    if scheme not in _DEFAULT_PORTS:
        _blocked("URL %r is not http(s)", url)
    if parsed.auth is not None:
        _blocked("URL %r has userinfo", url)
    host = (parsed.host or "").lower()
    if not host or "%" in host or not host.isascii():
        _blocked("URL %r has no host, a zone id or an encoded host", url)
    port = parsed.port if parsed.port is not None else _DEFAULT_PORTS[scheme]
    return _Target(scheme, host.strip("[]"), port, _host_ip(host, url))


def _host_ip(host: str, url: str) -> IPAddress | None:
    """The IP literal in ``host``, None for a name; refuse ambiguous numeric forms."""
    if host.startswith("["):
        try:
            return ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            _blocked("URL %r has a malformed IPv6 literal", url)
    if not _NAME_RE.fullmatch(host) or len(host) > 254:
        _blocked("URL %r has a malformed host", url)
    last = host.rstrip(".").rsplit(".", 1)[-1]
    if not _NUMERIC_LABEL.fullmatch(last):
        return None
    if not host.endswith("."):
        try:
            return ipaddress.IPv4Address(host)  # only the canonical dotted quad parses
        except ValueError:
            pass
    _blocked("URL %r has an ambiguous numeric host", url)


def _check_name(target: _Target, allowlisted: bool) -> None:
    name = target.bare_name
    if name in METADATA_NAMES:
        _blocked("host %r is a cloud-metadata name", target.host)
    if not allowlisted and (name in _LOOPBACK_NAMES or name.endswith(".localhost")):
        _blocked("host %r is a loopback name", target.host, message=MSG_PRIVATE)


# --------------------------------------------------------------------------------------------
# Per-call state: the policy (deadline, allow-list, CA bundle) and the pinned addresses.


# Config keys of the hosts that may sit on private addresses: provider hosts (a self-hosted
# GitLab) and, separately, notification destinations (an internal chat server).
PROVIDER_ALLOWLIST = "EGRESS_ALLOWLISTED_HOSTS"
NOTIFY_ALLOWLIST = "NOTIFY_ALLOWLISTED_HOSTS"


@dataclass(frozen=True)
class _Policy:
    deadline: float
    allowlist: frozenset[str]
    ca_bundle: str
    dialled: list[str] = field(default_factory=list)  # for the server log only

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


@dataclass(frozen=True)
class _Pin:
    host: str
    port: int
    addrs: tuple[tuple[socket.AddressFamily, str], ...]
    deadline: float
    dialled: list[str] = field(default_factory=list)


_POLICY: contextvars.ContextVar[_Policy | None] = contextvars.ContextVar("ppm_egress_policy", default=None)
_PIN: contextvars.ContextVar[_Pin | None] = contextvars.ContextVar("ppm_egress_pin", default=None)


def _current_policy(timeout: float, allowlist: str = PROVIDER_ALLOWLIST) -> _Policy:
    """Allow-list (the config key `allowlist` names) and CA bundle from config (app context
    only), else empty / default. Addresses people choose for their own ends (a notification's
    destination) read their own list, so they never inherit the trust an operator gave
    provider hosts."""
    allow: Iterable[str] = ()
    bundle: str | None = None
    if flask.has_app_context():
        config = flask.current_app.config
        raw = config.get(allowlist) or ()
        allow = raw.split(",") if isinstance(raw, str) else raw
        bundle = config.get("EGRESS_CA_BUNDLE")
    bundle = bundle or os.environ.get("EGRESS_CA_BUNDLE") or requests.utils.DEFAULT_CA_BUNDLE_PATH
    names = frozenset(h.strip().strip("[]").lower().rstrip(".") for h in allow if h and h.strip())
    return _Policy(time.monotonic() + timeout, names, bundle)


# --------------------------------------------------------------------------------------------
# Layer B: resolve once, under the deadline.


class _DaemonPool:
    """Daemon threads for blocking lookups: an abandoned lookup never blocks exit.

    (ThreadPoolExecutor joins its workers at exit, so a hung getaddrinfo would hang shutdown.)
    A new worker starts only when none is idle, up to ``max_workers``; past that, lookups
    queue and their callers still give up at their own deadlines.
    """

    def __init__(self, max_workers: int) -> None:
        self._max = max_workers
        self._workers = 0
        self._idle = 0
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        fut: Future[Any] = Future()
        with self._lock:
            if self._idle <= 0 and self._workers < self._max:
                self._workers += 1
                name = f"ppm-egress-dns-{self._workers}"
                threading.Thread(target=self._run, name=name, daemon=True).start()
            self._idle -= 1  # this job will occupy a worker
        self._jobs.put((fut, fn))
        return fut

    def _run(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            fut, fn = self._jobs.get()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # handed to the waiting caller
                fut.set_exception(exc)


_DNS_POOL = _DaemonPool(max_workers=32)

_AddrInfo = list[tuple[Any, Any, Any, Any, Any]]


def _getaddrinfo(host: str, port: int) -> _AddrInfo:
    # Looked up at call time so tests can stand a stub resolver in for socket.getaddrinfo.
    answers: _AddrInfo = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    return answers


def _resolve(target: _Target, policy: _Policy) -> _AddrInfo:
    remaining = policy.remaining()
    if remaining <= 0:
        raise EgressTimeout(MSG_TIMEOUT)
    fut = _DNS_POOL.submit(lambda: _getaddrinfo(target.host, target.port))
    try:
        answers: _AddrInfo = fut.result(timeout=remaining)
    except TimeoutError:
        fut.cancel()
        log.warning("egress timeout resolving %r", target.host)
        raise EgressTimeout(MSG_TIMEOUT) from None
    except (OSError, UnicodeError) as exc:
        log.warning("egress: %r does not resolve: %r", target.host, exc)
        raise EgressError(MSG_NO_NAME) from None
    return answers


def _answer_ip(sockaddr: tuple[Any, ...], host: str) -> IPAddress:
    try:
        ip = ipaddress.ip_address(str(sockaddr[0]))
    except ValueError:
        _blocked("host %r answered a non-address %r", host, sockaddr[0], message=MSG_PRIVATE)
    if len(sockaddr) >= 4 and sockaddr[3]:
        _blocked("host %r answered %s with a scope id", host, ip, message=MSG_PRIVATE)
    return ip


def _check_address(ip: IPAddress, target: _Target, allowlisted: bool) -> None:
    if is_metadata_address(ip):
        _blocked("host %r -> %s is a cloud-metadata address", target.host, ip)
    if allowlisted:
        return
    reason = private_address_reason(ip)
    if reason is not None:
        _blocked("host %r -> %s is not public (%s)", target.host, ip, reason, message=MSG_PRIVATE)


def _checked_addresses(target: _Target, policy: _Policy) -> tuple[tuple[socket.AddressFamily, str], ...]:
    """Resolve once and refuse if ANY answer is blocked; keep one address per family."""
    allowlisted = target.bare_name in policy.allowlist
    if target.ip is not None:
        answers: list[IPAddress] = [target.ip]
    else:
        _check_name(target, allowlisted)
        answers = [_answer_ip(info[4], target.host) for info in _resolve(target, policy)]
    if not answers:
        log.warning("egress: %r resolved to no address", target.host)
        raise EgressError(MSG_NO_NAME)
    pinned: dict[socket.AddressFamily, str] = {}
    for ip in answers:
        _check_address(ip, target, allowlisted)
        family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
        pinned.setdefault(family, str(ip))
    return tuple(pinned.items())


# --------------------------------------------------------------------------------------------
# Layer E: the deadline on every blocking socket operation.


def _arm(sock: socket.socket, deadline: float | None, per_op: float | None) -> None:
    """Before a blocking op: timeout = min(per-op timeout, time left); past the deadline, fail."""
    if deadline is None:
        return
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    socket.socket.settimeout(sock, left if per_op is None else min(per_op, left))


class _DeadlineSocket(socket.socket):
    """A TCP socket whose every blocking op ends by the call's deadline."""

    _ppm_deadline: float | None = None
    _ppm_per_op: float | None = None

    def settimeout(self, value: float | None) -> None:
        self._ppm_per_op = value
        super().settimeout(value)

    def connect(self, address: Any) -> None:
        _arm(self, self._ppm_deadline, self._ppm_per_op)
        super().connect(address)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        _arm(self, self._ppm_deadline, self._ppm_per_op)
        return super().recv(bufsize, flags)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        _arm(self, self._ppm_deadline, self._ppm_per_op)
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: Any, flags: int = 0) -> int:
        _arm(self, self._ppm_deadline, self._ppm_per_op)
        return super().send(data, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        _arm(self, self._ppm_deadline, self._ppm_per_op)
        super().sendall(data, flags)


class _DeadlineSSLSocket(ssl.SSLSocket):
    """The TLS side (installed via SSLContext.sslsocket_class): handshake, reads, writes."""

    _ppm_per_op: float | None = None

    def _ppm_arm(self) -> None:
        deadline = self.__dict__.get("_ppm_deadline")
        if deadline is None:  # first op is the handshake, inside the adapter's send()
            pin = _PIN.get()
            deadline = self.__dict__["_ppm_deadline"] = pin.deadline if pin else None
        _arm(self, deadline, self._ppm_per_op)

    def settimeout(self, value: float | None) -> None:
        self._ppm_per_op = value
        super().settimeout(value)

    def do_handshake(self, block: bool = False) -> None:
        self._ppm_arm()
        super().do_handshake(block)

    def read(self, len: int = 1024, buffer: Any = None) -> Any:  # stdlib's parameter names
        self._ppm_arm()
        return super().read(len, buffer)

    def write(self, data: Any) -> int:
        self._ppm_arm()
        return super().write(data)

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        self._ppm_arm()
        return super().recv(buflen, flags)

    def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
        self._ppm_arm()
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: Any, flags: int = 0) -> int:
        self._ppm_arm()
        return super().send(data, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._ppm_arm()
        super().sendall(data, flags)


_SSL_CONTEXTS: dict[str, ssl.SSLContext] = {}
_SSL_LOCK = threading.Lock()


def _ssl_context(ca_bundle: str) -> ssl.SSLContext:
    """One verifying context per CA bundle (loading a bundle costs milliseconds)."""
    ctx = _SSL_CONTEXTS.get(ca_bundle)
    if ctx is None:
        with _SSL_LOCK:
            ctx = _SSL_CONTEXTS.get(ca_bundle)
            if ctx is None:
                ctx = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
                ctx.check_hostname = True
                ctx.load_verify_locations(cafile=ca_bundle)
                ctx.sslsocket_class = _DeadlineSSLSocket
                _SSL_CONTEXTS[ca_bundle] = ctx
    return ctx


# --------------------------------------------------------------------------------------------
# Layer B: connections that dial exactly the pinned address.


def _dial(conn: urllib3.connection.HTTPConnection) -> socket.socket:
    pin = _PIN.get()
    host = conn.host.strip("[]").lower()
    if pin is None or pin.host.rstrip(".") != host or pin.port != conn.port:
        log.error("egress: connection to %r without a matching pin", host)
        raise EgressBlocked(MSG_URL)  # never resolve here: that is the rebinding window
    per_op = conn.timeout if isinstance(conn.timeout, (int, float)) else None
    last: OSError | None = None
    for family, ip in pin.addrs:
        sock = _DeadlineSocket(family, socket.SOCK_STREAM)
        sock._ppm_deadline = pin.deadline
        try:
            for opt in conn.socket_options or ():
                sock.setsockopt(*opt)
            sock.settimeout(per_op)
            sock.connect((ip, conn.port) if family == socket.AF_INET else (ip, conn.port, 0, 0))
        except TimeoutError as exc:
            sock.close()
            log.warning("egress: connect to %r (%s) timed out", host, ip)
            raise urllib3.exceptions.ConnectTimeoutError(conn, "connect timed out") from exc
        except OSError as exc:
            sock.close()
            log.warning("egress: connect to %r (%s) failed: %r", host, ip, exc)
            last = exc
            continue
        pin.dialled.append(ip)
        log.debug("egress: connected to %r at %s port %s", host, ip, conn.port)
        sys.audit("http.client.connect", conn, conn.host, conn.port)
        return sock
    raise urllib3.exceptions.NewConnectionError(conn, f"Failed to establish a new connection: {last!r}") from last


class _PinnedHTTPConnection(urllib3.connection.HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _dial(self)


class _PinnedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _dial(self)


class _PinnedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """Validate, resolve once and pin in ``send()``, then let HTTPAdapter.send do the rest."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ppm_ssl_context = ssl_context  # before super().__init__, which builds the pools
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        pool_kwargs["ssl_context"] = self._ppm_ssl_context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        # A new dict: the module-level default is shared by every PoolManager.
        self.poolmanager.pool_classes_by_scheme = {"http": _PinnedHTTPPool, "https": _PinnedHTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> NoReturn:
        # A proxy resolves the name itself, which would make the pin meaningless.
        _blocked("a proxy was requested for %r", proxy)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # Always verify, with the CAs already loaded in our context (never reload per call).
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str | None] | None = None,
    ) -> requests.Response:
        if proxies and any(proxies.values()):
            _blocked("a proxy was requested")
        # Outside fetch() (a caller using the session directly) the call gets its own deadline.
        ambient = float(timeout) if isinstance(timeout, (int, float)) else DEFAULT_TIMEOUT
        policy = _POLICY.get() or _current_policy(ambient)
        target = _parse_target(request.url or "")
        addrs = _checked_addresses(target, policy)
        pin = _Pin(target.host, target.port, addrs, policy.deadline, policy.dialled)
        token = _PIN.set(pin)
        try:
            return super().send(request, stream=stream, timeout=timeout, verify=True, cert=None, proxies=None)
        finally:
            _PIN.reset(token)


_SESSION_HEADERS = {
    "User-Agent": "ppm-egress/1",
    "Accept": "*/*",
    "Accept-Encoding": "identity",  # servers may still compress: decoded bytes are counted
    "Connection": "close",  # one connection per call, never reused across pins
}


class GuardedSession(requests.Session):
    """No environment, no proxies, no redirects, only the guarded adapter, sealed mounts."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ppm_sealed = False
        super().__init__()
        self.trust_env = False  # no env proxies, no .netrc, no REQUESTS_CA_BUNDLE
        self.proxies = {}
        self.max_redirects = 0
        self.headers = CaseInsensitiveDict(_SESSION_HEADERS)
        self.adapters.clear()
        adapter = GuardedAdapter(ssl_context or _ssl_context(_current_policy(DEFAULT_TIMEOUT).ca_bundle))
        super().mount("https://", adapter)
        super().mount("http://", adapter)
        self._ppm_sealed = True

    def mount(self, prefix: str | bytes, adapter: requests.adapters.BaseAdapter) -> None:
        if self._ppm_sealed:
            raise RuntimeError("the egress session accepts no other adapter")
        super().mount(prefix, adapter)

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None  # never follow, whatever allow_redirects says

    def rebuild_proxies(self, prepared_request: requests.PreparedRequest, proxies: Any) -> dict[str, str]:
        return {}


# --------------------------------------------------------------------------------------------
# Errors: map whatever requests/urllib3/ssl raised to the four public classes.

_TIMEOUT_TYPES: tuple[type[BaseException], ...] = (
    TimeoutError,
    urllib3.exceptions.TimeoutError,
    requests.exceptions.Timeout,
)
_URL_TYPES: tuple[type[BaseException], ...] = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.URLRequired,
    urllib3.exceptions.LocationParseError,
    UnicodeError,
)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes, contexts, wrapped reasons and exception args."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 32:
        cur = todo.pop()
        if any(cur is s for s in seen):
            continue
        seen.append(cur)
        linked = (cur.__cause__, cur.__context__, getattr(cur, "reason", None), *getattr(cur, "args", ()))
        todo.extend(e for e in linked if isinstance(e, BaseException))
    return seen


def _translate(exc: BaseException, policy: _Policy) -> EgressError:
    chain = _chain(exc)
    if any(isinstance(e, EgressError) for e in chain):
        return next(e for e in chain if isinstance(e, EgressError))
    # urllib3's NewConnectionError subclasses ConnectTimeoutError for history's sake: not a timeout.
    timeouts = [e for e in chain if isinstance(e, _TIMEOUT_TYPES)]
    if any(not isinstance(e, urllib3.exceptions.NewConnectionError) for e in timeouts):
        return EgressTimeout(MSG_TIMEOUT)
    if policy.remaining() <= 0:
        return EgressTimeout(MSG_TIMEOUT)
    if isinstance(exc, _URL_TYPES):
        return EgressBlocked(MSG_URL)
    if any(isinstance(e, (ssl.SSLError, ssl.CertificateError, urllib3.exceptions.SSLError)) for e in chain):
        return EgressError(MSG_TLS)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return EgressError(MSG_REFUSED)
    return EgressError(MSG_CONNECT)


# --------------------------------------------------------------------------------------------
# The one public entry point.


def fetch(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    data: bytes | str | Mapping[str, Any] | None = None,
    json: Any = None,
    allowlist: str = PROVIDER_ALLOWLIST,
) -> EgressResponse:
    """Make one guarded HTTP request and read at most ``max_bytes`` of decoded body.

    Non-2xx responses are returned. Raises ``EgressBlocked`` (URL, name or address refused),
    ``EgressTimeout`` (the whole call, DNS included, passed ``timeout`` seconds),
    ``EgressTooLarge`` (body over ``max_bytes``) or ``EgressError`` (anything else).
    ``allowlist`` names the config key of the hosts allowed on private addresses.
    """
    method = method.upper()
    if method not in _METHODS:
        raise ValueError(f"unsupported method {method!r}")
    if not timeout > 0:
        raise ValueError("timeout must be positive")
    if headers and any(k.lower() == "host" for k in headers):
        raise ValueError("the Host header comes from the URL")
    if headers and not all(_header_safe(k) and _header_safe(v) for k, v in headers.items()):
        # Refused before anything is encoded: an encoding error's message would carry the value,
        # and header values are often secrets.
        raise EgressError("a request header contains characters that cannot be sent")
    policy = _current_policy(float(timeout), allowlist)
    _check_raw_url(url)
    token = _POLICY.set(policy)
    started = time.monotonic()
    try:
        with GuardedSession(_ssl_context(policy.ca_bundle)) as session:
            resp = session.request(
                method,
                url,
                headers=dict(headers or {}),
                data=data,
                json=json,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )
            with resp:
                result = _read(resp, max_bytes)
    except EgressError as exc:
        _log_end(method, url, policy, started, type(exc).__name__, None)
        raise
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        err = _translate(exc, policy)
        _log_end(method, url, policy, started, f"{type(err).__name__} ({err})", exc)
        raise err from None  # the user-facing error carries no address; the log has the cause
    finally:
        _POLICY.reset(token)
    _log_end(method, url, policy, started, str(result.status), None)
    return result


def _header_safe(text: str) -> bool:
    return isinstance(text, str) and text.isascii() and text.isprintable()


def _log_end(method: str, url: str, policy: _Policy, started: float, outcome: str, cause: object) -> None:
    level = logging.DEBUG if outcome.isdigit() else logging.INFO
    took = time.monotonic() - started
    dialled = ",".join(policy.dialled) or "-"
    # Only the types of the cause chain: an exception's text can quote request headers (tokens).
    causes = " <- ".join(type(c).__name__ for c in _chain(cause)) if isinstance(cause, BaseException) else "-"
    log.log(level, "egress %s %r -> %s in %.3fs via %s; cause %s", method, for_log(url), outcome, took, dialled, causes)


def _read(resp: requests.Response, max_bytes: int) -> EgressResponse:
    """Stream the body, counting decoded bytes; refuse a declared or actual size over the cap.

    Every socket read is already bounded by the deadline, so this loop needs no clock.
    """
    declared = resp.headers.get("Content-Length", "")
    head = resp.request is not None and resp.request.method == "HEAD"
    if not head and declared.strip().isdigit() and int(declared) > max_bytes:
        log.warning("egress: %s declares %s bytes (cap %s)", for_log(resp.url or ""), declared, max_bytes)
        raise EgressTooLarge(MSG_TOO_LARGE)
    body = bytearray()
    for chunk in resp.iter_content(chunk_size=_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            log.warning("egress: %s body passed the cap of %s bytes", for_log(resp.url or ""), max_bytes)
            raise EgressTooLarge(MSG_TOO_LARGE)
    return EgressResponse(resp.status_code, CaseInsensitiveDict(resp.headers), bytes(body), resp.url or "")


def check_url(url: str, *, timeout: float = DEFAULT_TIMEOUT, allowlist: str = PROVIDER_ALLOWLIST) -> None:
    """The guard's rules on a URL without sending anything: pre-flight (A), then resolve the host
    once and refuse a private, loopback or metadata answer (B, C). For checking an address a
    person gives before it is stored; :func:`fetch` checks again at every call. Raises
    ``EgressBlocked``, ``EgressTimeout`` or ``EgressError`` (the name does not resolve)."""
    policy = _current_policy(float(timeout), allowlist)
    _check_raw_url(url)
    _checked_addresses(_parse_target(url), policy)
