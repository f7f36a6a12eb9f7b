"""Property (SPEC §19 with §9): random sequences of moves, removes and adds, each step fired by
two clients at the same moment on real threads, never answer 500, and afterwards the tree, the
task list, the sync delta and the offline client all agree: no task is its own ancestor,
nothing live sits under a removed task, the list shows every live task once, a delta from
zero carries exactly the live rows and the removed ones' tombstones, and a client that synced
after every step holds the server's live state. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppm.auth.models import User
from ppm.projects import services as projects
from ppm_offline.store import Store
from ppm_offline.sync import sync_project
from tests.conftest import TokenClient, client_for
from tests.projects.test_races import assert_tree
from tests.support.races import at_once
from tests.sync.helpers import SYNC, api_fetcher, live_state, removed_ids

pick = st.integers(min_value=0, max_value=20)
operation = st.one_of(
    st.tuples(st.just("move"), pick, st.one_of(st.none(), pick)),
    st.tuples(st.just("remove"), pick),
    st.tuples(st.just("add_task"), st.one_of(st.none(), pick)),
    st.tuples(st.just("add_link"), pick),
)
SETTINGS = settings(
    deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
ANSWERS = {200, 201, 204, 400, 404, 409}
_files = itertools.count()
_urls = itertools.count()


def _request(client: TokenClient, project_id: str, live: list[str], op: tuple[Any, ...]) -> Callable[[], Any]:
    """The HTTP request for one operation, its task ids chosen from the live tasks now (the
    other client may remove them first: that is the point)."""
    tasks = f"/api/v1/projects/{project_id}/tasks/"

    def task(index: int | None) -> str | None:
        return live[index % len(live)] if live and index is not None else None

    kind = op[0]
    if kind == "move" and live:
        return lambda: client.api("PATCH", f"{tasks}{task(op[1])}/", {"parent_id": task(op[2])})
    if kind == "remove" and live:
        return lambda: client.api("DELETE", f"{tasks}{task(op[1])}/")
    if kind == "add_link" and live:
        url = f"https://example.com/p/{next(_urls)}"
        return lambda: client.api("POST", f"{tasks}{task(op[1])}/links/", {"url": url})
    return lambda: client.api("POST", tasks, {"name": "new", "parent_id": task(op[1])})


def _agree(owner: TokenClient, project_id: str, store: Store) -> None:
    assert_tree(project_id)
    live_tasks, live_links = live_state(project_id)
    gone_tasks, gone_links = removed_ids(project_id)
    # The task list: each live task exactly once (none lost to a loop, none removed).
    listed = [t["id"] for t in owner.api("GET", f"/api/v1/projects/{project_id}/tasks/").get_json()]
    assert sorted(listed) == sorted(live_tasks)
    # A delta from zero: the live rows, and tombstones for the removed ones only.
    page = owner.api("GET", SYNC.format(project_id) + "?since=0&limit=5000").get_json()
    assert {t["id"] for t in page["tasks"]["updated"]} == set(live_tasks)
    assert set(page["tasks"]["deleted"]) == gone_tasks
    assert {link["id"] for link in page["task_links"]["updated"]} == set(live_links)
    assert set(page["task_links"]["deleted"]) == gone_links
    # The offline client, resuming from its cursor, holds exactly the live state.
    result = sync_project(store, project_id, "test", api_fetcher(owner, project_id), limit=3)
    assert result.complete
    assert store.snapshot(project_id) == (live_tasks, live_links)


@settings(SETTINGS, max_examples=12)
@given(steps=st.lists(st.tuples(operation, operation), min_size=1, max_size=6))
def test_two_clients_at_once_leave_tree_list_delta_and_client_agreeing(
    steps: list[tuple[tuple[Any, ...], tuple[Any, ...]]], app: Any, user: User, owner: TokenClient, tmp_path: Path
) -> None:
    project_id = projects.create_project(user, {"name": "Race"}).project.id
    root = projects.create_task(user, project_id, {"name": "root"}).id
    for name in ("a", "b"):
        projects.create_task(user, project_id, {"name": name, "parent_id": root})
    projects.create_task(user, project_id, {"name": "c"})
    one, two = client_for(app, user), client_for(app, user)
    store = Store.open(tmp_path / f"race-{next(_files)}.sqlite3")
    try:
        for first, second in steps:
            live = sorted(live_state(project_id)[0])
            answers = at_once(_request(one, project_id, live, first), _request(two, project_id, live, second))
            for answer in answers:
                assert answer.status_code in ANSWERS, answer.get_data(as_text=True)
            _agree(owner, project_id, store)
    finally:
        store.close()
