"""Command line: `sync` a project into a local file, `show` what the file holds (no network)."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import unicodedata
from collections.abc import Sequence
from typing import TextIO

from ppm_offline.remote import ClientError, SyncClient, is_loopback, normalize_server
from ppm_offline.store import Store, StoreError, link_field, task_field
from ppm_offline.sync import sync_project

# SPEC §8: most attention first. Only this client's copy of the rule; it never imports ppm.
WORST_FIRST = ("closed", "draft", "open", "merged", "unknown")
PROVIDER_LABELS = {
    "github": "GitHub",
    "gitlab": "GitLab",
    "generic": "Generic",
    "google_drive": "Google Drive",
    "dropbox": "Dropbox",
    "box": "Box",
    "onedrive": "OneDrive",
}
PREVIEW_LABELS = {
    "document": "Document",
    "spreadsheet": "Spreadsheet",
    "presentation": "Presentation",
    "image": "Image",
    "pdf": "PDF",
    "folder": "Folder",
    "file": "File",
}


def clean(value: object) -> str:
    """Text from the server made safe for a terminal: control characters (escape sequences
    in a fetched page title) are shown as U+FFFD, never interpreted."""
    text = "" if value is None else str(value)
    return "".join("\ufffd" if unicodedata.category(ch) == "Cc" and ch not in "\t" else ch for ch in text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ppm_offline",
        description="Mirror a ppm project's tasks and task links into a local SQLite file "
        "through the sync delta, and read them back without the server.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{sync,show}")

    sync = commands.add_parser(
        "sync",
        help="bring the local copy of a project up to date",
        description="Fetch every change since the stored cursor, page by page.",
    )
    sync.add_argument("--server", required=True, help="the ppm address, e.g. http://127.0.0.1:5000")
    sync.add_argument(
        "--token",
        default=os.environ.get("PPM_TOKEN", ""),
        help="a personal API token (default: the PPM_TOKEN environment variable)",
    )
    sync.add_argument("--project", required=True, help="the project id")
    sync.add_argument("--db", required=True, help="the local SQLite file (created if missing)")
    sync.add_argument("--limit", type=_page_size, default=500, help="rows per page, 1 to 5000 (default 500)")
    sync.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each page (default 30)")
    sync.add_argument(
        "--full", action="store_true", help="forget the local copy of this project and fetch everything again"
    )

    show = commands.add_parser(
        "show",
        help="print the local copy (works offline)",
        description="Print the mirrored tasks, or one task with its links.",
    )
    show.add_argument("--db", required=True, help="the local SQLite file written by `sync`")
    show.add_argument("--task", help="a task id (or the start of one) to show with its links")
    show.add_argument("--project", help="only this project (when the file mirrors several)")
    return parser


def _page_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 5000") from None
    if not 1 <= value <= 5000:
        raise argparse.ArgumentTypeError("must be from 1 to 5000")
    return value


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        if args.command == "sync":
            return _sync(args, out, err)
        return _show(args, out)
    except (ClientError, StoreError) as error:
        print(f"ppm_offline: error: {error}", file=err)
        return 1
    except sqlite3.Error as error:
        print(f"ppm_offline: error: the local file {args.db} could not be used: {error}", file=err)
        return 1
    except KeyboardInterrupt:
        print("ppm_offline: interrupted; the pages already applied are kept.", file=err)
        return 130


# --- sync -----------------------------------------------------------------------------


def _sync(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    server = normalize_server(args.server)
    if server.startswith("http://") and not is_loopback(server):
        print(
            "ppm_offline: warning: sending the token over plain http to a server that is not "
            "on this machine; use https://.",
            file=err,
        )
    client = SyncClient(server, args.token, timeout=args.timeout)
    store = Store.open(args.db)
    try:
        try:
            result = sync_project(
                store,
                args.project,
                server,
                lambda since, limit: client.fetch_page(args.project, since, limit),
                limit=args.limit,
                full=args.full,
            )
        except ClientError as error:
            state = store.project(args.project)
            kept = (
                f" The local copy in {args.db} is kept at cursor {state.cursor}; `show` still works."
                if state is not None and state.synced_at
                else ""
            )
            raise ClientError(f"{error}{kept}") from None
    finally:
        store.close()
    if result.changes == 0:
        print(f"Project {args.project} is up to date (cursor {result.cursor}).", file=out)
    else:
        print(
            f"Synced project {args.project} from {server}: "
            f"{result.tasks_updated} task(s) updated, {result.tasks_deleted} removed; "
            f"{result.links_updated} link(s) updated, {result.links_deleted} removed; "
            f"{result.pages} page(s), cursor {result.cursor}.",
            file=out,
        )
    return 0


# --- show -----------------------------------------------------------------------------


def _show(args: argparse.Namespace, out: TextIO) -> int:
    store = Store.open_existing(args.db)
    try:
        if args.task:
            _show_task(store, args.task, args.project, out)
        else:
            _show_projects(store, args.project, out)
    finally:
        store.close()
    return 0


def worst_status(statuses: Sequence[str]) -> str | None:
    ranked = [s if s in WORST_FIRST else "unknown" for s in statuses]
    return min(ranked, key=WORST_FIRST.index) if ranked else None


def _show_projects(store: Store, only: str | None, out: TextIO) -> None:
    states = [s for s in store.projects() if only is None or s.id == only]
    if not states:
        raise StoreError("The local copy holds no project" + (f" {only}." if only else " yet: run `sync`."))
    for state in states:
        tasks = store.tasks(state.id)
        links = store.project_links(state.id)
        print(
            f"Project {state.id} from {state.server}: {len(tasks)} task(s), {len(links)} link(s); "
            f"cursor {state.cursor}, last synced {state.synced_at or 'never'}",
            file=out,
        )
        statuses: dict[str, list[str]] = {}
        for link in links:
            statuses.setdefault(link["task_id"], []).append(link["status"])
        children: dict[str | None, list[sqlite3.Row]] = {}
        known = {t["id"] for t in tasks}
        for task in tasks:
            parent = task["parent_id"] if task["parent_id"] in known else None
            children.setdefault(parent, []).append(task)
        stack = [(t, 1) for t in reversed(children.get(None, []))]
        while stack:
            task, depth = stack.pop()
            line = (
                f"{'  ' * depth}[{task['id'][:8]}] {clean(task['name'])}  {task['start_date']} → {task['finish_date']}"
            )
            if task["is_summary"]:
                line += "  (summary)"
            elif task["is_milestone"]:
                line += "  (milestone)"
            line += f"  [{state_words(task)}]"
            mine = statuses.get(task["id"], [])
            if mine:
                line += f"  · {len(mine)} link{'s' if len(mine) != 1 else ''}, worst status: {worst_status(mine)}"
            print(line, file=out)
            stack.extend((kid, depth + 1) for kid in reversed(children.get(task["id"], [])))
    print("Show one task's links: python -m ppm_offline show --db FILE --task ID", file=out)


STATE_WORDS = {"todo": "to do", "in_progress": "in progress", "done": "done"}


def state_words(task: sqlite3.Row) -> str:
    """SPEC §21 `state` in words, from the row's JSON as the server sent it (rows stored by an
    older server have none: to do)."""
    state = task_field(task, "state") or "todo"
    return STATE_WORDS.get(state, clean(state))


def describe_state(task: sqlite3.Row) -> str:
    words = state_words(task)
    done_at = task_field(task, "done_at")
    if words == "done" and done_at:
        words += f" since {clean(done_at)}"
    if task_field(task, "state_source") == "automation":
        words += " (set automatically)"
    return words


def _show_task(store: Store, key: str, project: str | None, out: TextIO) -> None:
    task = store.find_task(key, project)
    print(f"Task {task['id']}: {clean(task['name'])}", file=out)
    kind = " (summary)" if task["is_summary"] else " (milestone)" if task["is_milestone"] else ""
    print(f"  {task['start_date']} → {task['finish_date']}{kind}", file=out)
    print(f"  State: {describe_state(task)}", file=out)
    description = str(task["description"] or "").strip().splitlines()
    if description:
        print(f"  {clean(description[0])}{' …' if len(description) > 1 else ''}", file=out)
    links = store.links_of(task["id"])
    if not links:
        print("  No external links.", file=out)
        return
    print(f"  External links ({len(links)}):", file=out)
    for number, link in enumerate(links, 1):
        for line in describe_link(number, link):
            print(line, file=out)


def describe_link(number: int, link: sqlite3.Row) -> list[str]:
    provider = PROVIDER_LABELS.get(link["provider"], clean(link["provider"]))
    title, url = clean(link["display_title"]), clean(link["url"])
    lines = [f"  {number}. {title}" + (f" — {url}" if title != url else "")]
    error = json.loads(link["refresh_error"]) if link["refresh_error"] else None
    as_of = f" as of {link['fetched_at']}" if link["fetched_at"] else " (never refreshed)"
    if link["preview_type"]:
        chip = PREVIEW_LABELS.get(link["preview_type"], clean(link["preview_type"]).title())
        lines.append(f"     {provider} · {chip}{as_of}")
        private = isinstance(error, dict) and error.get("code") == "file_not_public"
        if link["title"]:
            lines.append(f"     title: {clean(link['title'])}")
        if link["description"]:
            lines.append(f"     {clean(link['description'])}")
        if link["thumbnail_url"]:
            lines.append(f"     thumbnail: {clean(link['thumbnail_url'])}")
        elif private:
            lines.append("     Private file — open to view")
    elif link["provider"] == "generic":
        lines.append("     Generic link (no live status)")
    else:
        lines.append(f"     {provider} · status: {clean(link['status'])}{as_of}")
    checks, review = link_field(link, "checks"), link_field(link, "review")
    if checks is not None or review is not None:  # SPEC §15: pull and merge requests only
        lines.append(f"     checks: {clean(checks or 'none')} · review: {clean(review or 'none')}")
    labels = json.loads(link["labels"] or "[]")
    if labels:
        lines.append("     labels: " + ", ".join(clean(label) for label in labels))
    if isinstance(error, dict):
        lines.append(
            f"     Couldn't refresh: {clean(error.get('detail') or error.get('code'))}"
            + (f" (at {clean(error.get('at'))})" if error.get("at") else "")
            + (f"; retry after {clean(error.get('retry_at'))}" if error.get("retry_at") else "")
            + (
                f" — showing the {'card' if link['preview_type'] else 'status'} from {link['fetched_at']}"
                if link["fetched_at"]
                else ""
            )
        )
    return lines
