"""The reference client run as the README says, against the app served on 127.0.0.1 from a
thread; then with the server stopped, `show` still prints the links from the local copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ppm.links import services as links
from ppm.projects import services as projects
from ppm_offline.store import Store
from tests.offline.conftest import LiveServer, Seeded, run_client
from tests.sync.helpers import live_state


def sync_command(server: str, token: str, project_id: str, db_file: str) -> list[str]:
    """The README's `sync` command line."""
    return ["sync", "--server", server, "--token", token, "--project", project_id, "--db", db_file]


def test_sync_then_show_offline(live_server: LiveServer, seeded: Seeded, user: Any, tmp_path: Path) -> None:
    db_file = str(tmp_path / "apollo.sqlite3")
    sync = sync_command(live_server.url, seeded.token, seeded.project_id, db_file)
    first = run_client(*sync, "--limit", "2")  # small pages: has_more is followed
    assert first.code == 0, first.err
    assert "3 task(s) updated" in first.out and "4 link(s) updated" in first.out
    assert "page(s)" in first.out and first.err == ""
    store = Store.open(db_file)
    assert store.snapshot(seeded.project_id) == live_state(seeded.project_id)
    pages_cursor = store.project(seeded.project_id)
    store.close()
    assert pages_cursor is not None and pages_cursor.cursor > 0

    # Changes on the server; the next run resumes from the stored cursor and carries only them.
    links.remove_link(user, seeded.project_id, seeded.login.id, seeded.private.id)
    links.edit_link(user, seeded.project_id, seeded.login.id, seeded.doc.id, {"custom_title": "The roadmap"})
    second = run_client(*sync)
    assert second.code == 0, second.err
    assert "0 task(s) updated, 0 removed; 1 link(s) updated, 1 removed" in second.out
    assert run_client(*sync).out.startswith(f"Project {seeded.project_id} is up to date")

    live_server.stop()  # the server goes away

    overview = run_client("show", "--db", db_file)
    assert overview.code == 0, overview.err
    assert f"Project {seeded.project_id} from {live_server.url}: 3 task(s), 3 link(s)" in overview.out
    lines = overview.out.splitlines()
    build = next(i for i, line in enumerate(lines) if "Build" in line)
    assert "Login page" in lines[build + 1] and lines[build + 1].startswith("    ")  # nested under Build
    assert "3 links, worst status: merged" in lines[build + 1]  # merged outranks unknown (SPEC §8)
    assert "(milestone)" in overview.out and "(summary)" in overview.out

    shown = run_client("show", "--db", db_file, "--task", seeded.login.id[:8])
    assert shown.code == 0, shown.err
    out = shown.out
    assert f"Task {seeded.login.id} (APO-2): Login page" in out
    assert "2026-03-03 → 2026-03-06" in out and "Sign-in form …" in out
    assert "External links (3):" in out
    assert "PR 7 (merged) — https://github.com/acme/api/pull/7" in out
    assert "GitHub · status: merged as of " in out and "labels: backend" in out
    assert "Flaky test — https://github.com/acme/api/pull/8" in out
    assert "GitHub · status: unknown (never refreshed)" in out
    assert "Couldn't refresh: " in out  # the failed refresh says why
    assert "The roadmap — https://drive.google.com/file/d/roadmap/view" in out
    assert "Google Drive · File as of " in out
    assert "title: Roadmap 2026" in out and "Where we are going" in out
    assert "thumbnail: https://lh3.googleusercontent.com/roadmap.png" in out
    assert "secret" not in out  # the removed link is gone from the copy

    down = run_client(*sync)  # and a sync now fails clearly, keeping the copy
    assert down.code == 1 and down.out == ""
    assert f"Cannot reach the ppm server at {live_server.url}" in down.err
    assert "`show` still works" in down.err and "Traceback" not in down.err
    assert run_client("show", "--db", db_file, "--task", seeded.login.id).out == out


def test_a_removed_task_and_its_links_leave_the_copy(
    live_server: LiveServer, seeded: Seeded, user: Any, tmp_path: Path
) -> None:
    db_file = str(tmp_path / "copy.sqlite3")
    sync = ["sync", "--server", live_server.url + "/", "--project", seeded.project_id, "--db", db_file]
    assert run_client(*sync, env={"PPM_TOKEN": seeded.token}).code == 0  # the token from the environment
    projects.delete_task(user, seeded.project_id, seeded.build.id)  # Build, Login page and its 4 links
    again = run_client(*sync, env={"PPM_TOKEN": seeded.token})
    assert again.code == 0, again.err
    # Ship moved up to position 0 (re-stamped); two tasks and four links removed.
    assert "1 task(s) updated, 2 removed; 0 link(s) updated, 4 removed" in again.out
    shown = run_client("show", "--db", db_file)
    assert "Build" not in shown.out and "Login" not in shown.out and "Ship" in shown.out
    gone = run_client("show", "--db", db_file, "--task", seeded.login.id)
    assert gone.code == 1 and "No task" in gone.err


def test_clear_errors_for_a_bad_token_an_unknown_project_and_no_server(
    live_server: LiveServer, seeded: Seeded, tmp_path: Path
) -> None:
    db_file = str(tmp_path / "copy.sqlite3")
    bad_token = run_client(*sync_command(live_server.url, "ppm_not-a-real-token", seeded.project_id, db_file))
    assert bad_token.code == 1
    assert "rejected the API token (401" in bad_token.err and "Traceback" not in bad_token.err

    unknown = run_client(*sync_command(live_server.url, seeded.token, "no-such-project", db_file))
    assert unknown.code == 1
    assert "Project no-such-project was not found" in unknown.err and "(404)" in unknown.err

    no_token = run_client("sync", "--server", live_server.url, "--project", seeded.project_id, "--db", db_file)
    assert no_token.code == 1 and "No API token given" in no_token.err

    live_server.stop()
    nobody = run_client(*sync_command(live_server.url, seeded.token, seeded.project_id, db_file), "--timeout", "5")
    assert nobody.code == 1 and "Cannot reach the ppm server" in nobody.err

    never_synced = run_client("show", "--db", str(tmp_path / "missing.sqlite3"))
    assert never_synced.code == 1 and "There is no local copy" in never_synced.err
