"""GitHub and GitHub Enterprise Server: token verification (SPEC §5)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ppm.integrations.providers import review
from ppm.integrations.providers.base import (
    COMMIT_SHA,
    CredentialCheckFailed,
    Extras,
    NotModified,
    RefreshFailed,
    StatusResult,
    VerifiedAccount,
    call,
    check_status,
    clean_text,
    fetch_json,
    first_line,
    github_next_page,
    json_object,
    log,
    plain_title,
    provider_time,
    recalled,
    record_extras,
    remembered_call,
    remembered_list,
    required_state,
    stored_head_sha,
)

SAAS_API = "https://api.github.com"
SAAS_HOSTS = frozenset({"github.com", "www.github.com", "api.github.com"})
NEEDED_SCOPES = ("repo", "public_repo")
SCOPE_HELP = (
    "This GitHub token needs the “repo” scope (or “public_repo” for public repositories only) "
    "to read pull requests and issues. Create a token with it."
)


def api_root(base_url: str) -> str:
    return f"{base_url}/api/v3" if base_url else SAAS_API


def auth_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


def parse_expiry(value: str | None) -> datetime | None:
    """`2026-12-31 23:59:59 UTC` or with a numeric offset; anything else is ignored."""
    if not value:
        return None
    text = value.strip()
    if text.upper().endswith(" UTC"):
        text = text[:-4] + " +0000"
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z").astimezone(UTC)
    except (ValueError, OverflowError):  # year 1 or 9999 with an offset leaves the calendar
        return None


def parse_scopes(value: str | None) -> list[str] | None:
    """Classic tokens list their scopes; fine-grained tokens send no header at all."""
    if value is None:
        return None
    return [scope.strip() for scope in value.split(",") if scope.strip()]


def verify(token: str, base_url: str) -> VerifiedAccount:
    response = call("GitHub", f"{api_root(base_url)}/user", auth_headers(token))
    check_status("GitHub", response, SCOPE_HELP)
    user = json_object("GitHub", response)
    login = clean_text(user.get("login"), 255) if isinstance(user.get("login"), str) else ""
    if not login:
        raise CredentialCheckFailed(
            "provider_unreachable", "GitHub gave an answer without an account name. Is the host URL right?"
        )
    scopes = parse_scopes(response.headers.get("X-OAuth-Scopes"))
    if scopes is not None and not any(s in scopes for s in NEEDED_SCOPES):
        raise CredentialCheckFailed("insufficient_scope", SCOPE_HELP)
    expires = parse_expiry(response.headers.get("GitHub-Authentication-Token-Expiration"))
    return VerifiedAccount(login=login, scopes=scopes, expires_at=expires)


# --- link status ----------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def _ref(path: str) -> tuple[str, str, str, str] | None:
    """(owner, repo, kind, id) from `/owner/repo/pull/7[/files]`, issues, or commit paths."""
    parts = [p for p in path.split("/") if p]
    if len(parts) < 4:
        return None
    owner, repo, kind, ident = parts[0], parts[1], parts[2], parts[3]
    if not (_NAME.fullmatch(owner) and _NAME.fullmatch(repo)) or owner in (".", "..") or repo in (".", ".."):
        return None  # not a repository path: never let it steer the API URL
    if kind in ("pull", "issues") and ident.isdigit():
        return owner, repo, kind, ident
    if kind == "commit" and COMMIT_SHA.fullmatch(ident):
        return owner, repo, kind, ident
    return None


def has_live_status(path: str) -> bool:
    ref = _ref(path)
    return ref is not None and ref[2] in ("pull", "issues")


def fetch_status(token: str, base_url: str, path: str) -> StatusResult:
    ref = _ref(path)
    if ref is None:
        return StatusResult("unknown")
    owner, repo, kind, ident = (quote(p, safe="") for p in ref)
    root = f"{api_root(base_url)}/repos/{owner}/{repo}"
    if kind == "pull":
        return _pull_request(token, root, ident)
    if kind == "issues":
        data = fetch_json("GitHub", f"{root}/issues/{ident}", auth_headers(token), scope="repo")
        return StatusResult(issue_status(data), plain_title(data.get("title")), provider_time(data.get("updated_at")))
    data = fetch_json("GitHub", f"{root}/commits/{ident}", auth_headers(token), scope="repo")
    commit = data.get("commit")
    return StatusResult("unknown", first_line(commit.get("message") if isinstance(commit, dict) else None))


def issue_status(data: Mapping[str, Any]) -> str:
    return "open" if required_state("GitHub", data, ("open", "closed")) == "open" else "closed"


def pull_request_status(data: Mapping[str, Any]) -> str:
    """SPEC §6/§18: the `merged` boolean decides when present (GitHub's own example is an open,
    unmerged pull request that carries a `merged_at`); `merged_at` only when it is absent."""
    state = required_state("GitHub", data, ("open", "closed"))
    merged = data.get("merged")
    if merged is True or (not isinstance(merged, bool) and data.get("merged_at")):
        return "merged"
    if state == "closed":
        return "closed"
    return "draft" if data.get("draft") is True else "open"


# --- review and CI (SPEC §15) -----------------------------------------------------------


def _pull_request(token: str, root: str, number: str) -> StatusResult:
    """The pull request, then its checks and reviews. A 304 on the pull request still asks the
    extra calls (a CI run finishing does not change the pull request) for its stored head."""
    headers = auth_headers(token)
    try:
        data = fetch_json("GitHub", f"{root}/pulls/{number}", headers, scope="repo")
    except NotModified:
        _checks_and_review(headers, root, number, None)
        raise
    result = StatusResult(
        pull_request_status(data), plain_title(data.get("title")), provider_time(data.get("updated_at"))
    )
    found = _checks_and_review(headers, root, number, data)
    result.checks, result.review = found.checks, found.review
    return result


def _checks_and_review(headers: dict[str, str], root: str, number: str, pull: dict[str, Any] | None) -> Extras:
    head = _head_sha(pull) if pull is not None else stored_head_sha()
    requested = _review_requested(pull) if pull is not None else recalled("requested") is True
    checks = _checks(headers, root, head) if head else ("none" if pull is not None else None)
    try:
        verdict = remembered_list(
            "GitHub",
            f"{root}/pulls/{number}/reviews",
            headers,
            review.list_of,
            lambda reviews: review.github_review(reviews, {}),
            github_next_page,
            "repo",
        )
    except RefreshFailed as failure:
        log.info("reviews of %s/pulls/%s kept: %s", root, number, failure.code)
        verdict = None
    return record_extras(checks, _review(verdict, requested), head, requested=requested)


def _head_sha(pull: dict[str, Any]) -> str | None:
    head = pull.get("head")
    sha = head.get("sha") if isinstance(head, dict) else None
    return sha if isinstance(sha, str) and COMMIT_SHA.fullmatch(sha) else None


def _review_requested(pull: dict[str, Any]) -> bool:
    return review.github_review([], pull) == "review_required"


def _review(verdict: str | None, requested: bool) -> str | None:
    """The reviews' verdict, else whether reviewers or teams are requested; None keeps the cache."""
    if verdict is None or verdict != "none":
        return verdict
    return "review_required" if requested else "none"


def _checks(headers: dict[str, str], root: str, sha: str) -> str | None:
    """Check runs first (every page); the combined status only when there are none; and when
    there are no statuses either, the check suites (a workflow that never started, SPEC §26).
    None keeps the cache."""
    commit = f"{root}/commits/{quote(sha, safe='')}"
    try:
        runs = remembered_list(
            "GitHub", f"{commit}/check-runs", headers, review.check_runs_of, review.github_check_run_list,
            github_next_page, "repo",
        )  # fmt: skip
        if runs is not None:
            return str(runs)
        status = str(remembered_call("GitHub", f"{commit}/status", headers, review.github_combined_status, "repo"))
        if status != "none":
            return status
        suites = remembered_list(
            "GitHub", f"{commit}/check-suites", headers, review.check_suites_of, review.github_check_suite_list,
            github_next_page, "repo",
        )  # fmt: skip
        return str(suites)
    except RefreshFailed as failure:
        log.info("checks of %s kept: %s", commit, failure.code)
        return None
