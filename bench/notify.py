"""Notifications out (SPEC §25, issue #27): how fast workers drain the outbox, and what a task
edit costs when the project has subscriptions.

Run: .venv/bin/python bench/notify.py [--events 400] [--subscriptions 8] [--workers 1 4]
         [--edits 200] [--database-url postgresql+psycopg://postgres@127.0.0.1:55432/postgres]
         [--redis-url redis://127.0.0.1:56379/8]

1. Throughput: a throwaway database (a new one on the PostgreSQL server of --database-url, else a
   SQLite file) migrated with `flask db upgrade`; --subscriptions Standard Webhooks
   subscriptions to a loopback receiver (reached as `localhost`, allow-listed as in the ops
   drills); for each worker count, that many `flask --app wsgi ppm worker` processes (RQ's
   forking worker) are started and idle, then --events `task.state_changed` events are written
   (one transaction each), and the time from the first write to the last delivery is taken.
   Printed: events per second. Every delivery is one signed POST through the egress helper;
   at most 4 run at once per host, so 4 workers to one receiver is the ceiling.
2. Task edit: in process on SQLite, the median time of --edits task edits through the JSON API
   (PATCH, alternating the finish date across today so the task's attention codes change at
   every edit: the worst case, every edit writes an outbox row per subscription) with no
   subscription and with 5; printed with their ratio (target ≤ 1.1).

Benchmarks print figures; they do not assert (TESTING.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

from ppm import create_app, events  # noqa: E402
from ppm.auth import services as auth_services  # noqa: E402
from ppm.extensions import db  # noqa: E402
from ppm.links.models import TaskLink  # noqa: E402
from ppm.models_base import utcnow  # noqa: E402
from ppm.notifications import services as notifications  # noqa: E402
from ppm.notifications.models import NotificationEvent  # noqa: E402
from ppm.projects import services as projects  # noqa: E402


class _Receiver:
    def __init__(self) -> None:
        self.count = 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    outer.count += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _database(url: str | None, folder: str) -> str:
    if not url:
        return f"sqlite:///{folder}/notify.sqlite3"
    import psycopg

    name = "bench_notify_" + uuid.uuid4().hex[:10]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def _env(database_url: str, redis_url: str, folder: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PPM_TEST_", "FLASK_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "INTEGRATION_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PPM_INSTANCE_PATH": folder,
            "NOTIFY_ALLOWLISTED_HOSTS": "localhost",
            "INTEGRATION_ALLOW_HTTP": "true",
            "LINK_REFRESH_INTERVAL": "0",
            "NOTIFY_TICK_SECONDS": "0.2",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    return env


def _app(env: dict[str, str]) -> Any:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "SECRET_KEY": env["SECRET_KEY"],
            "INTEGRATION_ENCRYPTION_KEY": env["INTEGRATION_ENCRYPTION_KEY"],
            "INSTANCE_PATH": env["PPM_INSTANCE_PATH"],
            "NOTIFY_ALLOWLISTED_HOSTS": "localhost",
            "INTEGRATION_ALLOW_HTTP": True,
        }
    )


def throughput(args: argparse.Namespace) -> None:
    import redis

    folder = tempfile.mkdtemp(prefix="ppm-bench-notify-")
    receiver = _Receiver()
    env = _env(_database(args.database_url, folder), args.redis_url, folder)
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = _app(env)
    with app.app_context():
        owner = auth_services.create_user("bench@example.com", "Bench", "bench-password")
        project_id = projects.create_project(owner, {"name": "Notify"}).project.id
        task_id = projects.create_task(owner, project_id, {"name": "T"}).id
        for n in range(args.subscriptions):
            notifications.create_subscription(
                owner,
                project_id,
                {"url": f"http://localhost:{receiver.port}/s{n}", "events": ["task.state_changed"]},
            )
        print(f"Throughput: {args.events} events to {args.subscriptions} subscriptions on one loopback receiver")
        print(f"{'workers':>8} {'seconds':>8} {'events/s':>9}")
        for workers in args.workers:
            redis.Redis.from_url(args.redis_url).flushdb()
            logs = [open(Path(folder) / f"worker{workers}-{i}.log", "wb") for i in range(workers)]
            procs = [
                subprocess.Popen(
                    [str(BIN / "flask"), "--app", "wsgi", "ppm", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                for log in logs
            ]
            time.sleep(4)  # started and idle
            before = receiver.count
            per_sub = args.events // args.subscriptions
            started = time.perf_counter()
            for n in range(per_sub):
                events.emit(events.TaskStateChanged(project_id, task_id, f"s{n}", f"s{n + 1}", "person"))
                db.session.commit()
            total = per_sub * args.subscriptions
            while receiver.count - before < total:
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            for log in logs:
                log.close()
            pending = db.session.scalar(
                db.select(db.func.count()).select_from(NotificationEvent).where(NotificationEvent.status != "delivered")
            )
            print(
                f"{workers:>8} {elapsed:>8.2f} {total / elapsed:>9.1f}"
                + (f"  ({pending} not delivered)" if pending else "")
            )
        db.session.remove()
        db.engine.dispose()
    receiver.server.shutdown()
    shutil.rmtree(folder, ignore_errors=True)
    if env["DATABASE_URL"].startswith("postgresql"):
        import psycopg

        admin, name = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)
        with psycopg.connect(admin + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def task_edits(args: argparse.Namespace) -> None:
    folder = tempfile.mkdtemp(prefix="ppm-bench-edit-")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "INTEGRATION_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "RATELIMIT_ENABLED": False,
            "INSTANCE_PATH": folder,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
            "NOTIFY_ALLOWLISTED_HOSTS": "localhost",
            "INTEGRATION_ALLOW_HTTP": True,
        }
    )
    with app.app_context():
        db.create_all()
        owner = auth_services.create_user("edit@example.com", "Bench", "bench-password")
        _, token = auth_services.create_api_token(owner, "bench")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        urls: dict[int, str] = {}
        for count in (0, 5):
            project_id = projects.create_project(owner, {"name": f"Edits {count}"}).project.id
            task = projects.create_task(owner, project_id, {"name": "T"})
            pull = f"https://github.com/acme/api/pull/{count + 1}"
            db.session.add(
                TaskLink(
                    project_id=project_id,
                    task_id=task.id,
                    url=pull,
                    url_key=pull,
                    provider="github",
                    status="open",
                    fetched_at=utcnow(),
                )
            )
            db.session.commit()
            for n in range(count):
                notifications.create_subscription(
                    owner, project_id, {"url": f"http://localhost:9/s{n}", "events": list(notifications.EVENT_LABELS)}
                )
            urls[count] = f"/api/v1/projects/{project_id}/tasks/{task.id}/"
        today = date.today()
        times: dict[int, list[float]] = {0: [], 5: []}
        # The two projects are edited in turn, so a busy moment of a shared machine hits both.
        for run in range(args.edits + 10):
            finish = today - timedelta(days=1) if run % 2 else today + timedelta(days=30)
            body = {"start_date": (today - timedelta(days=60)).isoformat(), "finish_date": finish.isoformat()}
            for count in (0, 5) if run % 4 < 2 else (5, 0):
                started = time.perf_counter()
                response = client.patch(urls[count], json=body, headers=headers)
                if run >= 10:  # warm-up
                    times[count].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.get_json()
        written = db.session.scalar(db.select(db.func.count()).select_from(NotificationEvent))
        print(f"Task edit: median of {args.edits} PATCHes each, the task's attention codes changing every time")
        print(f"{'subscriptions':>13} {'median ms':>10} {'ratio':>6}")
        base = statistics.median(times[0])
        for count in (0, 5):
            median = statistics.median(times[count])
            rows = f"  ({written} outbox rows)" if count else ""
            print(f"{count:>13} {median:>10.2f} {median / base:>6.2f}{rows}")
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--subscriptions", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("PPM_BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("PPM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    task_edits(args)
    if not args.skip_throughput:
        throughput(args)


if __name__ == "__main__":
    main()
