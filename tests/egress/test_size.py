"""At most max_bytes of decoded body: declared, close-delimited, lying and compressed bodies."""

from __future__ import annotations

import socket
import time
import tracemalloc
from collections.abc import Callable

import pytest

from ppm import egress
from tests.egress import servers as S
from tests.egress.names import PUBLIC_NAME
from tests.egress.servers import Server

CAP = egress.DEFAULT_MAX_BYTES


def _url(srv: Server) -> str:
    return f"http://{PUBLIC_NAME}:{srv.port}/"


def test_close_delimited_body_over_the_cap(serve: Callable[..., Server]) -> None:
    srv = serve(S.close_delimited(8 * CAP))
    with pytest.raises(egress.EgressTooLarge) as info:
        egress.fetch("GET", _url(srv))
    assert str(info.value) == egress.MSG_TOO_LARGE


def test_huge_content_length_is_refused_at_once(serve: Callable[..., Server]) -> None:
    srv = serve(S.lying_length(declared=10**12, actual=1000))
    started = time.monotonic()
    with pytest.raises(egress.EgressTooLarge):
        egress.fetch("GET", _url(srv))
    assert time.monotonic() - started < 0.5


def test_content_length_just_over_the_cap(serve: Callable[..., Server]) -> None:
    srv = serve(S.respond(200, b"z" * (CAP + 1)))
    with pytest.raises(egress.EgressTooLarge):
        egress.fetch("GET", _url(srv))


def test_body_exactly_at_the_cap_is_returned(serve: Callable[..., Server]) -> None:
    srv = serve(S.close_delimited(CAP))
    assert len(egress.fetch("GET", _url(srv)).body) == CAP


def test_a_short_content_length_cuts_a_longer_body(serve: Callable[..., Server]) -> None:
    srv = serve(S.lying_length(declared=100, actual=4 * CAP))
    assert egress.fetch("GET", _url(srv)).body == b"y" * 100


def test_custom_cap(serve: Callable[..., Server]) -> None:
    srv = serve(S.close_delimited(5000))
    with pytest.raises(egress.EgressTooLarge):
        egress.fetch("GET", _url(srv), max_bytes=4096)
    assert len(egress.fetch("GET", _url(srv), max_bytes=5000).body) == 5000


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "close-delimited"])
def test_gzip_bomb_is_cut_by_decoded_size(serve: Callable[..., Server], with_length: bool) -> None:
    decoded = 200 * 1024 * 1024  # ~200 KB on the wire, 200 MiB inflated
    assert len(S.gzip_bomb_bytes(decoded)) < CAP  # so only counting decoded bytes can catch it
    srv = serve(S.gzip_bomb(decoded, with_length=with_length))
    tracemalloc.start()
    try:
        with pytest.raises(egress.EgressTooLarge):
            egress.fetch("GET", _url(srv))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, peak


def test_small_gzip_body_is_decoded(serve: Callable[..., Server]) -> None:
    srv = serve(S.gzip_bomb(1000, with_length=True))
    assert egress.fetch("GET", _url(srv)).body == b"\0" * 1000


def test_head_with_a_large_content_length_is_fine(serve: Callable[..., Server]) -> None:
    def head_only(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\nConnection: close\r\n\r\n")

    srv = serve(head_only)
    resp = egress.fetch("HEAD", _url(srv))
    assert (resp.status, resp.body) == (200, b"")
