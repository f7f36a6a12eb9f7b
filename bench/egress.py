"""Cost of the egress guard: median small GET through ppm.egress.fetch vs a plain requests.Session.

Run: .venv/bin/python bench/egress.py [--calls N] [--keep-alive]

Both clients hit the same loopback server by the same name ("bench.internal", allow-listed in a
Flask app context). Name resolution is a stub (no DNS on these machines, and nothing may leave
loopback), so both pay the same lookup, the guard additionally pays its worker-thread hop.

By default the server closes each connection after one response (HTTP/1.0 style), so both
clients open one TCP connection per call, as fetch always does. With --keep-alive the server
keeps connections open: the plain Session then reuses one connection, which fetch never does by
design (a fresh, pinned connection per call), so that figure includes the connection set-up.
"""

from __future__ import annotations

import argparse
import http.server
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flask
import requests

from ppm import egress

NAME = "bench.internal"
BODY = b'{"login": "octocat", "id": 1, "type": "User"}'


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class KeepAliveHandler(Handler):
    protocol_version = "HTTP/1.1"


def _stub_resolver() -> None:
    """Answer NAME with loopback; refuse everything else (never touch real DNS)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == NAME:
            host = "127.0.0.1"
        elif host not in ("127.0.0.1", "::1"):
            raise socket.gaierror(socket.EAI_NONAME, "bench resolves only its own name")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def _interleaved_ms(a: Callable[[], object], b: Callable[[], object], calls: int) -> tuple[float, float]:
    """Median ms of a and of b, timed alternately so machine noise hits both alike."""
    for _ in range(20):  # warm-up: imports, CA context, thread pool, code paths
        a()
        b()
    times_a, times_b = [], []
    clock = time.perf_counter
    for _ in range(calls):
        t0 = clock()
        a()
        t1 = clock()
        b()
        t2 = clock()
        times_a.append(t1 - t0)
        times_b.append(t2 - t1)
    return statistics.median(times_a) * 1000, statistics.median(times_b) * 1000


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _compare(port: int, calls: int, rounds: int) -> tuple[list[float], list[float]]:
    """Per round: (plain Session median, fetch median), interleaved call by call."""
    url = f"http://{NAME}:{port}/user"
    plain = requests.Session()  # reused across calls, as a plain client would be

    def via_fetch() -> object:
        resp = egress.fetch("GET", url)
        assert resp.status == 200 and resp.body == BODY
        return resp

    def via_requests() -> object:
        resp = plain.get(url, timeout=5)
        assert resp.status_code == 200 and resp.content == BODY
        return resp

    plain_runs, fetch_runs = [], []
    for _ in range(rounds):
        p_ms, f_ms = _interleaved_ms(via_requests, via_fetch, calls)
        plain_runs.append(p_ms)
        fetch_runs.append(f_ms)
    plain.close()
    return plain_runs, fetch_runs


def _report(title: str, plain_runs: list[float], fetch_runs: list[float], target: bool) -> None:
    p, f = statistics.median(plain_runs), statistics.median(fetch_runs)
    print(title)
    print(f"  requests.Session  median {p:7.3f} ms   (rounds: {', '.join(f'{x:.3f}' for x in plain_runs)})")
    print(f"  ppm.egress.fetch  median {f:7.3f} ms   (rounds: {', '.join(f'{x:.3f}' for x in fetch_runs)})")
    verdict = ("   (target <= 1.3: " + ("met" if f / p <= 1.3 else "MISSED") + ")") if target else ""
    print(f"  ratio fetch/plain {f / p:7.2f}{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls per client per round (>= 200)")
    parser.add_argument("--rounds", type=int, default=3, help="independent rounds (median reported)")
    args = parser.parse_args()
    if args.calls < 200:
        parser.error("use at least 200 calls")

    per_call, keep_alive = _serve(Handler), _serve(KeepAliveHandler)
    _stub_resolver()
    app = flask.Flask(__name__)
    app.config["EGRESS_ALLOWLISTED_HOSTS"] = [NAME]
    with app.app_context():
        results = [_compare(s.server_address[1], args.calls, args.rounds) for s in (per_call, keep_alive)]
    for server in (per_call, keep_alive):
        server.shutdown()

    print(f"egress bench: small GET on loopback, {args.calls} calls per client x {args.rounds} rounds")
    _report("server closes after each response (both clients connect per call):", *results[0], target=True)
    _report(
        "reference, keep-alive server (the plain Session reuses its connection; fetch never does):",
        *results[1],
        target=False,
    )


if __name__ == "__main__":
    main()
