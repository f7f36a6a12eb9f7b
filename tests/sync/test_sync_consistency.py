"""Commits that land while a delta is being read: the cursor never passes a change the page
did not carry (SPEC §9: "never misses"). Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from ppm.auth.models import User
from ppm.extensions import db
from ppm.links import services as links
from ppm.projects import services as projects
from ppm.sync import services as sync_services
from tests.conftest import Factory, TokenClient
from tests.sync.helpers import SYNC


def in_thread(app: Flask, work: Callable[[], Any]) -> None:
    """Runs `work` to completion on another thread with its own app context (its own session
    and connection), as a concurrent request would."""
    failure: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                work()
            except BaseException as error:  # reported on the test's thread
                failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the writer hung"
    if failure:
        raise failure[0]


def get_page(client: TokenClient, project_id: str, since: int) -> dict[str, Any]:
    response = client.api("GET", SYNC.format(project_id) + f"?since={since}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def test_a_commit_between_the_task_and_link_reads_is_not_skipped(
    app: Flask, owner: TokenClient, user: User, make: Factory, project_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removing a task stamps the task (n) then its link (n+1) in one commit. If that commit
    lands after the delta read the tasks but before it read the links, the link's tombstone
    must not be served alone: its cursor would skip the task's tombstone for ever."""
    task = make.task(user, project_id, name="Doomed")
    link = links.add_link(user, project_id, task.id, {"url": "https://example.com/a"})
    cursor = get_page(owner, project_id, 0)["cursor"]
    other = make.task(user, project_id, name="Other")  # something to read, so the reads run
    user_id = user.id

    def remove_the_task() -> None:
        projects.delete_task(db.session.get(User, user_id), project_id, task.id)

    real = sync_services._changed
    fired: list[bool] = []

    def changed(model: Any, *args: Any) -> list[Any]:
        if model is sync_services.TaskLink and not fired:
            fired.append(True)
            in_thread(app, remove_the_task)
        return real(model, *args)

    monkeypatch.setattr(sync_services, "_changed", changed)
    first = get_page(owner, project_id, cursor)
    assert fired
    assert [t["id"] for t in first["tasks"]["updated"]] == [other.id]
    deleted_tasks, deleted_links = first["tasks"]["deleted"], first["task_links"]["deleted"]
    # Either both tombstones or neither: never the link's alone.
    assert (deleted_tasks, deleted_links) in (([], []), ([task.id], [link.id])), first
    monkeypatch.setattr(sync_services, "_changed", real)
    second = get_page(owner, project_id, first["cursor"])
    assert deleted_tasks + second["tasks"]["deleted"] == [task.id]
    assert deleted_links + second["task_links"]["deleted"] == [link.id]


def test_an_uncommitted_number_is_never_seen_nor_passed(
    app: Flask, owner: TokenClient, user: User, make: Factory, project_id: str
) -> None:
    """A writer that has drawn a number but not committed: the delta neither shows its row nor
    moves the cursor past it; after the commit the next delta carries it."""
    task = make.task(user, project_id, name="Before")
    cursor = get_page(owner, project_id, 0)["cursor"]
    drawn, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        with app.app_context():
            try:
                row = db.session.get(type(task), task.id)
                assert row is not None
                row.name = "After"
                projects._stamp(row)
                db.session.flush()
                drawn.set()
                release.wait(20)
                db.session.commit()
            except BaseException as error:
                errors.append(error)
                drawn.set()
            finally:
                done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert drawn.wait(20)
        # The service itself: on SQLite the API's token check writes last_used_at, which would
        # wait for the writer's lock; the read alone does not.
        during = sync_services.sync_delta(user, project_id, str(cursor))
        assert (during.cursor, during.tasks, during.has_more) == (cursor, [], False)
    finally:
        release.set()
        thread.join(timeout=20)
    assert not errors, errors
    after = get_page(owner, project_id, cursor)
    assert [t["name"] for t in after["tasks"]["updated"]] == ["After"]
    assert after["cursor"] > cursor
