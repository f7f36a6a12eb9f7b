"""Several people write to one project while a client syncs over and over (PostgreSQL, where
writers really run in parallel): at the end the client's copy equals the server's live state,
so no change was missed, and no writer failed on the sequence (no deadlock, no duplicate)."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from ppm.auth.models import User
from ppm.errors import DomainError
from ppm.extensions import db
from ppm.links import services as links
from ppm.links.models import TaskLink
from ppm.projects import services as projects
from ppm.projects.models import Task
from ppm_offline.store import Store
from ppm_offline.sync import sync_project
from tests.conftest import Factory, TokenClient, client_for
from tests.support.settings import TEST_DATABASE_URL
from tests.sync.helpers import api_fetcher, live_state, removed_ids

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not TEST_DATABASE_URL, reason="needs PostgreSQL (PPM_TEST_DATABASE_URL): SQLite runs one writer at a time"
    ),
]

WRITERS = 4
OPS_PER_WRITER = 30


def _writer(app: Flask, user_id: str, project_id: str, seed: int, errors: list[str]) -> None:
    rng = random.Random(seed)
    with app.app_context():
        actor = db.session.get(User, user_id)
        assert actor is not None
        for step in range(OPS_PER_WRITER):
            tasks = list(
                db.session.scalars(select(Task.id).where(Task.project_id == project_id, Task.deleted_at.is_(None)))
            )
            link_rows = db.session.execute(
                select(TaskLink.id, TaskLink.task_id).where(
                    TaskLink.project_id == project_id, TaskLink.deleted_at.is_(None)
                )
            ).all()
            db.session.rollback()  # end the read: each write is its own transaction
            roll = rng.random()
            try:
                if roll < 0.3 or not tasks:
                    parent = rng.choice(tasks) if tasks and rng.random() < 0.4 else None
                    projects.create_task(
                        actor,
                        project_id,
                        {
                            "name": f"w{seed}-{step}",
                            "parent_id": parent,
                            **({"position": 0} if rng.random() < 0.3 else {}),
                        },
                    )
                elif roll < 0.45:
                    projects.update_task(
                        actor,
                        project_id,
                        rng.choice(tasks),
                        {
                            "name": f"w{seed}-{step} edited",
                            **({"position": rng.randint(0, 3)} if rng.random() < 0.5 else {}),
                        },
                    )
                elif roll < 0.65:
                    links.add_link(
                        actor,
                        project_id,
                        rng.choice(tasks),
                        {"url": f"https://example.com/{seed}/{step}", "labels": [str(step)]},
                    )
                elif roll < 0.8 and link_rows:
                    link_id, task_id = rng.choice(link_rows)
                    links.edit_link(actor, project_id, task_id, link_id, {"custom_title": f"t{step}"})
                elif roll < 0.92 and link_rows:
                    link_id, task_id = rng.choice(link_rows)
                    links.remove_link(actor, project_id, task_id, link_id)
                elif len(tasks) > 3:
                    projects.delete_task(actor, project_id, rng.choice(tasks))
            except DomainError:
                db.session.rollback()  # another writer removed it first: a person would retry
            except Exception as error:  # a deadlock, a duplicate number: the test fails
                db.session.rollback()
                errors.append(f"writer {seed} step {step}: {type(error).__name__}: {error}")


def test_concurrent_writers_and_a_syncing_client_miss_nothing(
    app: Flask, user: User, make: Factory, project_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [user] + [make.member(user, project_id, "member") for _ in range(WRITERS - 1)]
    for i in range(3):
        make.task(user, project_id, name=f"seed {i}")
    reader: TokenClient = client_for(app, user)
    fetch = api_fetcher(reader, project_id)

    # Hold each drawn number a moment before going on, so readers run while numbers are
    # drawn but not yet committed (the window the high-water mark exists for).
    real_next = projects.next_sync_number

    def slow_next(pid: str) -> int:
        number = real_next(pid)
        time.sleep(0.002)
        return number

    monkeypatch.setattr(projects, "next_sync_number", slow_next)

    errors: list[str] = []
    writers = [
        threading.Thread(target=_writer, args=(app, person.id, project_id, seed, errors))
        for seed, person in enumerate(people)
    ]
    store = Store.open(tmp_path / "mirror.sqlite3")
    syncs = 0
    started = time.monotonic()
    for thread in writers:
        thread.start()
    try:
        while any(thread.is_alive() for thread in writers):
            sync_project(store, project_id, "test", fetch, limit=rngless_limit(syncs))
            syncs += 1
            assert time.monotonic() - started < 120, "writers did not finish"
    finally:
        for thread in writers:
            thread.join(timeout=60)
    assert not errors, "\n".join(errors)
    result = sync_project(store, project_id, "test", fetch, limit=7)
    assert result.complete

    tasks, link_rows = live_state(project_id)
    local_tasks, local_links = store.snapshot(project_id)
    assert local_tasks == tasks
    assert local_links == link_rows
    gone_tasks, gone_links = removed_ids(project_id)
    assert not gone_tasks & set(local_tasks) and not gone_links & set(local_links)
    assert syncs >= 3, "the client should have synced while the writers ran"
    assert len(tasks) + len(gone_tasks) > 20 and len(link_rows) + len(gone_links) > 5

    # Numbers are unique within the project, across tasks and links.
    counts = db.session.execute(
        select(func.count(), func.count(func.distinct(Task.sync_number))).where(Task.project_id == project_id)
    ).one()
    link_numbers = set(db.session.scalars(select(TaskLink.sync_number).where(TaskLink.project_id == project_id)))
    task_numbers = set(db.session.scalars(select(Task.sync_number).where(Task.project_id == project_id)))
    assert counts[0] == counts[1] and not task_numbers & link_numbers
    store.close()


def rngless_limit(n: int) -> int:
    """Small pages of varying size, so paging and has_more are exercised under load."""
    return (2, 3, 5, 11)[n % 4]


def test_two_writers_of_one_project_take_numbers_in_commit_order(
    app: Flask, user: User, make: Factory, project_id: str
) -> None:
    """The second writer waits on the project row until the first commits, so the first's
    number is never committed after a larger one."""
    first_task = make.task(user, project_id, name="A")
    second_task = make.task(user, project_id, name="B")
    drawn, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def first() -> None:
        with app.app_context():
            row = db.session.get(Task, first_task.id)
            assert row is not None
            row.name = "A2"
            projects._stamp(row)
            results["first"] = row.sync_number
            drawn.set()
            release.wait(20)
            db.session.commit()
            results["first_committed"] = time.monotonic()

    def second() -> None:
        with app.app_context():
            actor = db.session.get(User, user.id)
            task = projects.update_task(actor, project_id, second_task.id, {"name": "B2"})
            results["second"] = task.sync_number
            results["second_committed"] = time.monotonic()

    one = threading.Thread(target=first)
    one.start()
    assert drawn.wait(20)
    two = threading.Thread(target=second)
    two.start()
    time.sleep(0.3)
    assert two.is_alive(), "the second writer must wait for the first one's commit"
    release.set()
    one.join(20)
    two.join(20)
    assert results["second"] > results["first"]
    assert results["second_committed"] >= results["first_committed"]
