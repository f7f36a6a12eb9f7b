"""Session hardening: no environment, no proxies, no retries, sealed mounts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from ppm import egress
from tests.egress import servers as S
from tests.egress.names import PUBLIC_NAME
from tests.egress.servers import Server
from tests.support.netguard import NetGuard


def test_session_settings() -> None:
    with egress.GuardedSession() as session:
        assert session.trust_env is False
        assert session.max_redirects == 0
        assert session.proxies == {}
        assert set(session.adapters) == {"http://", "https://"}
        adapter = session.get_adapter("https://x.example-test.com/")
        assert isinstance(adapter, egress.GuardedAdapter)
        assert isinstance(adapter, requests.adapters.HTTPAdapter)
        assert adapter.max_retries.total == 0
        with pytest.raises(RuntimeError):
            session.mount("http://", requests.adapters.HTTPAdapter())


def test_environment_proxies_are_ignored(
    monkeypatch: pytest.MonkeyPatch, serve: Callable[..., Server], net: NetGuard
) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.9:3128")
    monkeypatch.setenv("NO_PROXY", "")
    srv = serve(S.respond(200, b"direct"))
    assert egress.fetch("GET", f"http://{PUBLIC_NAME}:{srv.port}/").body == b"direct"
    assert net.guard.dialled_hosts() == ["127.0.0.1"]


def test_an_explicit_proxy_is_refused(serve: Callable[..., Server], net: NetGuard) -> None:
    srv = serve(S.respond(200, b"direct"))
    with egress.GuardedSession() as session, pytest.raises(egress.EgressBlocked):
        session.get(f"http://{PUBLIC_NAME}:{srv.port}/", proxies={"http": "http://127.0.0.9:3128"})
    assert net.connects == []
    with pytest.raises(egress.EgressBlocked):
        egress.GuardedAdapter(egress._ssl_context(requests.utils.DEFAULT_CA_BUNDLE_PATH)).proxy_manager_for(
            "http://127.0.0.9:3128"
        )


def test_no_retry_after_a_failure(serve: Callable[..., Server]) -> None:
    srv = serve(S.reset())
    with pytest.raises(egress.EgressError):
        egress.fetch("GET", f"http://{PUBLIC_NAME}:{srv.port}/")
    assert srv.hits == 1


def test_each_call_resolves_and_connects_afresh(serve: Callable[..., Server], net: NetGuard) -> None:
    srv = serve(S.respond(200, b"ok"))
    for _ in range(3):
        egress.fetch("GET", f"http://{PUBLIC_NAME}:{srv.port}/")
    assert net.resolver.lookups(PUBLIC_NAME) == 3
    assert srv.hits == 3  # Connection: close, a fresh pool per call: no pin outlives its call


def test_session_used_directly_is_still_guarded(net: NetGuard) -> None:
    with egress.GuardedSession() as session, pytest.raises(egress.EgressBlocked):
        session.get("http://private.example-test.com/")
    assert net.connects == []
