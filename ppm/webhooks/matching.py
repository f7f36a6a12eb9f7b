"""Which object a URL names, so a delivery finds its links (SPEC §13): the same host, the same
repository path (case-insensitive), the same kind and number. Sub-pages (`/pull/7/files`) name
their object; a self-hosted root (a relative root too) is read off before the path is parsed.

The GitLab shapes are parsed here for now; when providers/gitlab.py gains a public parser for
its issue shapes (§18), `_gitlab_ref` becomes a call to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ppm.integrations.providers import gitea
from ppm.links.pushed import LinkMatcher

# The SaaS hosts each provider answers on, folded to one name.
_CANONICAL_HOSTS = {
    **{host: "github.com" for host in ("github.com", "www.github.com")},
    **{host: "gitlab.com" for host in ("gitlab.com", "www.gitlab.com")},
}


@dataclass(frozen=True)
class ObjectKey:
    host: str  # lower-case host, with the port when it is not the scheme's default
    repository: str  # lower-case repository path (`acme/api`, `group/sub/project`)
    kind: str  # "pull" | "merge_request" | "issue"
    number: str


def _host(url: str) -> tuple[str, str] | None:
    """(host for comparing, path) of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    host = _CANONICAL_HOSTS.get(host, host)
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    return host, parts.path


def _github_ref(segments: list[str]) -> tuple[str, str, str] | None:
    if len(segments) < 4 or segments[2] not in ("pull", "issues") or not segments[3].isdigit():
        return None
    return "/".join(segments[:2]), "pull" if segments[2] == "pull" else "issue", segments[3]


# GitLab: `-/merge_requests/N`, and the three shapes of one issue (§18). Older GitLab versions
# (and GitLab's own payload examples) leave out the `-`.
_GITLAB_SHAPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("merge_requests",), "merge_request"),
    (("issues", "incident"), "issue"),
    (("issues",), "issue"),
    (("work_items",), "issue"),
)


def _gitlab_ref(segments: list[str]) -> tuple[str, str, str] | None:
    if segments and segments[0] == "groups":
        return None  # group-level work items (epics) are not project items
    if "-" in segments:
        dash = segments.index("-")
        project, rest = segments[:dash], segments[dash + 1 :]
        return _gitlab_kind(project, rest)
    for start in range(1, len(segments)):
        found = _gitlab_kind(segments[:start], segments[start:])
        if found:
            return found
    return None


def _gitlab_kind(project: list[str], rest: list[str]) -> tuple[str, str, str] | None:
    if not project:
        return None
    for prefix, kind in _GITLAB_SHAPES:
        size = len(prefix)
        if tuple(rest[:size]) == prefix and len(rest) > size and rest[size].isdigit():
            return "/".join(project), kind, rest[size]
    return None


def _gitea_ref(segments: list[str]) -> tuple[str, str, str] | None:
    """Gitea and Forgejo: `owner/repo/pulls/N` and `owner/repo/issues/N` (SPEC §24)."""
    ref = gitea.object_ref("/".join(segments))
    return None if ref is None else (f"{ref[0]}/{ref[1]}", gitea.KINDS[ref[2]], ref[3])


_REFS: dict[str, Callable[[list[str]], tuple[str, str, str] | None]] = {
    "github": _github_ref,
    "gitlab": _gitlab_ref,
    "gitea": _gitea_ref,
}


def _ref(provider: str, segments: list[str]) -> tuple[str, str, str] | None:
    reader = _REFS.get(provider)
    return reader(segments) if reader else None


def object_key(provider: str, url: str, base_url: str = "") -> ObjectKey | None:
    """The object a URL names, read relative to `base_url` (a self-hosted root) when given."""
    located = _host(url)
    if located is None:
        return None
    host, path = located
    if base_url:
        root = _host(base_url)
        if root is None or root[0] != host:
            return None
        root_path = root[1].rstrip("/")
        if path != root_path and not path.startswith(root_path + "/"):
            return None
        path = path[len(root_path) :]
    segments = [segment for segment in path.split("/") if segment]
    ref = _ref(provider, segments)
    if ref is None:
        return None
    repository, kind, number = ref
    return ObjectKey(host, repository.lower(), kind, number)


def object_number(provider: str, url: str) -> str | None:
    """The object's number, wherever the host's root is (links match it exactly later)."""
    located = _host(url)
    if located is None:
        return None
    segments = [segment for segment in located[1].split("/") if segment]
    for start in range(len(segments)):
        ref = _ref(provider, segments[start:])
        if ref is not None:
            return ref[2]
    return None


def link_matcher(provider: str, object_url: str) -> LinkMatcher:
    """A predicate for links.pushed: does a link (url, base_url) point at this object?"""

    def matches(url: str, base_url: str) -> bool:
        wanted = object_key(provider, object_url, base_url)
        return wanted is not None and wanted == object_key(provider, url, base_url)

    return matches
