"""The local mirror: one SQLite file holding the projects' tasks and links and each cursor.

Each page of the delta is applied in one transaction together with its cursor, so an
interrupted sync resumes exactly where the last applied page ended. Rows keep the server's
JSON as it was sent (`data`), next to the columns `show` reads.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
# Columns added after schema 1 was first written: a file made before them gains them when it is
# opened for a sync, and `show` reads them from the row's JSON while it has not (`link_field`).
ADDED_LINK_COLUMNS = ("checks", "review")

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    server TEXT NOT NULL,
    cursor INTEGER NOT NULL DEFAULT 0,
    synced_at TEXT
);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    parent_id TEXT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    start_date TEXT,
    finish_date TEXT,
    is_milestone INTEGER NOT NULL DEFAULT 0,
    is_summary INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_by_parent ON tasks (project_id, parent_id, position);
CREATE TABLE IF NOT EXISTS links (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    url TEXT NOT NULL,
    provider TEXT NOT NULL DEFAULT '',
    display_title TEXT NOT NULL DEFAULT '',
    labels TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'unknown',
    fetched_at TEXT,
    refresh_error TEXT,
    title TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    thumbnail_url TEXT NOT NULL DEFAULT '',
    preview_type TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT,
    data TEXT NOT NULL,
    checks TEXT,
    review TEXT
);
CREATE INDEX IF NOT EXISTS links_by_task ON links (task_id, position);
CREATE INDEX IF NOT EXISTS links_by_project ON links (project_id);
"""


class StoreError(Exception):
    """The local file is missing, not ours, or belongs to another server."""


@dataclass(frozen=True)
class ProjectState:
    id: str
    server: str
    cursor: int
    synced_at: str | None


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def link_field(link: sqlite3.Row, name: str) -> str | None:
    """A column added after the file was made (ADDED_LINK_COLUMNS); the row's JSON as sent when
    the file has no such column yet, or the row was stored before it had one."""
    if name in link.keys() and link[name] is not None:
        return _text_or_none(link[name])
    try:
        data = json.loads(link["data"])
    except (TypeError, ValueError):
        return None
    return _text_or_none(data.get(name)) if isinstance(data, dict) else None


def task_field(task: sqlite3.Row, name: str) -> str | None:
    """A field of a task row's JSON as sent (SPEC §21 `state`, `done_at`, `state_source`)."""
    return link_field(task, name)


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class Store:
    """A mirror file. Open with `Store.open(path)` (creates it) or `Store.open_existing(path)`."""

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self.db = connection
        self.path = path
        self.db.row_factory = sqlite3.Row

    @classmethod
    def open(cls, path: str | Path) -> Store:
        target = Path(path)
        if target.parent and not target.parent.exists():
            raise StoreError(f"The folder for --db does not exist: {target.parent}")
        connection = sqlite3.connect(str(target), isolation_level=None, timeout=10)
        store = cls(connection, str(target))
        store._migrate()
        return store

    @classmethod
    def open_existing(cls, path: str | Path) -> Store:
        target = Path(path)
        if not target.is_file():
            raise StoreError(f"There is no local copy at {target}. Run `python -m ppm_offline sync` first.")
        try:
            connection = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
            store = cls(connection, str(target))
            version = store.db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{target} is not a ppm_offline copy ({error}).") from None
        if version != SCHEMA_VERSION:
            connection.close()
            raise StoreError(f"{target} is not a ppm_offline copy (schema version {version}).")
        return store

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        try:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} is not a SQLite file ({error}).") from None
        if version not in (0, SCHEMA_VERSION):
            raise StoreError(
                f"{self.path} was made by another version of ppm_offline (schema {version}); use a new --db file."
            )
        if version == 0:
            tables = self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise StoreError(f"{self.path} is a SQLite file of something else; use a new --db file.")
            with self.transaction():
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        present = {row[1] for row in self.db.execute("PRAGMA table_info(links)")}
        for column in ADDED_LINK_COLUMNS:
            if column not in present:
                self.db.execute(f"ALTER TABLE links ADD COLUMN {column} TEXT")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- sync state -------------------------------------------------------------------

    def project(self, project_id: str) -> ProjectState | None:
        row = self.db.execute(
            "SELECT id, server, cursor, synced_at FROM projects WHERE id = ?", (project_id,)
        ).fetchone()
        return ProjectState(row["id"], row["server"], int(row["cursor"]), row["synced_at"]) if row else None

    def projects(self) -> list[ProjectState]:
        rows = self.db.execute("SELECT id, server, cursor, synced_at FROM projects ORDER BY id").fetchall()
        return [ProjectState(r["id"], r["server"], int(r["cursor"]), r["synced_at"]) for r in rows]

    def start(self, project_id: str, server: str, *, full: bool = False) -> ProjectState:
        """The project's state, created at cursor 0 if new; `full` forgets the local copy."""
        state = self.project(project_id)
        if state is not None and state.server != server and not full:
            raise StoreError(
                f"{self.path} mirrors project {project_id} from {state.server}, not {server}. "
                "Use another --db file, or --full to start again from this server."
            )
        if state is None or full:
            with self.transaction():
                self.db.execute("DELETE FROM tasks WHERE project_id = ?", (project_id,))
                self.db.execute("DELETE FROM links WHERE project_id = ?", (project_id,))
                self.db.execute(
                    "INSERT INTO projects (id, server, cursor, synced_at) VALUES (?, ?, 0, NULL) "
                    "ON CONFLICT (id) DO UPDATE SET server = excluded.server, cursor = 0, synced_at = NULL",
                    (project_id, server),
                )
            state = self.project(project_id)
        assert state is not None
        return state

    def apply_page(self, project_id: str, page: dict[str, Any]) -> None:
        """Upserts the updated rows, deletes the removed ones, stores the cursor: all or nothing."""
        with self.transaction():
            for task in page["tasks"]["updated"]:
                self._put_task(project_id, task)
            for link in page["task_links"]["updated"]:
                self._put_link(project_id, link)
            for task_id in page["tasks"]["deleted"]:
                self.db.execute("DELETE FROM tasks WHERE id = ? AND project_id = ?", (task_id, project_id))
            for link_id in page["task_links"]["deleted"]:
                self.db.execute("DELETE FROM links WHERE id = ? AND project_id = ?", (link_id, project_id))
            self.db.execute(
                "UPDATE projects SET cursor = ?, synced_at = ? WHERE id = ?", (int(page["cursor"]), _now(), project_id)
            )

    def _put_task(self, project_id: str, task: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO tasks (id, project_id, parent_id, name, description, start_date, "
            "finish_date, is_milestone, is_summary, position, updated_at, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                task["id"],
                project_id,
                task.get("parent_id"),
                str(task.get("name") or ""),
                str(task.get("description") or ""),
                task.get("start_date"),
                task.get("finish_date"),
                int(bool(task.get("is_milestone"))),
                int(bool(task.get("is_summary"))),
                int(task.get("position") or 0),
                task.get("updated_at"),
                _dump(task),
            ),
        )

    def _put_link(self, project_id: str, link: dict[str, Any]) -> None:
        error = link.get("refresh_error")
        self.db.execute(
            "INSERT OR REPLACE INTO links (id, project_id, task_id, url, provider, display_title, labels, "
            "status, fetched_at, refresh_error, title, description, thumbnail_url, preview_type, position, "
            "updated_at, data, checks, review) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                link["id"],
                project_id,
                str(link.get("task_id") or ""),
                str(link.get("url") or ""),
                str(link.get("provider") or ""),
                str(
                    link.get("display_title") or link.get("custom_title") or link.get("title") or link.get("url") or ""
                ),
                _dump(link.get("labels") or []),
                str(link.get("status") or "unknown"),
                link.get("fetched_at"),
                _dump(error) if error else None,
                str(link.get("title") or ""),
                str(link.get("description") or ""),
                str(link.get("thumbnail_url") or ""),
                str(link.get("preview_type") or ""),
                int(link.get("position") or 0),
                link.get("updated_at"),
                _dump(link),
                _text_or_none(link.get("checks")),
                _text_or_none(link.get("review")),
            ),
        )

    # --- reads ------------------------------------------------------------------------

    def tasks(self, project_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM tasks WHERE project_id = ? ORDER BY position, id", (project_id,)
        ).fetchall()

    def links_of(self, task_id: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM links WHERE task_id = ? ORDER BY position, id", (task_id,)).fetchall()

    def project_links(self, project_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM links WHERE project_id = ? ORDER BY task_id, position, id", (project_id,)
        ).fetchall()

    def find_task(self, key: str, project_id: str | None = None) -> sqlite3.Row:
        """A task by id, or by a unique prefix of its id (as `show` prints them)."""
        exact = self.db.execute(
            "SELECT * FROM tasks WHERE id = ? AND (? IS NULL OR project_id = ?)", (key, project_id, project_id)
        ).fetchone()
        if exact is not None:
            return exact  # type: ignore[no-any-return]
        pattern = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.db.execute(
            "SELECT * FROM tasks WHERE id LIKE ? ESCAPE '\\' AND (? IS NULL OR project_id = ?) LIMIT 2",
            (pattern, project_id, project_id),
        ).fetchall()
        if len(rows) == 1 and key:
            return rows[0]  # type: ignore[no-any-return]
        if rows and key:
            raise StoreError(f"More than one task id starts with {key!r}; give more of it.")
        raise StoreError(
            f"No task {key!r} in the local copy {self.path} (it may have been removed, or not synced yet)."
        )

    def snapshot(self, project_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """({task id: JSON}, {link id: JSON}) exactly as the server last sent each row."""
        tasks = {
            r["id"]: json.loads(r["data"])
            for r in self.db.execute("SELECT id, data FROM tasks WHERE project_id = ?", (project_id,))
        }
        links = {
            r["id"]: json.loads(r["data"])
            for r in self.db.execute("SELECT id, data FROM links WHERE project_id = ?", (project_id,))
        }
        return tasks, links
