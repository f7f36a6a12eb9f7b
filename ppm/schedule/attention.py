"""The Needs attention bar and filter of the schedule (SPEC §16).

The codes come with the rows (`Row.attention`, from the listing query), and so do the bar's
counts: the bar and the filter cost no query. A filter keeps the matching rows and, muted, their
ancestors, in WBS order: the tree still reads as a tree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from ppm.links import attention
from ppm.schedule.services import Row


@dataclass(frozen=True)
class BarItem:
    code: str
    label: str
    count: int
    url: str  # choosing it; choosing the active one again shows every task
    active: bool


@dataclass(frozen=True)
class Bar:
    items: list[BarItem]
    active: tuple[str, ...]
    clear_url: str
    message: str  # what the rows show now, in words (also announced after a swap)


def read_codes(raw: str | None) -> tuple[str, ...]:
    """The page's `?attention=`: known codes in SPEC order; anything else is ignored, as an
    unknown view or zoom is (the JSON API refuses it instead)."""
    asked = {part.strip() for part in (raw or "").split(",")}
    return tuple(code for code in attention.CODES if code in asked)


def filter_rows(rows: Sequence[Row], codes: Sequence[str]) -> tuple[list[Row], int]:
    """The rows with any of the codes plus their ancestors (muted), in the order given, and how
    many matched. Rows come in WBS order, so a parent is seen before its children."""
    wanted = attention.mask(codes)
    parents = {row.id: row.parent_id for row in rows}
    keep: set[str] = set()
    matched = 0
    for row in rows:
        if not row.attention & wanted:
            continue
        matched += 1
        keep.add(row.id)
        parent = row.parent_id
        while parent is not None and parent not in keep:
            keep.add(parent)
            parent = parents.get(parent)
    shown = [row for row in rows if row.id in keep]
    for row in shown:
        row.muted = not row.attention & wanted
    return shown, matched


def build_bar(
    counts: dict[str, int], active: tuple[str, ...], link: Callable[[tuple[str, ...]], str], shown: int, matched: int
) -> Bar:
    items = [
        BarItem(
            code=code,
            label=attention.LABELS[code],
            count=counts.get(code, 0),
            url=link(() if code in active else (code,)),
            active=code in active,
        )
        for code in attention.CODES
    ]
    return Bar(items=items, active=active, clear_url=link(()), message=_message(active, shown, matched))


def _message(active: tuple[str, ...], shown: int, matched: int) -> str:
    if not active:
        return f"Showing all {_tasks(shown)}."
    what = " or ".join(attention.LABELS[code].lower() for code in active)
    if not matched:
        return f"No tasks to show: none is {what}."
    context = shown - matched
    extra = f", with {context} parent {'task' if context == 1 else 'tasks'} for context" if context else ""
    return f"Showing {_tasks(matched)} {what}{extra}."


def _tasks(count: int) -> str:
    return f"{count} task" if count == 1 else f"{count} tasks"


# --- the words on each row (escaped once here: the row templates print them as they are) ---

_ROW_MARKUP: dict[tuple[int, bool], Markup] = {}


def row_markup(row: Row) -> Markup:
    """A visible flag and the reasons in words inside the row's link (its accessible name);
    for a muted row, that it is shown for context. Memoised: there are few combinations."""
    key = (row.attention if row.kind != "s" else 0, row.muted)
    found = _ROW_MARKUP.get(key)
    if found is None:
        found = _ROW_MARKUP[key] = _reasons(*key)
    return found


def _reasons(bits: int, muted: bool) -> Markup:
    """Short: flagged rows can be most of a big project, and every byte is repeated."""
    parts = []
    codes = attention.codes_of(bits)
    if codes:
        reasons = ", ".join(attention.LABELS[code].lower() for code in codes)
        parts.append(Markup('<span class="attention-flag" aria-hidden="true">⚑</span>'))
        parts.append(Markup('<span class="visually-hidden">, needs attention: {}</span>').format(reasons))
    if muted:
        parts.append(Markup('<span class="visually-hidden">, shown for context</span>'))
    return Markup("").join(parts)


def row_class(row: Row) -> Markup:
    return MUTED if row.muted else NOT_MUTED


MUTED, NOT_MUTED = escape(" is-muted"), escape("")


def for_schedule(
    rows: list[Row], active: tuple[str, ...], link: Callable[[tuple[str, ...]], str]
) -> tuple[list[Row], Bar]:
    """The rows to show and the bar above them; `link(codes)` is the schedule's URL with them."""
    shown, matched = filter_rows(rows, active) if active else (rows, len(rows))
    return shown, build_bar(count_codes(rows), active, link, len(shown), matched)


def count_codes(rows: Sequence[Row]) -> dict[str, int]:
    """How many rows carry each code, from the bits the listing query already brought: the bar
    costs no query of its own."""
    per_bits: dict[int, int] = {}
    for row in rows:
        if row.attention:
            per_bits[row.attention] = per_bits.get(row.attention, 0) + 1
    return {code: sum(n for bits, n in per_bits.items() if bits & attention.BITS[code]) for code in attention.CODES}
