"""Gitea and Forgejo (Codeberg, and any self-hosted instance): verification, link status, review
and CI (SPEC §24). Forgejo speaks Gitea's API, so one module serves both.

Addresses: `{base}/{owner}/{repo}/pulls/{n}[/…]` and `{base}/{owner}/{repo}/issues/{n}[/…]`, where
`{base}` is `https://codeberg.org` or a credential's `base_url` (a sub-path root included). The API
lives at `{base}/api/v1`; a token goes in `Authorization: token <PAT>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ppm.integrations.providers.base import (
    COMMIT_SHA,
    CredentialCheckFailed,
    Extras,
    NotModified,
    RefreshFailed,
    StatusResult,
    VerifiedAccount,
    _raise_for_refresh_status,
    call,
    check_status,
    clean_text,
    fetch_json,
    json_object,
    log,
    plain_title,
    provider_time,
    recalled,
    record_extras,
    refresh_fetch,
    remembered_call,
    required_state,
    stored_head_sha,
)

LABEL = "Gitea"
SAAS_ROOT = "https://codeberg.org"
SAAS_HOSTS = frozenset({"codeberg.org"})
# Gitea's default `[api] MAX_RESPONSE_ITEMS` is 50: a larger `limit` is cut to it anyway.
PAGE_SIZE = 50
MOST_PAGES = 10


def api_root(base_url: str) -> str:
    return f"{base_url or SAAS_ROOT}/api/v1"


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}", "Accept": "application/json"}


def verify(token: str, base_url: str) -> VerifiedAccount:
    """`GET {base}/api/v1/user`: 200 → the account's `login`; 401 and 403 → token_rejected
    (Gitea answers 403 to a token without the read:user scope); the rest as §5/§18."""
    response = call(LABEL, f"{api_root(base_url)}/user", auth_headers(token))
    if response.status == 403 and response.headers.get("Retry-After") is None:
        raise CredentialCheckFailed(
            "token_rejected",
            "The provider rejected this token: Gitea refused access with it (403). "
            "Give it at least the read:user, read:repository and read:issue scopes, or create a new one.",
        )
    check_status(LABEL, response)
    user = json_object(LABEL, response)
    login = clean_text(user.get("login"), 255) if isinstance(user.get("login"), str) else ""
    if not login:
        raise CredentialCheckFailed(
            "provider_unreachable", "Gitea gave an answer without an account name. Is the host URL right?"
        )
    return VerifiedAccount(login=login, scopes=None)


# --- link status ----------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
KINDS = {"pulls": "pull", "issues": "issue"}


def object_ref(path: str) -> tuple[str, str, str, str] | None:
    """(owner, repo, kind, number) of `/owner/repo/pulls/7[/files]` or `/owner/repo/issues/7`
    below the instance root, kind `pulls` or `issues`; None for anything else. Webhook matching
    reads it too, so one pull request is one pull request."""
    parts = [p for p in path.split("/") if p]
    if len(parts) < 4:
        return None
    owner, repo, kind, ident = parts[0], parts[1], parts[2], parts[3]
    if not (_NAME.fullmatch(owner) and _NAME.fullmatch(repo)) or owner in (".", "..") or repo in (".", ".."):
        return None  # not a repository path: never let it steer the API URL
    if kind in KINDS and ident.isascii() and ident.isdigit() and len(ident) <= 18:  # `²` is a digit to isdigit
        return owner, repo, kind, ident
    return None


def has_live_status(path: str) -> bool:
    return object_ref(path) is not None


def link_kind(path: str) -> str:
    """The kind of the object at a path: "pull", "issue", or "" for a page with no live status."""
    ref = object_ref(path)
    return KINDS[ref[2]] if ref else ""


def fetch_status(token: str, base_url: str, path: str) -> StatusResult:
    ref = object_ref(path)
    if ref is None:
        return StatusResult("unknown")  # commits, branches, files: no call (SPEC §24)
    owner, repo, kind, ident = (quote(p, safe="") for p in ref)
    root = f"{api_root(base_url)}/repos/{owner}/{repo}"
    headers = auth_headers(token)
    if kind == "pulls":
        return _pull_request(headers, root, ident)
    data = fetch_json(LABEL, f"{root}/issues/{ident}", headers, scope="read:issue")
    return StatusResult(issue_status(data), plain_title(data.get("title")), provider_time(data.get("updated_at")))


_WIP = ("wip:", "[wip]")


def pull_request_status(data: Mapping[str, Any]) -> str:
    """SPEC §24, from the API object or a delivery's `pull_request`: merged, else closed, else
    draft (`draft`, or Gitea's default work-in-progress title prefixes), else open."""
    state = required_state(LABEL, data, ("open", "closed"))
    if data.get("merged") is True:
        return "merged"
    if state == "closed":
        return "closed"
    title = data.get("title")
    wip = isinstance(title, str) and title.lstrip().lower().startswith(_WIP)
    return "draft" if data.get("draft") is True or wip else "open"


def issue_status(data: Mapping[str, Any]) -> str:
    return "open" if required_state(LABEL, data, ("open", "closed")) == "open" else "closed"


# --- review and CI (SPEC §15, §24) -------------------------------------------------------


def _pull_request(headers: dict[str, str], root: str, number: str) -> StatusResult:
    """The pull request, then its combined status and reviews. A 304 on the pull request still
    asks the extra calls (CI finishing does not change the pull request) for its stored head."""
    try:
        data = fetch_json(LABEL, f"{root}/pulls/{number}", headers, scope="read:repository")
    except NotModified:
        _checks_and_review(headers, root, number, None)
        raise
    result = StatusResult(
        pull_request_status(data), plain_title(data.get("title")), provider_time(data.get("updated_at"))
    )
    found = _checks_and_review(headers, root, number, data)
    result.checks, result.review = found.checks, found.review
    return result


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _head_sha(pull: Mapping[str, Any]) -> str | None:
    head = pull.get("head")
    sha = head.get("sha") if isinstance(head, dict) else None
    return sha if isinstance(sha, str) and COMMIT_SHA.fullmatch(sha) else None


def review_requested(pull: Mapping[str, Any]) -> bool:
    return bool(_dicts(pull.get("requested_reviewers")))


def _checks_and_review(headers: dict[str, str], root: str, number: str, pull: Mapping[str, Any] | None) -> Extras:
    head = _head_sha(pull) if pull is not None else stored_head_sha()
    requested = review_requested(pull) if pull is not None else recalled("requested") is True
    checks = _checks(headers, root, head) if head else ("none" if pull is not None else None)
    try:
        verdict: str | None = reviews_verdict(_all_pages(headers, f"{root}/pulls/{number}/reviews"), requested)
    except RefreshFailed as failure:
        log.info("reviews of %s/pulls/%s kept: %s", root, number, failure.code)
        verdict = None
    return record_extras(checks, verdict, head, requested=requested)


def _checks(headers: dict[str, str], root: str, sha: str) -> str | None:
    """The combined commit status (conditional on its own ETag); None keeps the cached value."""
    url = f"{root}/commits/{quote(sha, safe='')}/status?limit={PAGE_SIZE}"
    try:
        return str(remembered_call(LABEL, url, headers, combined_status, "read:repository"))
    except RefreshFailed as failure:
        log.info("checks of %s kept: %s", url, failure.code)
        return None


def combined_status(body: Any) -> str:
    """`GET …/commits/{sha}/status`: failure/error → failing; pending with at least one status →
    pending; success/warning → passing; no statuses → none."""
    if not isinstance(body, dict):
        return "none"
    total = body.get("total_count")
    has_any = bool(_dicts(body.get("statuses"))) or (
        isinstance(total, int) and not isinstance(total, bool) and total > 0
    )
    if not has_any:
        return "none"
    state = body.get("state")
    if state in ("failure", "error"):
        return "failing"
    if state == "pending":
        return "pending"
    if state in ("success", "warning"):
        return "passing"
    return "none"


_DECISIVE = frozenset({"APPROVED", "REQUEST_CHANGES"})


def reviews_verdict(reviews: Any, requested: bool) -> str:
    """Each reviewer's latest APPROVED or REQUEST_CHANGES review counts unless it was dismissed
    (as Gitea counts official approvals); then requested reviewers; else none."""
    latest: dict[Any, dict[str, Any]] = {}
    for review in sorted(_dicts(reviews), key=_review_order):
        user = review.get("user")
        reviewer = (user.get("id") or user.get("login")) if isinstance(user, dict) else None
        if review.get("state") in _DECISIVE and reviewer is not None:
            latest[reviewer] = review
    counted = {r.get("state") for r in latest.values() if r.get("dismissed") is not True}
    if "REQUEST_CHANGES" in counted:
        return "changes_requested"
    if "APPROVED" in counted:
        return "approved"
    return "review_required" if requested else "none"


def _review_order(review: dict[str, Any]) -> tuple[int, int]:
    """Oldest first: Gitea lists reviews by id; the sort only guards against another order."""
    ident = review.get("id")
    return (0, ident) if isinstance(ident, int) and not isinstance(ident, bool) else (1, 0)


def _all_pages(headers: dict[str, str], url: str) -> list[Any]:
    """A Gitea list, page by page (`page`, `limit`), following `Link: rel="next"`, else while
    `X-Total-Count` says more are left; at most MOST_PAGES pages."""
    items: list[Any] = []
    for page in range(1, MOST_PAGES + 1):
        response = refresh_fetch(LABEL, f"{url}?limit={PAGE_SIZE}&page={page}", headers)
        _raise_for_refresh_status(LABEL, response, "read:repository")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, list):
            raise RefreshFailed("provider_bad_response", f"{LABEL} gave an answer ppm could not read.")
        items.extend(body)
        if not body or not _more(response.headers, len(items)):
            break
    return items


def _more(headers: Mapping[str, str], seen: int) -> bool:
    link = headers.get("Link") or ""
    if link:
        return any('rel="next"' in part for part in link.split(","))
    total = (headers.get("X-Total-Count") or "").strip()
    return total.isdigit() and int(total) > seen
