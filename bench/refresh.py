"""Speed of background refresh: 1,000 links refreshed by 1, 2 and 4 RQ workers against a local
stand-in provider, then a second pass with ETags.

Run: .venv/bin/python bench/refresh.py [--links 1000] [--workers 1 2 4] [--delay 0.05]
     [--redis-url redis://127.0.0.1:6379/0] [--database-url postgresql+psycopg://…]

Everything stays on this machine. A GitHub Enterprise stand-in listens on 127.0.0.1 (reached as
`localhost`, allow-listed for this run only through EGRESS_ALLOWLISTED_HOSTS and
INTEGRATION_ALLOWED_HOSTS) and answers each pull request after --delay seconds, with an ETag.
Without --redis-url a throwaway redis-server is started on a free loopback port; without
--database-url a throwaway SQLite file (WAL mode) is used. For each worker count, that many
`flask --app wsgi ppm worker` processes (RQ's forking worker, as in production) are started
and idle, one Refresh all of every link is queued, and the time from queueing to the last link
counted is measured. Printed: links per second, the speed-up over one worker, and the peak
number of calls the provider saw at once (never more than 4 per host). The last pass runs
again with the ETags the previous one stored: every call should be conditional and every
answer a 304. Benchmarks print figures; they do not assert (TESTING.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import update  # noqa: E402

from ppm import create_app, crypto  # noqa: E402
from ppm.auth import services as auth_services  # noqa: E402
from ppm.extensions import db  # noqa: E402
from ppm.integrations.models import Credential  # noqa: E402
from ppm.jobs import services as jobs  # noqa: E402
from ppm.jobs.queue import connection  # noqa: E402
from ppm.links.models import TaskLink  # noqa: E402
from ppm.links.services import url_key  # noqa: E402
from ppm.models_base import utc_today  # noqa: E402
from ppm.projects.models import Membership, Project, Role, Task  # noqa: E402
from tests.support.provider_standin import ProviderStandIn, running_standin  # noqa: E402

KEY = Fernet.generate_key().decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(folder: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return f"redis://127.0.0.1:{port}/0", server
        except OSError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def settings(folder: str, database_url: str, redis_url: str) -> dict[str, Any]:
    return {
        "SECRET_KEY": "bench",
        "INTEGRATION_ENCRYPTION_KEY": KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "LINK_REFRESH_INTERVAL": 0,
        "INTEGRATION_ALLOWED_HOSTS": ["localhost"],
        "EGRESS_ALLOWLISTED_HOSTS": ["localhost"],
        "INTEGRATION_ALLOW_HTTP": True,
        "RATELIMIT_ENABLED": False,
        "INSTANCE_PATH": folder,
    }


def build(app: Flask, standin: ProviderStandIn, count: int) -> tuple[Any, str]:
    """A project whose tasks carry `count` pull-request links on the stand-in, in bulk."""
    owner = auth_services.create_user("bench@example.com", "Bench", "bench-password")
    project = Project(name="Refresh benchmark")
    db.session.add(project)
    db.session.flush()
    db.session.add(Membership(project_id=project.id, user_id=owner.id, role=Role.owner.name))
    db.session.add(
        Credential(user_id=owner.id, provider="github", ciphertext=crypto.encrypt("ghp_bench"),
                   base_url=standin.base_url)
    )  # fmt: skip
    today = utc_today()
    tasks = [
        Task(project_id=project.id, name=f"Task {n}", position=n, start_date=today, finish_date=today)
        for n in range(max(1, count // 10))
    ]
    db.session.add_all(tasks)
    db.session.flush()
    for n in range(count):
        url = f"{standin.base_url}/acme/api/pull/{n + 1}"
        db.session.add(
            TaskLink(project_id=project.id, task_id=tasks[n % len(tasks)].id, url=url, url_key=url_key(url),
                     provider="github", base_url=standin.base_url, position=n // len(tasks), created_by_id=owner.id)
        )  # fmt: skip
    db.session.commit()
    return owner, project.id


def start_workers(n: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "ppm", "worker"]
    workers = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(n)
    ]
    conn = connection()
    for _ in range(600):  # until every worker has registered with RQ and waits for work
        if len([key for key in conn.smembers("rq:workers")]) >= n:  # type: ignore[union-attr]
            return workers
        time.sleep(0.05)
    raise SystemExit("the workers did not start")


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    connection().delete("rq:workers")


def one_pass(
    owner: Any, project_id: str, workers: int, env: dict[str, str], standin: ProviderStandIn
) -> dict[str, Any]:
    procs = start_workers(workers, env)
    try:
        standin.reset_counts()
        started = time.perf_counter()
        record = jobs.start_refresh_all(owner, project_id, {})
        conn = connection()
        while True:
            found = jobs.current_state(conn, record.id)
            assert found is not None
            if not found.live:
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - started
    finally:
        stop_workers(procs)
    return {
        "workers": workers,
        "seconds": seconds,
        "rate": found.total / seconds,
        "state": found.state,
        "done": found.done,
        "failed": found.failed,
        "skipped": found.skipped,
        "peak": standin.peak,
        "calls": standin.calls,
        "conditional": standin.conditional,
        "not_modified": standin.not_modified,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--delay", type=float, default=0.05, help="the stand-in's answer time, seconds")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="ppm-bench-refresh-")
    redis_server = None
    redis_url = args.redis_url
    if not redis_url:
        redis_url, redis_server = start_redis(folder)
    database_url = args.database_url
    if not database_url:
        path = Path(folder) / "bench.sqlite3"
        sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").close()  # readers beside 4 writers
        database_url = f"sqlite:///{path}"
    try:
        with running_standin(args.delay) as standin:
            app = create_app(settings(folder, database_url, redis_url))
            with app.app_context():
                db.create_all()
                connection().flushdb()
                owner, project_id = build(app, standin, args.links)
                env = {
                    **os.environ,
                    "DATABASE_URL": database_url,
                    "REDIS_URL": redis_url,
                    "SECRET_KEY": "bench",
                    "INTEGRATION_ENCRYPTION_KEY": KEY,
                    "LINK_REFRESH_INTERVAL": "0",
                    "INTEGRATION_ALLOWED_HOSTS": "localhost",
                    "EGRESS_ALLOWLISTED_HOSTS": "localhost",
                    "INTEGRATION_ALLOW_HTTP": "true",
                    "PPM_INSTANCE_PATH": folder,
                }
                kind = database_url.split(":")[0]
                print(f"{args.links} links, stand-in answering in {args.delay * 1000:.0f} ms, database {kind}")
                print(f"{'workers':>7} {'seconds':>8} {'links/s':>8} {'speed-up':>8} {'peak/host':>9}  outcome")
                results = []
                for workers in args.workers:
                    db.session.execute(update(TaskLink).values(etag=None, last_modified=None, fetched_at=None))
                    db.session.commit()
                    results.append(one_pass(owner, project_id, workers, env, standin))
                    _print(results[-1], results[0]["rate"])
                again = one_pass(owner, project_id, max(args.workers), env, standin)
                print(f"\nSecond pass with ETags ({again['workers']} workers): {again['calls']} calls, "
                      f"{again['conditional']} conditional, {again['not_modified']} answered 304, "
                      f"{again['rate']:.1f} links/s, peak {again['peak']} at once.")  # fmt: skip
                best = results[-1]["rate"] / results[0]["rate"]
                print(f"Speed-up of {results[-1]['workers']} workers over {results[0]['workers']}: {best:.2f}x "
                      f"(target at least 3x); peak calls to the host at once: "
                      f"{max(r['peak'] for r in [*results, again])} (limit 4).")  # fmt: skip
    finally:
        if redis_server is not None:
            redis_server.send_signal(signal.SIGTERM)
            redis_server.wait(timeout=10)


def _print(result: dict[str, Any], base_rate: float) -> None:
    outcome = f"{result['state']}: {result['done']} done, {result['failed']} failed, {result['skipped']} skipped"
    print(
        f"{result['workers']:>7} {result['seconds']:>8.1f} {result['rate']:>8.1f} "
        f"{result['rate'] / base_rate:>7.2f}x {result['peak']:>9}  {outcome}"
    )


if __name__ == "__main__":
    main()
