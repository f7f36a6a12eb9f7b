"""The one definition of "worst status" (SPEC §8): most attention first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case
from sqlalchemy.sql.elements import ColumnElement

# closed > draft > open > merged > unknown: lower rank needs more attention.
PRECEDENCE = ("closed", "draft", "open", "merged", "unknown")
RANK = {status: rank for rank, status in enumerate(PRECEDENCE)}


def rank_expression(column: Any) -> ColumnElement[int]:
    """The same precedence inside SQL, so the roll-up is part of the listing query."""
    return case({status: rank for status, rank in RANK.items()}, value=column, else_=RANK["unknown"])


def status_for_rank(rank: int | None) -> str | None:
    return None if rank is None else PRECEDENCE[int(rank)]
