"""Which rows of a big schedule are rendered at once (issue #15): whole levels of the WBS tree,
as many as fit a budget of rows; the summaries at the last level shown are rendered collapsed
and their subtrees are fetched (`…/tasks/<id>/children`) when someone expands them.

A top level longer than the budget (an imported flat list) is windowed too: its first rows
within the budget (more when asked for, `top`), then a "Show more tasks" control fetches the
next ones (`…/schedule/more`).

Pure functions over the rows `load_schedule` returns (WBS order, depths set): no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ppm.schedule.services import Row

# About what a browser lays out within the page-load target: a 1,000-task demo project shows
# its phases and workstreams (143 rows), a 5,000-task one its phases (179 rows).
ROW_BUDGET = 300


@dataclass(slots=True)
class Outline:
    rows: list[Row]  # to render now, in WBS order
    unloaded: set[str] = field(default_factory=set)  # summaries rendered without their subtasks
    child_counts: dict[str, int] = field(default_factory=dict)  # of every summary in `rows`
    top_shown: int = 0  # top-level rows rendered
    top_total: int = 0  # top-level rows in all
    next_top: Row | None = None  # the first top-level row left out, when the top level is windowed

    @property
    def more_top(self) -> int:
        """The top-level rows the next page shows, counted from the first (the no-script link)."""
        return self.top_shown + ROW_BUDGET

    def after(self, task_id: str) -> list[Row]:
        """The rows after the top-level task `task_id` and its branch (a page of "Show more")."""
        for index, row in enumerate(self.rows):
            if row.id == task_id:
                end = index + 1
                while end < len(self.rows) and self.rows[end].depth > row.depth:
                    end += 1
                return self.rows[end:]
        return []


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


def _top_limit(rows: Sequence[Row], forced: set[str], budget: int, top: int) -> tuple[int, int]:
    """How many top-level rows to render, of how many: all when they fit the budget, else the
    budget's worth or `top`, and always as far as the last one holding an opened task."""
    tops = [row for row in rows if row.depth == 0]
    if len(tops) <= budget:
        return len(tops), len(tops)
    wanted = max(budget, top)
    for index, row in enumerate(tops):
        if row.id in forced:
            wanted = max(wanted, index + 1)
    return min(wanted, len(tops)), len(tops)


def outline(
    rows: Sequence[Row],
    opened: Iterable[str] = (),
    root: Row | None = None,
    budget: int | None = None,
    top: int = 0,
) -> Outline:
    """The rows to render: under `root` (its descendants, which must be `rows`) or the whole
    project, whole levels within the budget, plus the children of every task in `opened`
    and of its parents (a task opened in the drawer is always in view). The whole project's
    top level is cut after `top` rows, or the budget's, when it alone is longer than that."""
    parents = {row.id: row.parent_id for row in rows}
    forced: set[str] = set()
    for task_id in opened:
        current: str | None = task_id
        while current is not None and current in parents and current not in forced:
            forced.add(current)
            current = parents[current]
    base_depth = root.depth + 1 if root else 0
    budget = ROW_BUDGET if budget is None else budget
    cutoff = _cutoff(rows, base_depth, budget)
    expanded: set[str | None] = {root.id if root else None}
    result = Outline(rows=[])
    limit, result.top_total = _top_limit(rows, forced, budget, top) if root is None else (0, 0)
    for row in rows:
        if row.parent_id not in expanded:
            continue
        if root is None and row.depth == 0:
            if result.top_shown == limit:
                result.next_top = row
                break
            result.top_shown += 1
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


def more(rows: Sequence[Row], after: str) -> Outline | None:
    """The next page of a windowed top level: the budget's worth of top-level rows after the
    top-level task `after` (the last one the page holds), with their rows; None if it is not one."""
    tops = [row.id for row in rows if row.depth == 0]
    if after not in tops:
        return None
    shown = outline(rows, top=tops.index(after) + 1 + ROW_BUDGET)
    return replace(shown, rows=shown.after(after))


def subtree(rows: Sequence[Row], task_id: str) -> tuple[Row, list[Row]] | None:
    """The task and its descendants (a contiguous run after it in WBS order), or None."""
    for index, row in enumerate(rows):
        if row.id == task_id:
            end = index + 1
            while end < len(rows) and rows[end].depth > row.depth:
                end += 1
            return row, list(rows[index + 1 : end])
    return None
