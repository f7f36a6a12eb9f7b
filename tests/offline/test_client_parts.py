"""The reference client's parts without a ppm server: the local store, the page checks, the
HTTP edge cases (served by a tiny stand-in on 127.0.0.1), the terminal-safe output, and the
rule that it is a separate client (standard library only, never `import ppm`)."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

import ppm_offline
from ppm_offline import cli
from ppm_offline.remote import AuthRejected, BadResponse, ClientError, ProjectNotFound, SyncClient
from ppm_offline.store import Store, StoreError
from ppm_offline.sync import check_page, sync_project
from tests.offline.conftest import run_client

PACKAGE = Path(ppm_offline.__file__).parent


def task(task_id: str, name: str = "Task", parent: str | None = None, position: int = 0) -> dict[str, Any]:
    return {
        "id": task_id,
        "project_id": "p",
        "parent_id": parent,
        "name": name,
        "description": "",
        "start_date": "2026-01-01",
        "finish_date": "2026-01-02",
        "is_milestone": False,
        "is_summary": False,
        "assignee_ids": [],
        "position": position,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def link(link_id: str, task_id: str, **fields: Any) -> dict[str, Any]:
    row = {
        "id": link_id,
        "task_id": task_id,
        "url": f"https://example.com/{link_id}",
        "provider": "generic",
        "title": "",
        "custom_title": "",
        "display_title": f"https://example.com/{link_id}",
        "labels": [],
        "status": "unknown",
        "fetched_at": None,
        "refresh_error": None,
        "description": "",
        "thumbnail_url": "",
        "preview_type": "",
        "position": 0,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    row.update(fields)
    return row


def page(
    since: int,
    cursor: int,
    *,
    tasks: list[Any] | None = None,
    links: list[Any] | None = None,
    gone_tasks: list[str] | None = None,
    gone_links: list[str] | None = None,
    more: bool = False,
) -> dict[str, Any]:
    return {
        "since": since,
        "cursor": cursor,
        "has_more": more,
        "tasks": {"updated": tasks or [], "deleted": gone_tasks or []},
        "task_links": {"updated": links or [], "deleted": gone_links or []},
    }


# --- the store and the loop -------------------------------------------------------------------


def test_pages_apply_in_order_with_their_cursor(tmp_path: Path) -> None:
    pages = {
        0: page(0, 3, tasks=[task("t1"), task("t2")], links=[link("l1", "t1")], more=True),
        3: page(3, 5, links=[link("l1", "t1", status="merged")], gone_tasks=["t2"], more=True),
        5: page(5, 6, gone_links=["l1"]),
    }
    asked: list[tuple[int, int]] = []

    def fetch(since: int, limit: int) -> dict[str, Any]:
        asked.append((since, limit))
        return pages[since]

    store = Store.open(tmp_path / "m.sqlite3")
    result = sync_project(store, "p", "http://s", fetch, limit=3)
    assert asked == [(0, 3), (3, 3), (5, 3)]
    assert (result.pages, result.cursor, result.complete) == (3, 6, True)
    assert (result.tasks_updated, result.tasks_deleted, result.links_updated, result.links_deleted) == (2, 1, 2, 1)
    assert store.snapshot("p") == ({"t1": task("t1")}, {})
    state = store.project("p")
    assert state is not None and state.cursor == 6 and state.synced_at
    store.close()


def test_a_failure_mid_sync_keeps_applied_pages_and_resumes_there(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.sqlite3")
    calls: list[int] = []

    def flaky(since: int, limit: int) -> dict[str, Any]:
        calls.append(since)
        if since == 0:
            return page(0, 2, tasks=[task("t1")], more=True)
        raise ClientError("gone")

    with pytest.raises(ClientError):
        sync_project(store, "p", "http://s", flaky)
    assert store.project("p").cursor == 2  # type: ignore[union-attr]
    result = sync_project(store, "p", "http://s", lambda since, limit: page(since, since))
    assert result.cursor == 2 and store.snapshot("p")[0] == {"t1": task("t1")}
    store.close()


def test_a_malformed_page_changes_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.sqlite3")
    sync_project(store, "p", "http://s", lambda s, n: page(0, 1, tasks=[task("t1")]))
    bad = page(1, 3, tasks=[task("t2")], links=[{"id": "l9"}])  # a link without task_id
    with pytest.raises(BadResponse):
        sync_project(store, "p", "http://s", lambda s, n: bad)
    assert store.project("p").cursor == 1 and set(store.snapshot("p")[0]) == {"t1"}  # type: ignore[union-attr]
    store.close()


@pytest.mark.parametrize(
    "broken",
    [
        [],
        {"since": 0},
        page(1, 1),
        page(0, -1),
        page(0, 0, more=True),
        {**page(0, 1), "has_more": "no"},
        {**page(0, 1), "tasks": {"updated": [{"name": "no id"}], "deleted": []}},
        {**page(0, 1), "task_links": {"updated": [], "deleted": [7]}},
        {**page(0, 1), "cursor": True},
    ],
)
def test_check_page_refuses_what_spec_9_does_not_promise(broken: Any) -> None:
    with pytest.raises(BadResponse):
        check_page(broken, 0)


def test_one_file_one_server_per_project_unless_full(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "m.sqlite3")
    sync_project(store, "p", "http://one", lambda s, n: page(0, 1, tasks=[task("t1")]))
    with pytest.raises(StoreError, match="mirrors project p from http://one"):
        sync_project(store, "p", "http://two", lambda s, n: page(0, 1))
    result = sync_project(store, "p", "http://two", lambda s, n: page(0, 4, tasks=[task("t9")]), full=True)
    assert result.cursor == 4 and set(store.snapshot("p")[0]) == {"t9"}
    store.close()


def test_a_foreign_sqlite_file_is_not_touched(tmp_path: Path) -> None:
    import sqlite3

    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE mine (x)")
    with pytest.raises(StoreError, match="something else"):
        Store.open(other)
    with pytest.raises(StoreError, match="not a ppm_offline copy"):
        Store.open_existing(other)


# --- show -------------------------------------------------------------------------------------


def show(db_file: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["show", "--db", str(db_file), *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_show_prints_cards_errors_and_never_terminal_controls(tmp_path: Path) -> None:
    db_file = tmp_path / "m.sqlite3"
    store = Store.open(db_file)
    evil = "Pwned\x1b[2J\x1b]0;owned\x07"
    rows = [
        link(
            "a",
            "t1",
            provider="github",
            status="closed",
            title=evil,
            display_title=evil,
            fetched_at="2026-01-02T00:00:00Z",
            labels=["x"],
        ),
        link(
            "b",
            "t1",
            provider="dropbox",
            preview_type="pdf",
            status="unknown",
            display_title="Spec.pdf",
            refresh_error={
                "code": "file_not_public",
                "detail": "Private file — open to view",
                "at": "2026-01-03T00:00:00Z",
            },
        ),
        link("c", "t1", position=2, status="draft"),
    ]
    sync_project(store, "p", "http://s", lambda s, n: page(0, 4, tasks=[task("t1", "Write \x1b[31mspec")], links=rows))
    store.close()
    code, out, _ = show(db_file, "--task", "t1")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "Pwned\ufffd[2J" in out
    assert "GitHub · status: closed as of 2026-01-02T00:00:00Z" in out
    assert "Dropbox · PDF (never refreshed)" in out and "Private file — open to view" in out
    assert "Couldn't refresh: Private file — open to view (at 2026-01-03T00:00:00Z)" in out
    code, out, _ = show(db_file)
    assert "3 links, worst status: closed" in out
    code, _, err = show(db_file, "--task", "zz")
    assert code == 1 and "No task 'zz'" in err


def test_show_prints_when_a_rate_limited_refresh_may_retry(tmp_path: Path) -> None:
    db_file = tmp_path / "m.sqlite3"
    store = Store.open(db_file)
    error = {
        "code": "provider_rate_limited",
        "detail": "GitHub is rate-limiting requests. GitHub's rate limit resets at 14:05 UTC.",
        "at": "2026-12-02T13:50:00Z",
        "retry_at": "2026-12-02T14:05:00Z",
    }
    rows = [link("a", "t1", provider="github", status="open", refresh_error=error)]
    sync_project(store, "p", "http://s", lambda s, n: page(0, 2, tasks=[task("t1")], links=rows))
    store.close()
    code, out, _ = show(db_file, "--task", "t1")
    assert code == 0
    assert "GitHub's rate limit resets at 14:05 UTC" in out and "retry after 2026-12-02T14:05:00Z" in out


def test_show_finds_a_task_by_a_unique_prefix_only(tmp_path: Path) -> None:
    db_file = tmp_path / "m.sqlite3"
    store = Store.open(db_file)
    sync_project(store, "p", "http://s", lambda s, n: page(0, 2, tasks=[task("abc1"), task("abc2", "Other")]))
    store.close()
    assert show(db_file, "--task", "abc1")[0] == 0
    code, _, err = show(db_file, "--task", "abc")
    assert code == 1 and "More than one task" in err
    assert show(db_file, "--task", "a%")[0] == 1  # LIKE wildcards are literal


# --- HTTP edge cases against a stand-in on 127.0.0.1 ------------------------------------------------


class StandIn(BaseHTTPRequestHandler):
    """Answers by path; remembers what each request carried."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        StandIn.seen.append((self.path, self.headers.get("Authorization")))
        routes: dict[str, tuple[int, dict[str, str], bytes]] = {
            "redirect": (302, {"Location": f"http://127.0.0.1:{self.server.server_port}/elsewhere"}, b""),
            "boom": (500, {"Content-Type": "text/html"}, b"<h1>oops</h1>"),
            "html": (200, {"Content-Type": "text/html"}, b"<html>not json</html>"),
            "busy": (
                429,
                {"Retry-After": "42", "Content-Type": "application/json"},
                json.dumps({"detail": "Too many", "code": "rate_limited"}).encode(),
            ),
            "invalid": (
                400,
                {"Content-Type": "application/json"},
                json.dumps({"detail": "bad", "code": "validation_error", "fields": {"limit": ["too big"]}}).encode(),
            ),
            "denied": (
                401,
                {"Content-Type": "application/json"},
                json.dumps({"detail": "Authentication is required.", "code": "not_authenticated"}).encode(),
            ),
            "missing": (
                404,
                {"Content-Type": "application/json"},
                b'{"detail":"Project not found.","code":"not_found"}',
            ),
        }
        key = next((k for k in routes if f"/projects/{k}/" in self.path), "")
        status, headers, body = routes.get(
            key, (200, {"Content-Type": "application/json"}, json.dumps(page(0, 0)).encode())
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[str]:
    StandIn.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_answers_become_clear_errors(stand_in: str) -> None:
    client = SyncClient(stand_in, "ppm_secret", timeout=5)
    assert client.fetch_page("ok", 0, 10) == page(0, 0)
    assert StandIn.seen[-1] == ("/api/v1/projects/ok/sync/?since=0&limit=10", "Bearer ppm_secret")
    with pytest.raises(ClientError, match=r"redirected to http://127\.0\.0\.1:\d+/elsewhere .*not sent there"):
        client.fetch_page("redirect", 0, 10)
    assert not any(path == "/elsewhere" for path, _ in StandIn.seen)  # not followed, token not carried
    with pytest.raises(ClientError, match=r"failed with an error \(500\)"):
        client.fetch_page("boom", 0, 10)
    with pytest.raises(BadResponse, match="not JSON"):
        client.fetch_page("html", 0, 10)
    with pytest.raises(ClientError, match="try again in 42 seconds"):
        client.fetch_page("busy", 0, 10)
    with pytest.raises(ClientError, match=r"\(400 validation_error\): bad \(limit: too big\)"):
        client.fetch_page("invalid", 0, 10)
    with pytest.raises(AuthRejected, match="401: Authentication is required"):
        client.fetch_page("denied", 0, 10)
    with pytest.raises(ProjectNotFound, match="Project missing was not found"):
        client.fetch_page("missing", 0, 10)
    SyncClient(stand_in, "t").fetch_page("a/b?c", 0, 1)
    assert StandIn.seen[-1][0] == "/api/v1/projects/a%2Fb%3Fc/sync/?since=0&limit=1"  # ids are quoted


@pytest.mark.parametrize("server", ["ftp://host", "127.0.0.1:5000", "http://", "file:///etc/passwd", "http://h/?q=1"])
def test_only_http_server_addresses(server: str) -> None:
    with pytest.raises(ClientError, match="--server must look like"):
        SyncClient(server, "t")


def test_plain_http_to_another_machine_warns(tmp_path: Path) -> None:
    err = io.StringIO()
    code = cli.main(
        [
            "sync",
            "--server",
            "http://ppm.example.invalid",
            "--token",
            "t",
            "--project",
            "p",
            "--db",
            str(tmp_path / "x.sqlite3"),
            "--timeout",
            "0.01",
        ],
        out=io.StringIO(),
        err=err,
    )
    assert code == 1 and "warning: sending the token over plain http" in err.getvalue()


def test_usage_errors_come_from_argparse() -> None:
    usage = run_client("sync", "--server", "http://127.0.0.1:1", "--limit", "0", "--project", "p", "--db", "x")
    assert usage.code == 2 and "--limit" in usage.err
    helped = run_client("--help")
    assert helped.code == 0 and "sync" in helped.out and "show" in helped.out


# --- a separate client ---------------------------------------------------------------------------


def test_the_client_imports_only_the_standard_library_and_itself() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top == "ppm_offline" or top in sys.stdlib_module_names, (path.name, name)
                assert top != "ppm", (path.name, name)


def test_running_it_loads_no_server_code() -> None:
    probe = run_client("show", "--db", "/nonexistent/x.sqlite3")
    assert probe.code == 1 and "There is no local copy" in probe.err
    script = (
        "import sys, ppm_offline.cli, ppm_offline.sync; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('ppm', 'flask', 'sqlalchemy', 'requests', 'werkzeug')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=PACKAGE.parent, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


def test_show_prints_checks_and_review_of_pull_requests_only(tmp_path: Path) -> None:
    db_file = tmp_path / "m.sqlite3"
    store = Store.open(db_file)
    rows = [
        link("a", "t1", provider="github", status="open", checks="failing", review="changes_requested"),
        link("b", "t1", provider="github", status="open", position=1, checks=None, review=None),
    ]
    sync_project(store, "p", "http://s", lambda s, n: page(0, 3, tasks=[task("t1")], links=rows))
    store.close()
    code, out, _ = show(db_file, "--task", "t1")
    assert code == 0
    assert out.count("checks: ") == 1 and "checks: failing · review: changes_requested" in out


def test_a_file_made_before_checks_and_review_still_shows_and_syncs(tmp_path: Path) -> None:
    db_file = tmp_path / "old.sqlite3"
    store = Store.open(db_file)
    rows = [link("a", "t1", provider="github", status="open", checks="pending", review="approved")]
    sync_project(store, "p", "http://s", lambda s, n: page(0, 2, tasks=[task("t1")], links=rows))
    # Make it the file an older client wrote: no checks or review columns.
    store.db.execute("ALTER TABLE links DROP COLUMN checks")
    store.db.execute("ALTER TABLE links DROP COLUMN review")
    store.close()
    code, out, _ = show(db_file, "--task", "t1")  # read-only: read from the row's JSON
    assert code == 0 and "checks: pending · review: approved" in out
    store = Store.open(db_file)  # opened for a sync: the columns are added
    assert {"checks", "review"} <= {row[1] for row in store.db.execute("PRAGMA table_info(links)")}
    rows = [link("a", "t1", provider="github", status="open", checks="passing", review="approved")]
    sync_project(store, "p", "http://s", lambda s, n: page(2, 3, links=rows))
    store.close()
    assert "checks: passing · review: approved" in show(db_file, "--task", "t1")[1]


def test_show_prints_task_keys_and_finds_a_task_by_its_key(tmp_path: Path) -> None:
    """SPEC §20: task rows carry `number` and `key`; links carry `source` and `closes`."""
    db_file = tmp_path / "m.sqlite3"
    store = Store.open(db_file)
    tasks = [{**task("abc1", "Buttons"), "number": 12, "key": "WEB-12"}, task("abc2", "Old row")]
    rows = [link("a", "abc1", provider="github", status="open", source="auto", closes=True)]
    sync_project(store, "p", "http://s", lambda s, n: page(0, 3, tasks=tasks, links=rows))
    store.close()
    code, out, _ = show(db_file)
    assert code == 0 and "[abc1] WEB-12 Buttons" in out and "[abc2] Old row" in out
    code, out, _ = show(db_file, "--task", "web-12")
    assert code == 0 and "Task abc1 (WEB-12): Buttons" in out
    assert "added automatically from GitHub" in out and "completes this task when merged" in out
