"""Throwaway real servers on 127.0.0.1 for the fault drills (tests/ops) and the load bench
(bench/load.py): a PostgreSQL cluster and a Redis of their own (so stopping them never disturbs
the servers the test command shares), gunicorn and an RQ worker serving ppm as in production,
and provider stand-ins (a self-hosted GitLab that answers, and a host that accepts and never
answers).

PostgreSQL is started as scripts/test.sh does: initdb and pg_ctl as the `postgres` user, a free
port, trust authentication on 127.0.0.1 only, fsync off.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"gave up waiting for {what}")


def postgres_bin() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return candidates[-1] if candidates and (candidates[-1] / "initdb").exists() else None


def why_no_postgres() -> str | None:
    """None when a throwaway cluster can be started here, else the reason."""
    if postgres_bin() is None:
        return "PostgreSQL server binaries are not installed (scripts/test.sh installs them)"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "starting a throwaway PostgreSQL cluster needs root (initdb runs as the postgres user)"
    return None


def why_no_redis() -> str | None:
    return None if shutil.which("redis-server") else "redis-server is not installed (scripts/test.sh installs it)"


class PostgresCluster:
    """One initdb'd cluster in a temporary folder; stop() and start() keep its data."""

    def __init__(self) -> None:
        pg_bin = postgres_bin()
        assert pg_bin is not None, why_no_postgres()
        self.bin = pg_bin
        self.folder = Path(tempfile.mkdtemp(prefix="ppm-pg-"))
        self.folder.chmod(0o755)
        self.data = self.folder / "data"
        self.port = free_port()
        self.data.mkdir()
        shutil.chown(self.data, "postgres", "postgres")
        self._as_postgres("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _as_postgres(self, tool: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off -c max_connections=200"
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.data / "log"), "-w", "-o", options, "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self._as_postgres("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


class RedisServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ppm-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""),
                *("--appendonly", "no", "--daemonize", "yes", "--dir", str(self.folder)),
                *("--logfile", str(self.folder / "redis.log")),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open(self.port), 10, "Redis to listen")

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "shutdown", "nosave"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: not port_open(self.port), 10, "Redis to stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def app_environment(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a production ppm process (keys fixed for the run, cookies not Secure
    since the test speaks plain HTTP to 127.0.0.1)."""
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PPM_TEST_", "FLASK_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "throwaway-" + os.urandom(8).hex(),
            "INTEGRATION_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PPM_INSTANCE_PATH": str(instance),
            "RATELIMIT_STORAGE_URI": "memory://",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def migrate(env: Mapping[str, str]) -> None:
    """`flask db upgrade`, exactly as the Dockerfile and the README do it."""
    subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=dict(env),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


class LoggedProcess:
    """A server process of ours whose output goes to a file in its own temporary folder."""

    folder: Path
    log_path: Path
    _log: Any
    process: subprocess.Popen[bytes]
    stop_seconds = 15

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(self.stop_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class Gunicorn(LoggedProcess):
    """gunicorn serving wsgi:app on a free port; its stderr (app and error log) goes to a file."""

    def __init__(self, env: Mapping[str, str], workers: int = 2, extra_args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = Path(tempfile.mkdtemp(prefix="ppm-gunicorn-"))
        self.log_path = self.folder / "gunicorn.log"
        self._log = self.log_path.open("wb")
        args = [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}"]
        args += ["--access-logfile", "-", "--graceful-timeout", "5", *extra_args, "wsgi:app"]
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=dict(env), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_until(self._answers, 60, "gunicorn to answer /healthz", interval=0.2)

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError("gunicorn exited:\n" + self.log())
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def worker_pids(self) -> set[int]:
        """The master's children, read from /proc (no extra package needed)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return {int(pid) for pid in children.read_text().split()}
        except OSError:
            return set()


class RQWorker(LoggedProcess):
    """`flask --app wsgi ppm worker`, RQ's forking worker as production runs it, in its own
    process (scheduled sweeps off: it runs what is queued). Its log goes to a file."""

    stop_seconds = 30  # SIGTERM is RQ's warm shutdown: the current job ends first

    def __init__(self, env: Mapping[str, str]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ppm-worker-"))
        self.log_path = self.folder / "worker.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "flask"), "--app", "wsgi", "ppm", "worker"],
            cwd=ROOT,
            env={**env, "LINK_REFRESH_INTERVAL": "0"},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


# --- provider stand-ins ------------------------------------------------------------------

STANDIN_TOKEN_SCOPES = ["read_api"]


class _GitLabHandler(BaseHTTPRequestHandler):
    """A self-hosted GitLab's answers, shaped as GitLab's REST documentation shows them
    (docs.gitlab.com/api/users/#get-the-current-user, /api/personal_access_tokens/, and
    /api/merge_requests/#get-single-mr): only the fields ppm reads, with GitLab's own names.
    Under the relative root `/slow` the merge request calls never answer (the slow provider)."""

    server: _StandinServer

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.endswith("/api/v4/user"):
            body: dict[str, Any] = {"id": 1, "username": "standin", "name": "Stand-in", "state": "active"}
        elif path.endswith("/api/v4/personal_access_tokens/self"):
            body = {"id": 1, "name": "ppm", "active": True, "scopes": ["read_api"], "expires_at": None}
        elif "/merge_requests/" in path and path.startswith(SLOW_ROOT + "/"):
            self.server.slow_requests.release()
            self.server.release.wait(120)  # hold the connection; the caller's deadline ends it
            return
        elif "/merge_requests/" in path and path.endswith("/approvals"):
            # docs.gitlab.com/api/merge_request_approvals/ (merge request level): nothing left to approve.
            body = {"approvals_required": 1, "approvals_left": 0, "approved": True, "approved_by": []}
        elif "/merge_requests/" in path:
            iid = int(path.rstrip("/").rsplit("/", 1)[-1])
            body = {
                "id": 1000 + iid,
                "iid": iid,
                "state": "merged",
                "title": f"Stand-in merge request {iid}",
                "draft": False,
                "work_in_progress": False,
                "updated_at": "2026-11-30T10:00:00.000Z",
            }
        else:
            self.send_error(404)
            return
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        return


SLOW_ROOT = "/slow"


class _StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _GitLabHandler)
        self.release = threading.Event()
        self.slow_requests = threading.Semaphore(0)


class GitLabStandin:
    """A self-hosted GitLab on 127.0.0.1, reached as `localhost` (allow-list it for the run):
    `base_url` answers at once, `slow_base_url` (a relative root) never answers a status call."""

    def __init__(self) -> None:
        self.server = _StandinServer()
        self.port = int(self.server.server_address[1])
        self.base_url = f"http://localhost:{self.port}"
        self.slow_base_url = self.base_url + SLOW_ROOT
        self.slow_requests = self.server.slow_requests
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.release.set()
        self.server.shutdown()
        self.server.server_close()


# The environment that lets ppm reach the stand-in: allow-listed by name, plain http.
STANDIN_ENV = {
    "INTEGRATION_ALLOWED_HOSTS": "localhost",
    "EGRESS_ALLOWLISTED_HOSTS": "localhost",
    "INTEGRATION_ALLOW_HTTP": "true",
}
