"""Review and CI events (SPEC §15): they carry no status ppm can store, so each one names the
pull or merge requests it is about, and those links are refreshed through the job queue.

A reader returns `Refresh`: the pull or merge request addresses the event lists, and the head
commit SHAs it is about (used only when it lists no address: a `status` event, a check suite
of a fork, a GitLab branch pipeline, which also names its branch). GitLab approval actions of a
Merge Request Hook are read in `events` (SPEC §26). Odd shapes never raise: a field that is
missing or of the wrong type counts as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ppm.integrations.providers.base import COMMIT_SHA


@dataclass(frozen=True)
class Refresh:
    """Queue refreshes of the links to these addresses, else of the links at these head SHAs."""

    urls: tuple[str, ...] = ()
    shas: tuple[str, ...] = ()
    # SPEC §26, a GitLab branch pipeline: its branch and its project's address, for links whose
    # source branch it is when no link knows the commit yet.
    ref: str = ""
    project_url: str = ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def sha_of(value: Any) -> tuple[str, ...]:
    sha = _text(value).lower()
    return (sha,) if COMMIT_SHA.fullmatch(sha) else ()


def _github_pull_urls(payload: Mapping[str, Any], pulls: Any) -> tuple[str, ...]:
    """A check's `pull_requests` carry API addresses and numbers: the page address is the
    repository's `html_url` with `/pull/{number}` (GitHub Enterprise roots included)."""
    repository = _text(_dict(payload.get("repository")).get("html_url")).rstrip("/")
    if not repository or not isinstance(pulls, list):
        return ()
    numbers = [pull.get("number") for pull in pulls if isinstance(pull, dict)]
    return tuple(
        f"{repository}/pull/{number}" for number in numbers if isinstance(number, int) and not isinstance(number, bool)
    )


def github_check(key: str) -> Any:
    """`check_suite` / `check_run`: the object's pull requests, else its head SHA."""

    def read(payload: Mapping[str, Any]) -> Refresh:
        check = _dict(payload.get(key))
        return Refresh(_github_pull_urls(payload, check.get("pull_requests")), sha_of(check.get("head_sha")))

    return read


def github_status(payload: Mapping[str, Any]) -> Refresh:
    """A commit status names only its commit."""
    return Refresh((), sha_of(payload.get("sha")))


def github_pull_request_review(payload: Mapping[str, Any]) -> Refresh:
    pull = _dict(payload.get("pull_request"))
    url = _text(pull.get("html_url"))
    return Refresh((url,) if url else (), sha_of(_dict(pull.get("head")).get("sha")))


def gitlab_pipeline(payload: Mapping[str, Any]) -> Refresh:
    """A Pipeline Hook names its merge request (when it ran for one) and its commit; a branch
    pipeline (no merge request) also its branch (`ref`, unless it ran for a tag)."""
    attrs = _dict(payload.get("object_attributes"))
    url = _text(_dict(payload.get("merge_request")).get("url"))
    if url:
        return Refresh((url,), sha_of(attrs.get("sha")))
    ref = _text(attrs.get("ref"))[:255] if attrs.get("tag") is not True else ""
    project_url = _text(_dict(payload.get("project")).get("web_url"))
    return Refresh((), sha_of(attrs.get("sha")), ref, project_url if len(project_url) <= 2048 else "")
