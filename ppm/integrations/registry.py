"""The one provider registry (SPEC §4). Links, previews and connected accounts all read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ppm.integrations.providers import gitea, github, gitlab
from ppm.integrations.providers.base import StatusResult, VerifiedAccount

Verifier = Callable[[str, str], VerifiedAccount]
# (token, base_url, path relative to the host root) -> status and title
StatusFetcher = Callable[[str, str, str], StatusResult]


@dataclass(frozen=True)
class Provider:
    id: str
    label: str
    requires_credential: bool
    connectable: bool
    # Hosts claimed exactly, and hosts claimed together with all their subdomains.
    exact_hosts: frozenset[str] = frozenset()
    domain_hosts: frozenset[str] = frozenset()
    # Hosts that mean the provider's own SaaS when given as a credential base_url.
    saas_hosts: frozenset[str] = frozenset()
    verify: Verifier | None = None
    fetch_status: StatusFetcher | None = None
    has_live_status: Callable[[str], bool] | None = None
    # "pull" or "issue" for a path below the host root with a live status, else "".
    link_kind: Callable[[str], str] | None = None
    # Cloud-file hosts: refresh fetches a public preview card instead of a status.
    is_file_host: bool = False
    # Token prefixes that belong to *other* providers: pasted here, they are refused unsent.
    foreign_token_prefixes: tuple[str, ...] = ()
    why_connect: str = ""
    token_help: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def claims(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if host in self.exact_hosts:
            return True
        return any(host == d or host.endswith("." + d) for d in self.domain_hosts)


GITHUB_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "github_pat_")
GITLAB_TOKEN_PREFIXES = ("glpat-",)

# Insertion order is the order of SPEC §4's table, so iterating is deterministic.
TASK_LINK_PROVIDERS: dict[str, Provider] = {
    p.id: p
    for p in (
        Provider(
            "github",
            "GitHub",
            requires_credential=True,
            connectable=True,
            exact_hosts=frozenset({"github.com", "www.github.com"}),
            saas_hosts=github.SAAS_HOSTS,
            verify=github.verify,
            fetch_status=github.fetch_status,
            has_live_status=github.has_live_status,
            foreign_token_prefixes=GITLAB_TOKEN_PREFIXES,
            why_connect="See whether linked pull requests and issues are open, draft, merged or closed.",
            token_help="A classic token with the “repo” scope (or “public_repo”), or a fine-grained "
            "token with read access to pull requests and issues.",
        ),
        Provider(
            "gitlab",
            "GitLab",
            requires_credential=True,
            connectable=True,
            exact_hosts=frozenset({"gitlab.com", "www.gitlab.com"}),
            saas_hosts=gitlab.SAAS_HOSTS,
            verify=gitlab.verify,
            fetch_status=gitlab.fetch_status,
            has_live_status=gitlab.has_live_status,
            foreign_token_prefixes=GITHUB_TOKEN_PREFIXES,
            why_connect="See the status of linked merge requests and issues on gitlab.com or your own GitLab.",
            token_help="A personal access token with the “read_api” scope.",
        ),
        Provider(
            "gitea",
            "Gitea / Forgejo",
            requires_credential=True,
            connectable=True,
            exact_hosts=gitea.SAAS_HOSTS,
            saas_hosts=gitea.SAAS_HOSTS,
            verify=gitea.verify,
            fetch_status=gitea.fetch_status,
            has_live_status=gitea.has_live_status,
            link_kind=gitea.link_kind,
            why_connect="See the status of linked pull requests and issues on Codeberg or your own Gitea or Forgejo.",
            token_help="An access token (Settings → Applications) with read access to repositories and issues "
            "(the read:repository, read:issue and read:user scopes).",
            extra={"saas_host": "codeberg.org", "self_hosted_example": "https://git.example.org"},
        ),
        Provider(
            "generic",
            "Generic",
            requires_credential=False,
            connectable=True,
            why_connect="Keep a token for another git host; its links are saved as generic links.",
            token_help="Stored encrypted as given; ppm does not contact the host to check it.",
        ),
        Provider(
            "google_drive",
            "Google Drive",
            requires_credential=False,
            connectable=False,
            is_file_host=True,
            domain_hosts=frozenset({"drive.google.com", "docs.google.com"}),
        ),
        Provider(
            "dropbox",
            "Dropbox",
            requires_credential=False,
            connectable=False,
            is_file_host=True,
            domain_hosts=frozenset({"dropbox.com"}),
        ),
        Provider(
            "box",
            "Box",
            requires_credential=False,
            connectable=False,
            is_file_host=True,
            domain_hosts=frozenset({"box.com"}),
        ),
        Provider(
            "onedrive",
            "OneDrive",
            requires_credential=False,
            connectable=False,
            is_file_host=True,
            domain_hosts=frozenset({"onedrive.live.com", "1drv.ms", "sharepoint.com"}),
        ),
    )
}


def connectable_providers() -> list[Provider]:
    return sorted((p for p in TASK_LINK_PROVIDERS.values() if p.connectable), key=lambda p: p.id)


def provider_for_host(host: str) -> Provider:
    """The provider that claims a host, or the generic fallback."""
    for provider in TASK_LINK_PROVIDERS.values():
        if provider.claims(host):
            return provider
    return TASK_LINK_PROVIDERS["generic"]
