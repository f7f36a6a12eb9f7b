"""Speed of the portfolio (SPEC §22): 100 projects of 1,000 tasks with 4 links each (400,000
links), the page and the JSON, on a throwaway PostgreSQL cluster this script starts and on SQLite.

Run (as root, for initdb): .venv/bin/python bench/portfolio.py [--runs 5] [--projects 100]
    [--tasks 1000] [--links-per-task 4] [--databases postgresql sqlite]

The data is inserted in bulk (COPY on PostgreSQL, executemany on SQLite), then ANALYZEd. One
person is the owner of every project (the worst case: every row is on the page). Each project has
phases of tasks (one summary per 100 tasks), finish dates spread around today (some late), a
third of the leaf tasks done, links in every status with some checks failing, changes requested
and stale fetches, and one webhook receiver. Every URL is asked for through Flask's in-process
test client as the logged-in owner (the JSON with an API token): one warm-up, then --runs timed
requests; printed are the median, the spread, the CPU time of a request (median; the app's process
plus the cluster's processes: on this shared machine it moves far less than the wall clock) and
the number of SQL queries (the JSON's include
the API token's look-up; neither grows with projects, tasks or links: tests/portfolio).
Target: the page and the JSON each at most 300 ms median on PostgreSQL. Benchmarks print
figures; they do not assert (TESTING.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert, text

from ppm import create_app
from ppm.auth import services as auth_services
from ppm.extensions import db
from ppm.links import services as link_services
from ppm.links.attention import link_kind
from ppm.links.models import TaskLink
from ppm.links.status import PRECEDENCE
from ppm.models_base import new_id, utc_today, utcnow
from ppm.projects.models import Membership, Project, Task
from ppm.webhooks.models import WebhookReceiver
from tests.support.buffered_client import BufferedClient
from tests.support.servers import postgres_cluster, why_no_postgres

EMAIL, PASSWORD = "bench@example.com", "bench-password"
TARGET_SECONDS = 0.3
URLS = {
    "page": "/portfolio",
    "json": "/api/v1/portfolio/",
    "page by name": "/portfolio?sort=name&include_archived=1",
    "json attention only": "/api/v1/portfolio/?attention_only=1&include_archived=1",
}
PER_PHASE = 100  # tasks per summary


def make_app(folder: str, database_url: str) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "INSTANCE_PATH": folder,
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    with app.app_context():
        db.create_all()
        auth_services.create_user(EMAIL, "Bench Owner", PASSWORD)
    return app


def bulk(table: Any, rows: list[dict[str, Any]]) -> None:
    """Rows with every column given: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    if db.engine.dialect.name != "postgresql":
        db.session.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    connection = db.session.connection().connection.driver_connection
    with connection.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, list) else v for v in (row[c] for c in columns)])


def build(app: Flask, projects: int, tasks: int, per_task: int) -> tuple[int, int, float]:
    """Everything in bulk, one project per transaction; then ANALYZE."""
    started = time.perf_counter()
    task_total = link_total = 0
    with app.app_context():
        owner = auth_services.find_user_by_email(EMAIL)
        assert owner is not None
        now, today = utcnow(), utc_today()
        for p in range(projects):
            pid = new_id()
            db.session.execute(
                insert(Project),
                [
                    {
                        "id": pid,
                        "key": f"P{p:03d}",
                        "name": f"Project {p:03d}",
                        "archived": p % 25 == 24,
                        "sync_counter": tasks * (per_task + 1),
                    }
                ],
            )
            db.session.execute(
                insert(Membership), [{"id": new_id(), "project_id": pid, "user_id": owner.id, "role": "owner"}]
            )
            task_rows: list[dict[str, Any]] = []
            link_rows: list[dict[str, Any]] = []
            parent = ""
            for t in range(tasks):
                tid = new_id()
                summary = t % PER_PHASE == 0
                first = today + timedelta(days=(t % 200) - 120 + p % 10)
                task_rows.append(
                    {
                        "id": tid,
                        "project_id": pid,
                        "parent_id": None if summary else parent,
                        "name": f"{'Phase' if summary else 'Task'} {t}",
                        "description": "",
                        "start_date": first,
                        "finish_date": first + timedelta(days=5),
                        "is_milestone": False,
                        "is_summary": summary,
                        "position": t,
                        "sync_number": t + 1,
                        "created_at": now,
                        "updated_at": now,
                        "state": "done" if not summary and t % 3 == 0 else "todo",
                    }
                )
                if summary:
                    parent = tid
                for k in range(per_task):
                    url = f"https://github.com/acme/p{p}/pull/{t * per_task + k + 1}"
                    link_rows.append(
                        {
                            "id": new_id(),
                            "project_id": pid,
                            "task_id": tid,
                            "url": url,
                            "url_key": link_services.url_key(url),
                            "provider": "github",
                            "base_url": "",
                            "title": f"Change {t}.{k}",
                            "custom_title": "",
                            "labels": [],
                            "status": PRECEDENCE[(t + k) % len(PRECEDENCE)],
                            "fetched_at": now - timedelta(hours=(t * 7 + k) % 40),
                            "description": "",
                            "thumbnail_url": "",
                            "preview_type": "",
                            "position": k,
                            "created_at": now,
                            "updated_at": now,
                            "sync_number": tasks + t * per_task + k + 1,
                            "checks": ("failing", "passing", "pending", None)[(t + 2 * k) % 4],
                            "review": ("approved", "changes_requested", None)[(t + k) % 3],
                            "kind": link_kind("github", url, ""),
                        }
                    )
            bulk(Task.__table__, task_rows)
            bulk(TaskLink.__table__, link_rows)
            db.session.execute(
                insert(WebhookReceiver),
                [
                    {
                        "id": new_id(),
                        "project_id": pid,
                        "provider": "github",
                        "secret_ciphertext": "bench",
                        "last_delivery_at": now - timedelta(minutes=p),
                        "last_delivery_result": ("ok", "bad_signature", "ignored")[p % 3],
                    }
                ],
            )
            db.session.commit()
            task_total += len(task_rows)
            link_total += len(link_rows)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return task_total, link_total, time.perf_counter() - started


def clients(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    app.test_client_class = BufferedClient
    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 303, response.status_code
    with app.app_context():
        owner = auth_services.find_user_by_email(EMAIL)
        assert owner is not None
        _, token = auth_services.create_api_token(owner, "bench")
    return client, {"Authorization": f"Bearer {token}"}


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int, children: bool = False) -> float:
    """A process's CPU time (with its reaped children's, such as parallel query workers)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / _TICK


def database_cpu(postmaster: int | None) -> float:
    """CPU seconds used so far by the throwaway cluster: the postmaster, its reaped children and
    the live ones (the app's backend). 0 for SQLite, which runs inside the app's process."""
    if postmaster is None:
        return 0.0
    total = _cpu_seconds(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == postmaster:
            total += _cpu_seconds(int(stat.parent.name))
    return total


def measure(
    app: Flask, client: FlaskClient, url: str, headers: dict[str, str], runs: int, postmaster: int | None
) -> dict[str, Any]:
    get = (lambda: client.get(url, headers=headers)) if url.startswith("/api/") else (lambda: client.get(url))
    first = get()
    assert first.status_code == 200, (url, first.status_code)
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time() + database_cpu(postmaster)
        response = get()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() + database_cpu(postmaster) - started_cpu)
        assert response.status_code == 200
    statements: list[str] = []

    def count(*_args: Any) -> None:
        statements.append("q")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        get()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    rows = (
        len(first.get_json()["projects"])
        if url.startswith("/api/")
        else first.get_data(as_text=True).count('<tr id="portfolio-')
    )
    return {
        "median": statistics.median(times),
        "cpu": statistics.median(cpu),
        "min": min(times),
        "max": max(times),
        "queries": len(statements),
        "rows": rows,
        "bytes": len(first.data),
    }


@contextlib.contextmanager
def database(kind: str, folder: str) -> Iterator[tuple[str, int | None]]:
    """The database URL and the PostgreSQL postmaster's pid (None for SQLite)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/bench.sqlite3", None
        return
    with postgres_cluster() as cluster:
        url = cluster.create_database("ppm_portfolio")
        yield url, int((cluster.data / "postmaster.pid").read_text().split()[0])


def run(kind: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="ppm-portfolio-") as folder, database(kind, folder) as (url, postmaster):
        app = make_app(folder, url)
        tasks, links, seconds = build(app, args.projects, args.tasks, args.links_per_task)
        print(
            f"\n{kind}: {args.projects} projects, {tasks} tasks, {links} links (built in bulk and analysed in "
            f"{seconds:.0f} s), {args.runs} runs each; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
            flush=True,
        )
        print(f"  {'url':<22} {'median':>8} {'min':>8} {'max':>8} {'cpu':>8} {'queries':>8} {'rows':>6} {'size':>8}")
        client, headers = clients(app)
        results = {}
        for name, path in URLS.items():
            results[name] = row = measure(app, client, path, headers, args.runs, postmaster)
            print(
                f"  {name:<22} {row['median'] * 1000:>6.0f}ms {row['min'] * 1000:>6.0f}ms {row['max'] * 1000:>6.0f}ms "
                f"{row['cpu'] * 1000:>6.0f}ms {row['queries']:>8} {row['rows']:>6} {row['bytes'] / 1024:>6.0f}KB",
                flush=True,
            )
        scan = baseline(app, args.runs)
        print(
            f"  baseline: one pass over the live links (SELECT count(*)) {scan * 1000:.0f} ms median; "
            f"page x{results['page']['median'] / scan:.1f}, json x{results['json']['median'] / scan:.1f} of it",
            flush=True,
        )
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return results


def baseline(app: Flask, runs: int) -> float:
    """The cheapest query that reads every link once, timed in the same run: on a shared machine
    the ratios to it move less than the milliseconds (TESTING.md, "Query counts and benchmarks")."""
    times = []
    with app.app_context():
        for _ in range(runs + 1):
            started = time.perf_counter()
            db.session.execute(text("SELECT count(*) FROM task_links WHERE deleted_at IS NULL")).scalar()
            times.append(time.perf_counter() - started)
        db.session.rollback()
    return statistics.median(times[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed requests per URL (>= 5)")
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=1000, help="tasks per project")
    parser.add_argument("--links-per-task", type=int, default=4)
    parser.add_argument("--databases", nargs="+", choices=("postgresql", "sqlite"), default=["postgresql", "sqlite"])
    args = parser.parse_args()
    args.runs = max(args.runs, 5)
    if "postgresql" in args.databases and (reason := why_no_postgres()):
        print(f"cannot start a throwaway PostgreSQL: {reason}")
        return 2
    verdicts = []
    for kind in args.databases:
        results = run(kind, args)
        if kind == "postgresql":
            for name in ("page", "json"):
                median = results[name]["median"]
                verdicts.append(
                    f"  postgresql {name}: {median * 1000:.0f} ms median, target <= {TARGET_SECONDS * 1000:.0f} ms: "
                    + ("ok" if median <= TARGET_SECONDS else "OVER")
                )
    if verdicts:
        print("\nTarget (SPEC §22)")
        print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
