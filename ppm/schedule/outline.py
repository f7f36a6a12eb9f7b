"""Which rows of a big schedule are rendered at once (issue #15): whole levels of the WBS tree,
as many as fit a budget of rows; the summaries at the last level shown are rendered collapsed
and their subtrees are fetched (`…/tasks/<id>/children`) when someone expands them.

Pure functions over the rows `load_schedule` returns (WBS order, depths set): no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ppm.schedule.services import Row

# About what a browser lays out within the page-load target: a 1,000-task demo project shows
# its phases and workstreams (143 rows), a 5,000-task one its phases (179 rows).
ROW_BUDGET = 300


@dataclass(slots=True)
class Outline:
    rows: list[Row]  # to render now, in WBS order
    unloaded: set[str] = field(default_factory=set)  # summaries rendered without their subtasks
    child_counts: dict[str, int] = field(default_factory=dict)  # of every summary in `rows`


def _cutoff(rows: Sequence[Row], base_depth: int, budget: int) -> int:
    """The deepest level whose rows, with all the levels above it, fit the budget (at least
    the first level, however many rows it has)."""
    per_level: dict[int, int] = {}
    for row in rows:
        per_level[row.depth] = per_level.get(row.depth, 0) + 1
    total, cutoff = 0, base_depth
    for depth in sorted(per_level):
        total += per_level[depth]
        if total > budget and depth > base_depth:
            break
        cutoff = depth
    return cutoff


def outline(
    rows: Sequence[Row], opened: Iterable[str] = (), root: Row | None = None, budget: int | None = None
) -> Outline:
    """The rows to render: under `root` (its descendants, which must be `rows`) or the whole
    project, whole levels within the budget, plus the children of every task in `opened`
    and of its parents (a task opened in the drawer is always in view)."""
    parents = {row.id: row.parent_id for row in rows}
    forced: set[str] = set()
    for task_id in opened:
        current: str | None = task_id
        while current is not None and current in parents and current not in forced:
            forced.add(current)
            current = parents[current]
    base_depth = root.depth + 1 if root else 0
    cutoff = _cutoff(rows, base_depth, ROW_BUDGET if budget is None else budget)
    top = root.id if root else None
    expanded: set[str | None] = {top}
    result = Outline(rows=[])
    for row in rows:
        if row.parent_id not in expanded:
            continue
        result.rows.append(row)
        if row.is_summary:
            result.child_counts[row.id] = 0
            if row.depth < cutoff or row.id in forced:
                expanded.add(row.id)
            else:
                result.unloaded.add(row.id)
        if row.parent_id in result.child_counts:
            result.child_counts[row.parent_id] += 1
    return _count_unloaded_children(rows, result)


def _count_unloaded_children(rows: Sequence[Row], result: Outline) -> Outline:
    if result.unloaded:
        for row in rows:
            if row.parent_id in result.unloaded:
                result.child_counts[row.parent_id] += 1
    return result


def subtree(rows: Sequence[Row], task_id: str) -> tuple[Row, list[Row]] | None:
    """The task and its descendants (a contiguous run after it in WBS order), or None."""
    for index, row in enumerate(rows):
        if row.id == task_id:
            end = index + 1
            while end < len(rows) and rows[end].depth > row.depth:
                end += 1
            return row, list(rows[index + 1 : end])
    return None
