"""Property (SPEC §9): whatever the interleaving of task and link writes (add, edit, move,
refresh against mocked providers, remove, task removal) and client syncs with small pages,
the reference client's copy after a complete sync equals the server's live state exactly, and
no removed row survives in it.

Each example builds its own project, so one app and one database serve every example."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppm.auth.models import User
from ppm.errors import DomainError
from ppm.extensions import db
from ppm.links import services as links
from ppm.projects import services as projects
from ppm_offline.store import Store
from ppm_offline.sync import sync_project
from tests.conftest import TokenClient
from tests.sync.helpers import World, api_fetcher, live_state, removed_ids

PULL_OUTCOMES = ("open", "draft", "merged", "closed", 404, 502)
FILE_OUTCOMES = (("Plan", "The plan"), ("Plan v2", ""), ("", "Only a description"), 403, 404, 500)

pick = st.integers(min_value=0, max_value=50)
add_link = st.tuples(st.just("add_link"), pick, st.sampled_from(["pull", "drive", "generic"]), st.integers(1, 4))
refresh = st.tuples(st.just("refresh"), pick, st.integers(0, 5))
sync_page = st.tuples(st.just("sync_page"), st.integers(1, 4))
# Link writes, refreshes and partial syncs weigh double: the interesting interleavings are a
# change landing between two pages, or a refresh after the client already holds the link.
operations = st.one_of(
    add_link,
    refresh,
    sync_page,
    st.tuples(st.just("add_task"), st.one_of(st.none(), pick), st.one_of(st.none(), st.integers(0, 3))),
    st.tuples(
        st.just("edit_task"),
        pick,
        st.sampled_from(["", "x", "renamed"]),
        st.one_of(st.none(), st.integers(0, 3)),
        st.one_of(st.none(), st.just("root"), pick),
    ),
    st.tuples(st.just("delete_task"), pick),
    st.tuples(
        st.just("edit_link"),
        pick,
        st.sampled_from(["", "Mine", "Other"]),
        st.lists(st.sampled_from(["api", "API", "ui", " ops "]), max_size=3),
    ),
    st.tuples(st.just("remove_link"), pick),
    st.tuples(st.just("sync"), st.integers(1, 4)),
    add_link,
    refresh,
    sync_page,
)

_files = itertools.count()


def _pick(items: list[str], index: int) -> str | None:
    return items[index % len(items)] if items else None


class Scenario:
    """One example: a fresh project, its writes, and a client mirroring it."""

    def __init__(self, user: User, owner: TokenClient, world: World, folder: Path) -> None:
        self.user, self.world = user, world
        self.project_id = projects.create_project(user, {"name": "Prop"}).project.id
        self.fetch = api_fetcher(owner, self.project_id)
        self.store = Store.open(folder / f"mirror-{next(_files)}.sqlite3")
        self.tasks: list[str] = []  # in creation order (ids are random; the order is not)
        self.links: list[tuple[str, str]] = []  # (link id, task id)
        for _ in range(2):  # something for the first link writes to land on
            self.add_task(None, None)

    def live_tasks(self) -> list[str]:
        live, _ = live_state(self.project_id)
        return [t for t in self.tasks if t in live]

    def live_links(self) -> list[tuple[str, str]]:
        _, live = live_state(self.project_id)
        return [pair for pair in self.links if pair[0] in live]

    def run(self, op: tuple[Any, ...]) -> None:
        try:
            getattr(self, op[0])(*op[1:])
        except DomainError:
            db.session.rollback()  # refused (a duplicate URL, a move under its own subtask): fine

    # --- writes ----------------------------------------------------------------------------

    def add_task(self, parent: int | None, position: int | None) -> None:
        data: dict[str, Any] = {"name": f"T{len(self.tasks)}"}
        if parent is not None:
            data["parent_id"] = _pick(self.live_tasks(), parent)
        if position is not None:
            data["position"] = position
        self.tasks.append(projects.create_task(self.user, self.project_id, data).id)

    def edit_task(self, which: int, name: str, position: int | None, move: Any) -> None:
        task = _pick(self.live_tasks(), which)
        if task is None:
            return
        data: dict[str, Any] = {"description": f"edited {name}"}
        if name:
            data["name"] = name
        if position is not None:
            data["position"] = position
        if move == "root":
            data["parent_id"] = None
        elif move is not None:
            data["parent_id"] = _pick(self.live_tasks(), move)
        projects.update_task(self.user, self.project_id, task, data)

    def delete_task(self, which: int) -> None:
        task = _pick(self.live_tasks(), which)
        if task is not None:
            projects.delete_task(self.user, self.project_id, task)

    def add_link(self, which: int, kind: str, n: int) -> None:
        task = _pick(self.live_tasks(), which)
        if task is None:
            return
        url = {
            "pull": f"https://github.com/acme/api/pull/{n}",
            "drive": f"https://drive.google.com/file/d/f{n}/view",
            "generic": f"https://example.com/page/{n}",
        }[kind]
        link = links.add_link(self.user, self.project_id, task, {"url": url, "labels": ["new"]})
        self.links.append((link.id, task))

    def edit_link(self, which: int, title: str, labels: list[str]) -> None:
        pair = self._link(which)
        if pair:
            links.edit_link(self.user, self.project_id, pair[1], pair[0], {"custom_title": title, "labels": labels})

    def refresh(self, which: int, outcome: int) -> None:
        pair = self._link(which)
        if not pair:
            return
        url = links.get_link(self.user, self.project_id, pair[1], pair[0]).url
        if "/pull/" in url:
            self.world.pulls[int(url.rsplit("/", 1)[1])] = PULL_OUTCOMES[outcome]
        elif "/file/d/" in url:
            self.world.files[url.split("/file/d/")[1].split("/")[0]] = FILE_OUTCOMES[outcome]
        links.refresh_link(self.user, self.project_id, pair[1], pair[0])

    def remove_link(self, which: int) -> None:
        pair = self._link(which)
        if pair:
            links.remove_link(self.user, self.project_id, pair[1], pair[0])

    def _link(self, which: int) -> tuple[str, str] | None:
        live = self.live_links()
        return live[which % len(live)] if live else None

    # --- the client --------------------------------------------------------------------------

    def sync_page(self, limit: int) -> None:
        sync_project(self.store, self.project_id, "test", self.fetch, limit=limit, max_pages=1)

    def sync(self, limit: int) -> None:
        result = sync_project(self.store, self.project_id, "test", self.fetch, limit=limit)
        assert result.complete
        self.assert_mirrored()

    def assert_mirrored(self) -> None:
        tasks, link_rows = live_state(self.project_id)
        local_tasks, local_links = self.store.snapshot(self.project_id)
        assert local_tasks == tasks
        assert local_links == link_rows
        gone_tasks, gone_links = removed_ids(self.project_id)
        assert not gone_tasks & set(local_tasks), "a removed task survived in the client"
        assert not gone_links & set(local_links), "a removed link survived in the client"


@pytest.fixture
def world(github: responses.RequestsMock) -> World:
    world = World()
    world.install(github)
    return world


SETTINGS = settings(
    deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@settings(SETTINGS, max_examples=50)
@given(ops=st.lists(operations, min_size=6, max_size=40), final_limit=st.integers(1, 5))
def test_any_interleaving_leaves_the_client_equal_to_the_server(
    ops: list[tuple[Any, ...]], final_limit: int, user: User, owner: TokenClient, world: World, tmp_path: Path
) -> None:
    check(Scenario(user, owner, world, tmp_path), ops, final_limit)


def long_history(seed: int, length: int) -> list[tuple[Any, ...]]:
    """A long history drawn uniformly from a seed: mostly link traffic on a few tasks, with
    refreshes (good and failing) of links the client already holds, removals, task removals
    taking their links along, and partial syncs in between. (Hypothesis's own lists favour
    short, simple histories; this one covers the long tail, and a failure names its seed.)"""
    rng = random.Random(seed)
    ops: list[tuple[Any, ...]] = []
    for _ in range(length):
        kind = rng.choice(
            [
                "add_link",
                "add_link",
                "refresh",
                "refresh",
                "refresh",
                "edit_link",
                "remove_link",
                "sync_page",
                "sync_page",
                "sync",
                "add_task",
                "edit_task",
                "delete_task",
            ]
        )
        which = rng.randrange(50)
        if kind == "add_link":
            ops.append((kind, which, rng.choice(["pull", "drive", "generic"]), rng.randint(1, 6)))
        elif kind == "refresh":
            ops.append((kind, which, rng.randrange(6)))
        elif kind == "edit_link":
            ops.append((kind, which, rng.choice(["", "Mine"]), rng.sample(["api", "ui"], rng.randint(0, 2))))
        elif kind == "remove_link" or kind == "delete_task":
            ops.append((kind, which))
        elif kind in ("sync_page", "sync"):
            ops.append((kind, rng.randint(1, 3)))
        elif kind == "add_task":
            ops.append((kind, rng.choice([None, which]), rng.choice([None, 0])))
        else:
            ops.append(
                (kind, which, rng.choice(["", "x"]), rng.choice([None, 0, 1]), rng.choice([None, "root", which]))
            )
    return ops


@settings(SETTINGS, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), length=st.integers(20, 70), final_limit=st.integers(1, 5))
def test_long_random_histories_leave_the_client_equal_to_the_server(
    seed: int, length: int, final_limit: int, user: User, owner: TokenClient, world: World, tmp_path: Path
) -> None:
    check(Scenario(user, owner, world, tmp_path), long_history(seed, length), final_limit)


def check(scenario: Scenario, ops: list[tuple[Any, ...]], final_limit: int) -> None:
    try:
        for op in ops:
            scenario.run(op)
        scenario.sync(final_limit)
        # And once more from the stored cursor: nothing new, nothing lost.
        again = sync_project(scenario.store, scenario.project_id, "test", scenario.fetch, limit=final_limit)
        assert again.changes == 0 and again.complete
        scenario.assert_mirrored()
    finally:
        scenario.store.close()


def test_a_fresh_client_and_a_resumed_one_end_equal(
    user: User, owner: TokenClient, world: World, tmp_path: Path
) -> None:
    """A client that synced all along and one that starts from zero at the end hold the same
    copy (tombstones of rows the new client never saw are harmless to it)."""
    scenario = Scenario(user, owner, world, tmp_path)
    for op in [
        ("add_task", None, None),
        ("add_task", 0, None),
        ("add_link", 1, "pull", 1),
        ("sync", 2),
        ("refresh", 0, 2),
        ("add_link", 0, "drive", 2),
        ("refresh", 1, 0),
        ("sync_page", 1),
        ("delete_task", 1),
        ("add_task", None, 0),
        ("sync", 3),
    ]:
        scenario.run(op)
    fresh = Store.open(tmp_path / "fresh.sqlite3")
    sync_project(fresh, scenario.project_id, "test", scenario.fetch, limit=1)
    assert fresh.snapshot(scenario.project_id) == scenario.store.snapshot(scenario.project_id)
    tasks, link_rows = live_state(scenario.project_id)
    assert len(tasks) == 4 and len(link_rows) == 1  # the pull link went with its task
    fresh.close()
    scenario.store.close()
