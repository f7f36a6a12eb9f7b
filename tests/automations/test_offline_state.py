"""The offline client shows each task's state (SPEC §21) from the sync rows it stored; rows an
older server sent without it read "to do"."""

from __future__ import annotations

from pathlib import Path

from ppm_offline.store import Store
from ppm_offline.sync import sync_project
from tests.offline.test_client_parts import page, show, task


def test_show_prints_the_state_of_each_task(tmp_path: Path) -> None:
    db_file = tmp_path / "m.sqlite3"
    store = Store.open(db_file)
    done = {**task("t1", "Ship"), "state": "done", "done_at": "2026-03-04T05:06:07Z", "state_source": "automation"}
    started = {**task("t2", "Build", position=1), "state": "in_progress", "done_at": None, "state_source": "person"}
    old = task("t3", "Legacy", position=2)  # an older server: no state fields
    sync_project(store, "p", "http://s", lambda s, n: page(0, 3, tasks=[done, started, old]))
    store.close()
    code, out, _ = show(db_file)
    assert code == 0
    assert "Ship  2026-01-01 → 2026-01-02  [done]" in out
    assert "Build  2026-01-01 → 2026-01-02  [in progress]" in out
    assert "Legacy  2026-01-01 → 2026-01-02  [to do]" in out
    code, out, _ = show(db_file, "--task", "t1")
    assert code == 0 and "State: done since 2026-03-04T05:06:07Z (set automatically)" in out
    assert "State: in progress\n" in show(db_file, "--task", "t2")[1]


def test_a_state_is_printed_without_terminal_controls(tmp_path: Path) -> None:
    db_file = tmp_path / "m.sqlite3"
    store = Store.open(db_file)
    odd = {**task("t1"), "state": "\x1b[2Jweird"}
    sync_project(store, "p", "http://s", lambda s, n: page(0, 1, tasks=[odd]))
    store.close()
    code, out, _ = show(db_file, "--task", "t1")
    assert code == 0 and "\x1b" not in out
