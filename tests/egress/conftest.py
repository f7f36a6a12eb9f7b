"""Egress test fixtures: the stub resolver and connect guard (autouse), servers, a test CA."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
import trustme

from tests.egress.names import PRIVATE_ANSWERS, PUBLIC_IP, PUBLIC_NAME
from tests.egress.servers import Handler, Server
from tests.support.netguard import ConnectGuard, NetGuard, StubResolver, installed_netguard


@pytest.fixture(autouse=True)
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    """Rule zero: a stub resolver and a connect guard for every egress test."""
    with installed_netguard(monkeypatch) as guard:
        guard.resolver.add(PUBLIC_NAME, PUBLIC_IP)
        for name, answers in PRIVATE_ANSWERS.items():
            guard.resolver.add(name, *answers)
        yield guard


@pytest.fixture
def resolver(net: NetGuard) -> StubResolver:
    return net.resolver


@pytest.fixture
def guard(net: NetGuard) -> ConnectGuard:
    return net.guard


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """Start loopback servers; all are stopped at teardown."""
    started: list[Server] = []

    def start(handler: Handler, **kwargs: Any) -> Server:
        server = Server(handler, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_bundle(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make fetch trust the test CA (through the EGRESS_CA_BUNDLE environment variable)."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("EGRESS_CA_BUNDLE", str(path))
    return path


@pytest.fixture
def tls_server_context(ca: trustme.CA) -> Callable[[str], ssl.SSLContext]:
    def make(name: str) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(name).configure_cert(ctx)
        return ctx

    return make


@pytest.fixture
def app_with() -> Callable[..., flask.Flask]:
    """A bare Flask app (not ppm.create_app) carrying the given config."""

    def make(**config: Any) -> flask.Flask:
        app = flask.Flask(__name__)
        app.config.update(config)
        return app

    return make
