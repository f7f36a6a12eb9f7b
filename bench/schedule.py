"""Speed of the schedule at 1,000 and 5,000 tasks: list page, Gantt (Week zoom), JSON task list;
and the list and Gantt at the largest size with links, unfiltered and with each Needs attention
filter (`?attention=…`, SPEC §16): time, queries (must be equal) and rows kept.

Run: .venv/bin/python bench/schedule.py [--runs 5] [--sizes 1000 5000]

Each project is built in bulk by the demo builder (`flask ppm demo --tasks N`: nested summaries,
milestones, assignees) in a throwaway SQLite database, and every page is asked for through
Flask's in-process test client as a logged-in owner. Printed per size and page: the median and
the spread of --runs timed requests (after one warm-up), the number of SQL queries, the page
size, and the peak Python memory of one request (tracemalloc, measured in a separate run since
tracing slows everything down). Then the 5,000/1,000 time ratios (linear is 5; the target is at
most 6) and the targets: the list and the Gantt page at 5,000 tasks each at most 1.0 s median,
the JSON task list at most 0.15 s (issue #15). The CPU time of a request (`cpu`, the median of
the same runs) is printed too: on a shared, busy machine it moves less than the wall clock.
Benchmarks print figures; they do not assert (TESTING.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from ppm import create_app
from ppm.auth import services as auth_services
from ppm.cli import build_big_project
from ppm.extensions import db
from ppm.links.demo import add_bulk_links
from tests.support.buffered_client import BufferedClient

EMAIL, PASSWORD = "bench@example.com", "bench-password"
TARGET_SECONDS = 1.0
JSON_TARGET_SECONDS = 0.15
TARGET_RATIO = 6.0
PAGES = {
    "list page": "/projects/{pid}/schedule",
    "gantt week": "/projects/{pid}/schedule?view=gantt&zoom=week",
    "json tasks": "/api/v1/projects/{pid}/tasks/",
}


def make_app(folder: str) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "INSTANCE_PATH": folder,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
        }
    )
    with app.app_context():
        db.create_all()
        auth_services.create_user(EMAIL, "Bench Owner", PASSWORD)
    return app


def build(app: Flask, size: int, links_per_task: int = 0) -> tuple[str, float]:
    with app.app_context():
        owner = auth_services.find_user_by_email(EMAIL)
        assert owner is not None
        started = time.perf_counter()
        project = build_big_project(owner, size)
        if links_per_task:
            add_bulk_links(project, links_per_task)
        return project.id, time.perf_counter() - started


def login(app: Flask) -> FlaskClient:
    app.test_client_class = BufferedClient  # the whole body, streamed or not, inside the timing
    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 303, response.status_code
    return client


def measure(app: Flask, client: FlaskClient, url: str, runs: int) -> dict[str, Any]:
    first = client.get(url)  # warm-up: template compilation, caches
    assert first.status_code == 200, (url, first.status_code)
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert response.status_code == 200
    statements: list[str] = []

    def count(*_args: Any) -> None:
        statements.append("q")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    tracemalloc.start()
    client.get(url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "median": statistics.median(times),
        "cpu": statistics.median(cpu),
        "min": min(times),
        "max": max(times),
        "queries": len(statements),
        "bytes": len(first.data),
        "peak": peak,
    }


LINKS_TARGET_RATIO = 1.3


def _links_run(app: Flask, client: FlaskClient, size: int, per_task: int, runs: int) -> dict[str, dict[str, Any]]:
    project_id, seconds = build(app, size, per_task)
    print(f"\n{size} tasks + {per_task} links per task (built in {seconds:.1f} s), {runs} runs each")
    rows = {}
    for name, pattern in PAGES.items():
        rows[name] = row = measure(app, client, pattern.format(pid=project_id), runs)
        print(f"  {name:<12} {row['median']:>8.3f}s {row['queries']:>8} queries {row['bytes'] / 1024:>8.0f}KB")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page (>= 5)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument(
        "--links-per-task", type=int, default=4, help="links per non-summary task in the extra run at the largest size"
    )
    args = parser.parse_args()
    runs = max(args.runs, 5)
    results: dict[int, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(folder)
        client = login(app)
        for size in args.sizes:
            project_id, seconds = build(app, size)
            print(f"\n{size} tasks (built in bulk in {seconds:.1f} s), {runs} runs each")
            print(
                f"  {'page':<12} {'median':>9} {'min':>9} {'max':>9} {'cpu':>9} {'queries':>8} {'size':>10} "
                f"{'peak mem':>10}"
            )
            results[size] = {}
            for name, pattern in PAGES.items():
                row = measure(app, client, pattern.format(pid=project_id), runs)
                results[size][name] = row
                print(
                    f"  {name:<12} {row['median']:>8.3f}s {row['min']:>8.3f}s "
                    f"{row['max']:>8.3f}s {row['cpu']:>8.3f}s {row['queries']:>8} "
                    f"{row['bytes'] / 1024:>8.0f}KB {row['peak'] / 2**20:>8.1f}MB"
                )
        linked = _links_run(app, client, max(args.sizes), args.links_per_task, runs) if args.links_per_task else {}
        attention_run(app, client, max(args.sizes), args.links_per_task or 4, runs)
    if linked:
        size = max(args.sizes)
        print(f"\n{size} tasks with {args.links_per_task} links per task vs the same size without links")
        for name, row in linked.items():
            plain = results[size][name]
            ratio = row["median"] / plain["median"]
            verdict = (
                "ok"
                if name != "list page" or (ratio <= LINKS_TARGET_RATIO and row["queries"] == plain["queries"])
                else "OVER"
            )
            print(
                f"  {name:<12} median {row['median']:.3f}s vs {plain['median']:.3f}s  "
                f"x{ratio:.2f}   queries {plain['queries']} -> {row['queries']}"
                + (
                    f"   (list target: same queries, <= x{LINKS_TARGET_RATIO}): {verdict}"
                    if name == "list page"
                    else ""
                )
            )
    sizes = sorted(results)
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        print(f"\n{big}/{small} ratios (time; linear is {big / small:g})")
        for name in PAGES:
            a, b = results[small][name], results[big][name]
            print(
                f"  {name:<12} time x{b['median'] / a['median']:.2f}   "
                f"queries {a['queries']} -> {b['queries']}   size x{b['bytes'] / a['bytes']:.2f}"
            )
    if 5000 in results:
        print("\nTargets at 5000 tasks")
        for name in ("list page", "gantt week"):
            median = results[5000][name]["median"]
            verdict = "ok" if median <= TARGET_SECONDS else "OVER"
            print(f"  {name:<12} median {median:.3f}s (target <= {TARGET_SECONDS:.1f}s): {verdict}")
        row = results[5000]["json tasks"]
        verdict = "ok" if row["median"] <= JSON_TARGET_SECONDS else "OVER"
        print(
            f"  {'json tasks':<12} median {row['median']:.3f}s, cpu {row['cpu']:.3f}s "
            f"(target <= {JSON_TARGET_SECONDS:.2f}s): {verdict}"
        )
        if 1000 in results:
            for name in ("list page", "gantt week"):
                ratio = results[5000][name]["median"] / results[1000][name]["median"]
                verdict = "ok" if ratio <= TARGET_RATIO else "OVER"
                print(f"  {name:<12} 5000/1000 ratio {ratio:.2f} (target <= {TARGET_RATIO:g}): {verdict}")


# --- Needs attention (SPEC §16): every filter against the unfiltered page, same size ----------

ATTENTION_PAGES = {"list page": PAGES["list page"], "gantt week": PAGES["gantt week"]}


def attention_run(app: Flask, client: FlaskClient, size: int, per_task: int, runs: int) -> None:
    """The list and the Gantt unfiltered and with each `?attention=` code: time, queries, rows.
    A filter keeps fewer rows, so it should be no slower; the queries must be equal."""
    from sqlalchemy import update

    from ppm.links.attention import CODES
    from ppm.links.models import TaskLink

    project_id, seconds = build(app, size, per_task)
    with app.app_context():  # review and CI values (SPEC §15) on some links, so every code occurs
        for position, values in ((1, {"checks": "failing"}), (2, {"review": "changes_requested"})):
            db.session.execute(
                update(TaskLink)
                .where(TaskLink.project_id == project_id, TaskLink.position == position, TaskLink.status == "open")
                .values(**values)
            )
        db.session.commit()
    print(f"\nNeeds attention: {size} tasks + {per_task} links per task (built in {seconds:.1f} s), {runs} runs each")
    print(f"  {'page':<12} {'filter':<18} {'median':>9} {'queries':>8} {'rows':>6} {'size':>9} {'vs all':>7}")
    for name, pattern in ATTENTION_PAGES.items():
        url = pattern.format(pid=project_id)
        baseline: dict[str, Any] = {}
        for code in ("", *CODES):
            filtered = url + (("&" if "?" in url else "?") + f"attention={code}" if code else "")
            row = measure(app, client, filtered, runs)
            baseline = baseline or row
            shown = client.get(filtered).data.count(b'<tr id="task-')
            same = "" if row["queries"] == baseline["queries"] else "  QUERIES DIFFER"
            print(
                f"  {name:<12} {code or '(none)':<18} {row['median']:>8.3f}s {row['queries']:>8} {shown:>6} "
                f"{row['bytes'] / 1024:>7.0f}KB {row['median'] / baseline['median']:>6.2f}x{same}"
            )


if __name__ == "__main__":
    main()
