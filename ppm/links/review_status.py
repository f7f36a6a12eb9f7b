"""Review and CI in words and shapes (SPEC §15): the drawer's badges beside the status, and the
per-task roll-up the schedule row's label names ("checks failing"). Each state has its own
shape, drawn like the link statuses' (ppm.links.icons), so colour is never the only signal."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from sqlalchemy import case, func
from sqlalchemy.sql.elements import ColumnElement

from ppm.links.icons import icon

# Most attention first; "none" (no CI, nobody asked to review) is not shown or rolled up.
CHECKS_PRECEDENCE = ("failing", "pending", "passing")
REVIEW_PRECEDENCE = ("changes_requested", "review_required", "approved")
CHECKS_WORDS = {"failing": "Checks failing", "pending": "Checks pending", "passing": "Checks passing"}
REVIEW_WORDS = {"changes_requested": "Changes requested", "review_required": "Review required", "approved": "Approved"}

_STROKE = 'fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"'
_PATHS = {
    # a warning triangle, an hourglass, a ticked box
    "checks-failing": ["M6 1.2L11.2 10.6H.8z", "M6 4.6v2.6M6 8.9v.1"],
    "checks-pending": ["M2.5 1.5h7M2.5 10.5h7", "M3.5 1.5c0 3 5 3 5 4.5s-5 1.5-5 4.5",
                       "M8.5 1.5c0 3-5 3-5 4.5s5 1.5 5 4.5"],
    "checks-passing": ["M2.8 1.2h6.4a1.6 1.6 0 0 1 1.6 1.6v6.4a1.6 1.6 0 0 1-1.6 1.6H2.8a1.6 1.6 0 0 1-1.6-1.6V2.8"
                       "a1.6 1.6 0 0 1 1.6-1.6z", "M3.6 6.2l1.7 1.7 3.2-3.6"],
    # a stop diamond with a bar, a person waiting (a filled seal with a tick is below)
    "review-changes_requested": ["M6 .9L11.1 6 6 11.1.9 6z", "M3.8 6h4.4"],
    "review-review_required": ["M3.7 3.8a2.3 2.3 0 1 0 4.6 0a2.3 2.3 0 1 0-4.6 0",
                               "M1.8 11c.4-2.5 2-3.8 4.2-3.8s3.8 1.3 4.2 3.8"],
}  # fmt: skip
_SHAPES = {name: "".join(f'<path d="{d}" {_STROKE}/>' for d in paths) for name, paths in _PATHS.items()}
_SHAPES["review-approved"] = (
    '<circle cx="6" cy="6" r="5.4" fill="currentColor"/>'
    '<path d="M3.4 6.2l1.8 1.8 3.4-3.7" fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/>'
)


def _badge(kind: str, state: str, words: str) -> Markup:
    shape = Markup(_SHAPES[f"{kind}-{state}"])  # noqa: S704 - constant markup
    return Markup('<span class="status {kind} {kind}-{state}">{icon}{words}</span>').format(
        kind=kind, state=state, icon=icon(shape), words=words
    )


def badges(checks: str | None, review: str | None) -> Markup:
    """The drawer's two badges for one link, text always present; nothing for none or null."""
    parts = []
    if checks in CHECKS_WORDS:
        parts.append(_badge("checks", str(checks), CHECKS_WORDS[str(checks)]))
    if review in REVIEW_WORDS:
        parts.append(_badge("review", str(review), REVIEW_WORDS[str(review)]))
    return Markup(" ").join(parts)


def words(checks: str | None, review: str | None) -> str:
    """For a row's label: "checks failing, changes requested" (lower case, after the status)."""
    found = [CHECKS_WORDS.get(checks or ""), REVIEW_WORDS.get(review or "")]
    return ", ".join(word.lower() for word in found if word)


def label_suffix(checks: str | None, review: str | None) -> str:
    said = words(checks, review)
    return f", {said}" if said else ""


# --- the per-task roll-up, in the listing query --------------------------------------------


def _worst(column: Any, precedence: tuple[str, ...]) -> ColumnElement[Any]:
    return func.min(case({state: rank for rank, state in enumerate(precedence)}, value=column, else_=None))


def worst_checks(column: Any) -> ColumnElement[Any]:
    return _worst(column, CHECKS_PRECEDENCE)


def worst_review(column: Any) -> ColumnElement[Any]:
    return _worst(column, REVIEW_PRECEDENCE)


def checks_for_rank(rank: int | None) -> str | None:
    return None if rank is None else CHECKS_PRECEDENCE[int(rank)]


def review_for_rank(rank: int | None) -> str | None:
    return None if rank is None else REVIEW_PRECEDENCE[int(rank)]
