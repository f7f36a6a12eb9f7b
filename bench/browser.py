"""How fast a big schedule opens in a real browser: Debian's Chromium driven by Playwright.

Run: .venv/bin/python bench/browser.py [--runs 5] [--sizes 1000 5000] [--links-per-task 4]

Each project is made by the demo CLI (`flask ppm demo --tasks N --links-per-task 4`) in a
throwaway SQLite instance; the app is served by gunicorn on 127.0.0.1 (as in production), and
every page is loaded --runs times, each in a fresh browser context (a cold cache: no HTTP cache,
no compiled scripts kept) with the demo owner's session cookie. Printed per size and page: the
median first contentful paint, load event and DOM element count after load, and the HTML bytes
on the wire and decoded. Then the targets of issue #15; the exit status is 1 when one is missed,
so the script can be run as a check. Benchmarks print figures; they do not assert (TESTING.md).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.support.chromium import ARGS, CHROMIUM  # noqa: E402 (after the path is set)

EMAIL, PASSWORD = "demo@example.com", "bench-demo"
PAGES = {"list": "", "gantt week": "?view=gantt&zoom=week"}

# Issue #15's targets, in milliseconds and elements.
BIG, SMALL = 5000, 1000
BIG_FCP_MS, BIG_LOAD_MS, BIG_NODES = 300.0, 800.0, 25_000
SMALL_LOAD_MS = 300.0

TIMING = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return {
    fcp: paint ? paint.startTime : null,
    ttfb: nav.responseStart,
    load: nav.loadEventStart,
    nodes: document.getElementsByTagName('*').length,
    wire: nav.encodedBodySize,
    html: nav.decodedBodySize,
  };
}"""


@dataclass
class Figures:
    ttfb: float
    fcp: float
    load: float
    nodes: int
    wire: int
    html: int


def _env(folder: str) -> dict[str, str]:
    return {
        **os.environ,
        "PPM_INSTANCE_PATH": folder,
        "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
        "RATELIMIT_ENABLED": "false",
        "FLASK_APP": "wsgi",
    }


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def build(env: dict[str, str], size: int, links_per_task: int) -> str:
    """A project of `size` tasks made by the demo CLI; its id is the last line it prints."""
    output = _flask(
        env, "ppm", "demo", "--password", PASSWORD, "--tasks", str(size), "--links-per-task", str(links_per_task)
    )
    return output.strip().splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/login", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def session_state(browser: Browser, base: str) -> Any:
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/projects/**")
    state = context.storage_state()
    context.close()
    return state


def load_once(browser: Browser, state: Any, url: str) -> Figures:
    """One cold load: a new context has an empty cache."""
    context = browser.new_context(storage_state=state, viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        response = page.goto(url, wait_until="load", timeout=120_000)
        assert response is not None and response.status == 200, (url, response and response.status)
        page.wait_for_timeout(50)  # the paint entry is recorded just after the frame
        data = page.evaluate(TIMING)
        return Figures(
            ttfb=float(data["ttfb"]),
            fcp=float(data["fcp"] or 0.0),
            load=float(data["load"]),
            nodes=int(data["nodes"]),
            wire=int(data["wire"]),
            html=int(data["html"]),
        )
    finally:
        context.close()


def measure(browser: Browser, state: Any, url: str, runs: int) -> Figures:
    load_once(browser, state, url)  # warm the server (template compilation), not the browser
    samples = [load_once(browser, state, url) for _ in range(runs)]
    return Figures(
        ttfb=statistics.median(s.ttfb for s in samples),
        fcp=statistics.median(s.fcp for s in samples),
        load=statistics.median(s.load for s in samples),
        nodes=max(s.nodes for s in samples),
        wire=samples[-1].wire,
        html=samples[-1].html,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold loads per page (>= 5)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[SMALL, BIG])
    parser.add_argument("--links-per-task", type=int, default=4)
    args = parser.parse_args()
    runs = max(args.runs, 5)
    results: dict[tuple[int, str], Figures] = {}
    with tempfile.TemporaryDirectory() as folder:
        env = _env(folder)
        _flask(env, "db", "upgrade")
        projects = {size: build(env, size, args.links_per_task) for size in args.sizes}
        with serve(env) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            state = session_state(browser, base)
            print(f"Median of {runs} cold loads per page ({args.links_per_task} links per task)")
            print(ROW.format("tasks", "page", "1st byte", "FCP", "load", "elements", "wire", "HTML"))
            # The floor on this machine now: a small page (the projects index) loaded the same way.
            _print_row("-", "small page", measure(browser, state, f"{base}/projects/", runs))
            for size, project_id in projects.items():
                for name, query in PAGES.items():
                    url = f"{base}/projects/{project_id}/schedule{query}"
                    results[(size, name)] = measure(browser, state, url, runs)
                    _print_row(str(size), name, results[(size, name)])
            browser.close()
    return verdict(results)


ROW = "  {:>6} {:<11} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9}"


def _print_row(size: str, name: str, row: Figures) -> None:
    ms = [f"{value:.0f}ms" for value in (row.ttfb, row.fcp, row.load)]
    print(ROW.format(size, name, *ms, row.nodes, f"{row.wire / 1024:.0f}KB", f"{row.html / 1024:.0f}KB"))


def verdict(results: dict[tuple[int, str], Figures]) -> int:
    checks: list[tuple[str, float, float]] = []
    for name in PAGES:
        big = results.get((BIG, name))
        if big:
            checks += [
                (f"{BIG} {name}: first contentful paint (ms)", big.fcp, BIG_FCP_MS),
                (f"{BIG} {name}: load event (ms)", big.load, BIG_LOAD_MS),
                (f"{BIG} {name}: elements after load", big.nodes, BIG_NODES),
            ]
        small = results.get((SMALL, name))
        if small:
            checks.append((f"{SMALL} {name}: load event (ms)", small.load, SMALL_LOAD_MS))
    print("\nTargets (issue #15)")
    missed = 0
    for label, value, target in checks:
        ok = value <= target
        missed += not ok
        print(f"  {label:<46} {value:>9.0f} (<= {target:g}): {'ok' if ok else 'MISSED'}")
    if not checks:
        print("  (no target applies to these sizes)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
