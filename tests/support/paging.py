"""Lists served page by page exactly as GitHub and GitLab document it (SPEC §26), for `responses`
callbacks and the loopback stand-in.

GitHub ("Using pagination in the REST API", docs.github.com): `per_page` defaults to 30 and tops
out at 100; `page` starts at 1; a list longer than one page carries a `link` header such as
`<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev",
<https://api.github.com/repositories/1300192/issues?page=4>; rel="next",
<https://api.github.com/repositories/1300192/issues?page=515>; rel="last",
<https://api.github.com/repositories/1300192/issues?page=1>; rel="first"` (no header when it all
fits on one page).

GitLab ("REST API: Pagination", docs.gitlab.com): `per_page` defaults to 20, at most 100; the
answer carries `x-page`, `x-per-page`, `x-next-page` (empty on the last page), `x-prev-page`
(empty on the first), `x-total`, `x-total-pages` and a `link` header of the same form.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _number(value: str | None, default: int, most: int | None = None) -> int:
    number = int(value) if value and value.isdigit() and int(value) > 0 else default
    return min(number, most) if most else number


def _page_url(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "page"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("page", str(page))])))


def _link(url: str, relations: list[tuple[int, str]]) -> str:
    return ", ".join(f'<{_page_url(url, page)}>; rel="{rel}"' for page, rel in relations)


def github_page(items: Sequence[Any], url: str) -> tuple[list[Any], dict[str, str]]:
    """The items GitHub puts on the page `url` asks for, and that answer's pagination header."""
    query = _query(url)
    per_page = _number(query.get("per_page"), 30, 100)
    page = _number(query.get("page"), 1)
    last = max(1, math.ceil(len(items) / per_page))
    chunk = list(items[(page - 1) * per_page : page * per_page])
    if last == 1:
        return chunk, {}
    relations: list[tuple[int, str]] = []
    if page > 1:
        relations.append((page - 1, "prev"))
    if page < last:
        relations += [(page + 1, "next"), (last, "last")]
    if page > 1:
        relations.append((1, "first"))
    return chunk, {"Link": _link(url, relations)}


def gitlab_page(items: Sequence[Any], url: str) -> tuple[list[Any], dict[str, str]]:
    """The items GitLab puts on the page `url` asks for, and that answer's pagination headers."""
    query = _query(url)
    per_page = _number(query.get("per_page"), 20, 100)
    page = _number(query.get("page"), 1)
    last = max(1, math.ceil(len(items) / per_page))
    chunk = list(items[(page - 1) * per_page : page * per_page])
    relations: list[tuple[int, str]] = []
    if page > 1:
        relations.append((page - 1, "prev"))
    if page < last:
        relations.append((page + 1, "next"))
    relations += [(1, "first"), (last, "last")]
    headers = {
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Next-Page": str(page + 1) if page < last else "",
        "X-Prev-Page": str(page - 1) if page > 1 else "",
        "X-Total": str(len(items)),
        "X-Total-Pages": str(last),
        "Link": _link(url, relations),
    }
    return chunk, headers
