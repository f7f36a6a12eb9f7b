"""Fire requests at the same moment from real threads (SPEC §19's races). Each thread has its
own test client, so each request pushes its own app context: its own session and connection,
as concurrent requests to a threaded server have."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

ROUNDS = 12  # per race and database: each round is a fresh pair of requests


def at_once(*calls: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Runs every call on its own thread, released together by a barrier; returns their
    results in order (re-raising the first failure on the test's thread)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            results[index] = call()
        except BaseException as error:  # reported on the test's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    if failures:
        raise failures[0]
    return results
