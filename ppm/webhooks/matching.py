"""Which object a URL names, so a delivery finds its links (SPEC §13): the same host, the same
repository path (case-insensitive), the same kind and number. Sub-pages (`/pull/7/files`) name
their object; a self-hosted root (a relative root too) is read off before the path is parsed.

GitLab addresses are read by providers/gitlab.py's one parser (refresh reads them with it too).
Every step is linear in the address's length, and an address is at most ADDRESS_MAX bytes
(SPEC §27): a delivery naming a longer one is refused before anything is matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ppm.integrations.providers import gitlab
from ppm.links.pushed import LinkMatcher

ADDRESS_MAX = 2048  # bytes, like a link's own address (SPEC §19, §27)

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


def address_too_long(url: str) -> bool:
    return len(url.encode("utf-8", "surrogatepass")) > ADDRESS_MAX


def _github_ref(segments: list[str]) -> tuple[str, str, str] | None:
    if len(segments) < 4 or segments[2] not in ("pull", "issues") or not gitlab.is_number(segments[3]):
        return None
    return "/".join(segments[:2]), "pull" if segments[2] == "pull" else "issue", segments[3]


_GITLAB_KINDS = {"merge_requests": "merge_request", "issues": "issue"}


def _gitlab_ref(path: str) -> tuple[str, str, str] | None:
    ref = gitlab.parse_object_path(path, undashed=True)
    if ref is None or ref[1] not in _GITLAB_KINDS:
        return None  # a commit is no pull request or issue
    return ref[0], _GITLAB_KINDS[ref[1]], ref[2]


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
    if provider == "github":
        ref = _github_ref([segment for segment in path.split("/") if segment])
    else:
        ref = _gitlab_ref(path) if provider == "gitlab" else None
    if ref is None:
        return None
    repository, kind, number = ref
    return ObjectKey(host, repository.lower(), kind, number)


def object_number(provider: str, url: str) -> str | None:
    """The object's number, wherever the host's root is (links match it exactly later)."""
    located = _host(url)
    if located is None:
        return None
    if provider == "gitlab":
        ref = _gitlab_ref(located[1])  # a root in front reads as part of the project path
        return ref[2] if ref else None
    segments = [segment for segment in located[1].split("/") if segment]
    for start in range(len(segments)):
        found = _github_ref(segments[start : start + 4])
        if found is not None:
            return found[2]
    return None


def link_matcher(provider: str, object_url: str) -> LinkMatcher:
    """A predicate for links.pushed: does a link (url, base_url) point at this object? The
    object's key is read once per self-hosted root, not once per link."""
    wanted: dict[str, ObjectKey | None] = {}

    def matches(url: str, base_url: str) -> bool:
        if base_url not in wanted:
            wanted[base_url] = object_key(provider, object_url, base_url)
        key = wanted[base_url]
        return key is not None and key == object_key(provider, url, base_url)

    return matches
