"""Task links (SPEC §6, §8): add, edit, remove, refresh, and the per-task roll-up.

Reads need the viewer role and writes the member role, through projects.load_project. Refresh
is a read of the outside world (viewers may do it) but a write of the cache, so an archived
project refuses it. A failed refresh never loses a cached value.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ppm import crypto, events
from ppm.auth.models import User
from ppm.errors import Conflict, DomainError, NotFound, ValidationCollector
from ppm.extensions import db
from ppm.integrations import previews
from ppm.integrations import services as accounts
from ppm.integrations.models import Credential
from ppm.integrations.providers.base import Extras, NotModified, RefreshFailed, StatusResult, conditional
from ppm.integrations.registry import TASK_LINK_PROVIDERS, Provider, provider_for_host
from ppm.links import attention, changes, review_status
from ppm.links.models import TaskLink
from ppm.links.pushed import older_version
from ppm.links.status import RANK, rank_expression, status_for_rank
from ppm.models_base import iso, utcnow
from ppm.projects import services as projects
from ppm.projects.models import Membership, Role, Task
from ppm.text import text_problem

log = logging.getLogger("ppm.links")

URL_MAX = 2048
TITLE_MAX = 200
LABEL_MAX = 40
LABELS_MAX = 12
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.?)")
# Bytes, not characters: PostgreSQL's unique index on (task, url_key) cannot hold a row of
# more than about 2,700 bytes, and 1,500 CJK characters are 4,500 bytes (SPEC §19).
_TOO_LONG = f"The link is too long: at most {URL_MAX} bytes (a non-Latin character counts as 2 to 4)."


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


# --- URL rules ------------------------------------------------------------------------


def normalize_url(raw: Any) -> tuple[str, str]:
    """(url to store, key for duplicate detection), or a 400 on `url` a person can act on."""
    errors = ValidationCollector()
    if not isinstance(raw, str) or not raw.strip():
        errors.add("url", "Paste a link starting with https://.")
        errors.raise_if_any()
    url = raw.strip()
    scheme = _SCHEME.match(url)
    # `github.com:443/x` is a host and port, not a scheme.
    if scheme is None or (scheme.group(2).isdigit() and "://" not in url):
        url = "https://" + url
    problem = _url_problem(url)
    key = url_key(url) if problem is None else ""
    if problem is None and utf8_length(key) > URL_MAX:
        problem = _TOO_LONG  # a lower-cased host can take more bytes than the typed one
    if problem:
        errors.add("url", problem)
        errors.raise_if_any()
    return url, key


def _url_problem(url: str) -> str | None:
    if utf8_length(url) > URL_MAX:
        return _TOO_LONG
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "The link contains spaces; paste just the address."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "This is not a valid web address."
    if parts.scheme.lower() not in ("http", "https"):
        return "Only web links (http:// or https://) can be added."
    if not parts.hostname or "\\" in url:
        return "The link needs a host name, like https://github.com/…"
    if "@" in parts.netloc:
        return "Leave out any user name or password in the link."
    return None


def url_key(url: str) -> str:
    """Equal for URLs that differ only in scheme/host case, a default port, or one trailing /."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{parts.netloc.rsplit('@', 1)[0]}@{host}"
    path = parts.path[:-1] if parts.path.endswith("/") else parts.path
    key = f"{scheme}://{host}{path}"
    if parts.query:
        key += "?" + parts.query
    if parts.fragment:
        key += "#" + parts.fragment
    return key


def _clean_labels(value: Any, errors: ValidationCollector) -> list[str] | None:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add("labels", "Labels must be a list of words.")
        return None
    if len(value) > 100:
        errors.add("labels", f"A link can have at most {LABELS_MAX} labels.")
        return None
    seen: set[str] = set()
    labels: list[str] = []
    for raw in value:
        label = raw.strip()
        if not label or label.casefold() in seen:
            continue
        problem = text_problem(label)
        if problem:
            errors.add("labels", f"A label {problem}.")
            return None
        if len(label) > LABEL_MAX:
            errors.add("labels", f"Each label can be at most {LABEL_MAX} characters.")
            return None
        seen.add(label.casefold())
        labels.append(label)
    if len(labels) > LABELS_MAX:
        errors.add("labels", f"A link can have at most {LABELS_MAX} labels.")
        return None
    return labels


def _clean_title(value: Any, errors: ValidationCollector) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add("custom_title", "The title must be text.")
        return None
    title = value.strip()
    problem = text_problem(title)
    if problem:
        errors.add("custom_title", f"The title {problem}.")
        return None
    if len(title) > TITLE_MAX:
        errors.add("custom_title", f"The title can be at most {TITLE_MAX} characters.")
        return None
    return title


# --- provider resolution --------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    provider: Provider
    base_url: str  # "" for SaaS and file hosts
    path: str  # the link's path below the host root


def resolve(user: User, url: str) -> Route:
    """SPEC §4: a claimed host wins; else the adding user's self-hosted credential; else generic."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    claimed = provider_for_host(host)
    if claimed.id != "generic":
        return Route(claimed, "", parts.path)
    best: tuple[int, Route] | None = None
    for credential in accounts.self_hosted_credentials(user):
        root = urlsplit(credential.base_url)
        same_origin = (root.scheme, (root.hostname or "").lower(), root.port) == (
            parts.scheme.lower(),
            host,
            parts.port,
        )
        base_path = root.path.rstrip("/")
        if not same_origin or not (parts.path == base_path or parts.path.startswith(base_path + "/")):
            continue
        route = Route(TASK_LINK_PROVIDERS[credential.provider], credential.base_url, parts.path[len(base_path) :])
        if best is None or len(base_path) > best[0]:
            best = (len(base_path), route)
    return best[1] if best else Route(TASK_LINK_PROVIDERS["generic"], "", parts.path)


def detect(user: User, raw: str) -> tuple[Provider, bool] | None:
    """For the live hint while typing: (provider, has live status), or None if not a URL yet."""
    try:
        url, _ = normalize_url(raw)
    except DomainError:
        return None
    route = resolve(user, url)
    live = bool(route.provider.has_live_status and route.provider.has_live_status(route.path))
    return route.provider, live


# --- reads ----------------------------------------------------------------------------


def _task(actor: User, project_id: str, task_id: str, need: Role, write: bool = False, lock: bool = False) -> Task:
    """A live task of a project the actor may read (or write). `lock` takes the project's sync
    lock first, as every writer does, so a concurrent task removal cannot interleave."""
    access = projects.load_project(actor, project_id, need, write=write)
    if lock:
        projects.lock_sequence(access.project.id)
    task = db.session.scalar(
        select(Task).where(
            Task.id == projects.safe_id(task_id), Task.project_id == access.project.id, Task.deleted_at.is_(None)
        )
    )
    if task is None:
        raise NotFound("Task not found.")
    return task


def live_links(task_id: str) -> list[TaskLink]:
    return list(
        db.session.scalars(
            select(TaskLink)
            .where(TaskLink.task_id == task_id, TaskLink.deleted_at.is_(None))
            .order_by(TaskLink.position, TaskLink.created_at, TaskLink.id)
        )
    )


def list_links(actor: User, project_id: str, task_id: str) -> list[TaskLink]:
    return live_links(_task(actor, project_id, task_id, Role.viewer).id)


def _link(task: Task, link_id: str) -> TaskLink:
    link = db.session.scalar(
        select(TaskLink).where(
            TaskLink.id == projects.safe_id(link_id), TaskLink.task_id == task.id, TaskLink.deleted_at.is_(None)
        )
    )
    if link is None:
        raise NotFound("Link not found.")
    return link


def get_link(actor: User, project_id: str, task_id: str, link_id: str) -> TaskLink:
    return _link(_task(actor, project_id, task_id, Role.viewer), link_id)


# --- writes ---------------------------------------------------------------------------


def _stamp(link: TaskLink, before: events.LinkState | None) -> None:
    """Every write of one link: its sync number and the LinkChanged announcement (the one
    link-write path, ppm.links.changes; the batch of a delivery is ppm.links.pushed)."""
    changes.written(link, before)


def add_link(actor: User, project_id: str, task_id: str, data: Any) -> TaskLink:
    task = _task(actor, project_id, task_id, Role.member, write=True, lock=True)
    data = projects.require_mapping(data)
    errors = ValidationCollector()
    url = key = ""
    try:
        url, key = normalize_url(data.get("url"))
    except DomainError as error:
        errors.fields.update(getattr(error, "fields", {"url": [error.detail]}))
    title = _clean_title(data.get("custom_title"), errors)
    labels = _clean_labels(data.get("labels"), errors)
    errors.raise_if_any()
    if any(link.url_key == key for link in live_links(task.id)):
        raise Conflict("This link is already on the task.", code="duplicate_link")
    route = resolve(actor, url)
    position = db.session.scalar(
        select(func.coalesce(func.max(TaskLink.position) + 1, 0)).where(TaskLink.task_id == task.id)
    )
    link = TaskLink(
        project_id=task.project_id,
        task_id=task.id,
        url=url,
        url_key=key,
        provider=route.provider.id,
        base_url=route.base_url,
        custom_title=title or "",
        labels=labels or [],
        status="unknown",
        position=position or 0,
        created_by_id=actor.id,
        preview_type=previews.preview_type_for_url(url) if route.provider.is_file_host else "",
    )
    db.session.add(link)
    try:
        _stamp(link, None)
        db.session.commit()  # a racing add of the same URL fails here, on the unique index
    except IntegrityError:
        db.session.rollback()  # a racing add of the same URL won
        raise Conflict("This link is already on the task.", code="duplicate_link") from None
    return link


def edit_link(actor: User, project_id: str, task_id: str, link_id: str, data: Any) -> TaskLink:
    task = _task(actor, project_id, task_id, Role.member, write=True, lock=True)
    link = _link(task, link_id)
    data = projects.require_mapping(data)
    errors = ValidationCollector()
    title = _clean_title(data.get("custom_title"), errors) if "custom_title" in data else None
    labels = _clean_labels(data.get("labels"), errors) if "labels" in data else None
    closes = data.get("closes")
    if "closes" in data and not isinstance(closes, bool):
        errors.add("closes", "This must be true or false.")
    errors.raise_if_any()
    before = changes.state_of(link)
    if isinstance(closes, bool):  # SPEC §20: a person's choice; deliveries leave it from now on
        link.closes, link.closes_set_by_person = closes, True
    if title is not None:
        link.custom_title = title
    if labels is not None:
        link.labels = labels
    _stamp(link, before)
    db.session.commit()
    return link


def remove_link(actor: User, project_id: str, task_id: str, link_id: str) -> None:
    task = _task(actor, project_id, task_id, Role.member, write=True, lock=True)
    link = _link(task, link_id)
    before = changes.state_of(link)
    link.deleted_at = utcnow()
    _stamp(link, before)
    db.session.commit()


def _remove_links_of_tasks(project_id: str, task_ids: list[str]) -> None:
    """Removing a task removes its links, each with a tombstone for the sync delta."""
    now = utcnow()
    for link in list(
        db.session.scalars(select(TaskLink).where(TaskLink.task_id.in_(task_ids), TaskLink.deleted_at.is_(None)))
    ):
        before = changes.state_of(link)
        link.deleted_at = now
        _stamp(link, before)


projects.TASK_REMOVAL_HOOKS.append(_remove_links_of_tasks)


# --- refresh --------------------------------------------------------------------------


def _path_below_root(link: TaskLink) -> str:
    """The link's path read relative to its host root (a GitLab relative root, say)."""
    path = urlsplit(link.url).path
    return path[len(urlsplit(link.base_url).path.rstrip("/")) :] if link.base_url else path


def has_live_status(link: TaskLink) -> bool:
    """Whether refresh can give this link a status (a PR, MR or issue; not a commit or page)."""
    provider = TASK_LINK_PROVIDERS.get(link.provider)
    return bool(provider and provider.has_live_status and provider.has_live_status(_path_below_root(link)))


class CredentialRequired(DomainError):
    status = 422
    code = "credential_required"


# One refresh in three steps, shared by a person's click, Refresh all, the scheduled sweep and
# webhook-queued refreshes (SPEC §14): `plan_refresh` reads what the call needs (the credential
# chosen by `choose_credential`), the caller ends that transaction, `perform_refresh` calls the
# provider with no transaction open, and `apply_refresh` writes the outcome in a short one.


@dataclass(frozen=True)
class CredentialChoice:
    """Whose token a refresh uses. `credential` is None when nobody's may be used: `missing`
    says the chosen person has none for this provider and host (or is no longer a member);
    otherwise they have one but have not allowed background use (leave the link alone)."""

    credential: Credential | None
    user_id: str | None
    missing: bool = False


def choose_credential(link: TaskLink, provider: Provider, requester: User | None) -> CredentialChoice:
    """SPEC §14 "Whose credential", the one place it is decided. A person who asks (single
    refresh, Refresh all) uses their own credential for the link's provider and host, with no
    opt-in. Nobody asking (the sweep): the person who last refreshed the link successfully, else
    the person who added it, only while a member of the project holding a credential for that
    provider and host, and only if they switched `background_refresh` on. Never anyone else's."""
    if requester is not None:
        credential = accounts.credential_for(requester, provider.id, link.base_url)
        return CredentialChoice(credential, requester.id, missing=credential is None)
    owner_id = link.last_refreshed_by_id or link.created_by_id
    owner = db.session.get(User, owner_id) if owner_id else None
    if owner is None or not is_member(owner.id, link.project_id):
        return CredentialChoice(None, owner_id, missing=True)
    credential = accounts.credential_for(owner, provider.id, link.base_url)
    if credential is None:
        return CredentialChoice(None, owner.id, missing=True)
    if not credential.background_refresh:
        return CredentialChoice(None, owner.id)
    return CredentialChoice(credential, owner.id)


def _background_owner(link: TaskLink) -> str | None:
    """For a cloud card nobody asked about: the person who last refreshed it (else who added
    it), while a member who has allowed background refresh on any of their tokens."""
    owner_id = link.last_refreshed_by_id or link.created_by_id
    if owner_id is None or not is_member(owner_id, link.project_id):
        return None
    allowed = db.session.scalar(
        select(Credential.id).where(Credential.user_id == owner_id, Credential.background_refresh.is_(True)).limit(1)
    )
    return owner_id if allowed is not None else None


def is_member(user_id: str, project_id: str) -> bool:
    found = db.session.scalar(
        select(Membership.id).where(Membership.user_id == user_id, Membership.project_id == project_id)
    )
    return found is not None


@dataclass(frozen=True)
class RefreshPlan:
    """What one refresh needs, read before the call so no transaction stays open during it.
    `kind`: "preview" (a cloud card), "status" (a git call), "none" (nothing to fetch: a generic
    link), "failed" (decided without a call: `failure`), "credential_required" (the chosen person
    has no credential) or "left_alone" (a background refresh without the owner's consent)."""

    link_id: str
    project_id: str
    kind: str
    url: str = ""
    provider_id: str = ""
    base_url: str = ""
    path: str = ""
    token: str = field(default="", repr=False)  # never in a log line
    credential_id: str | None = None
    user_id: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    failure: tuple[str, str] | None = None
    head_sha: str | None = None
    review_memory: Mapping[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return (urlsplit(self.base_url or self.url).hostname or "").lower()


@dataclass
class RefreshOutcome:
    """What the provider said: a status, a card, "not modified", or a failure (cached values kept)."""

    status: StatusResult | None = None
    card: previews.Preview | None = None
    not_modified: bool = False
    failure: RefreshFailed | None = None
    etag: str | None = None
    last_modified: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    extras: Extras | None = None  # SPEC §15 checks and review, also after a 304


def plan_refresh(link: TaskLink, requester: User | None) -> RefreshPlan:
    provider = TASK_LINK_PROVIDERS.get(link.provider, TASK_LINK_PROVIDERS["generic"])
    # A pull or merge request never fetched with its review and CI (SPEC §15) is asked in full once.
    unreviewed = link.kind == "pull" and link.review_memory is None
    plan = RefreshPlan(
        link.id, link.project_id, "none", url=link.url, provider_id=provider.id,
        etag=None if unreviewed else link.etag, last_modified=None if unreviewed else link.last_modified,
        head_sha=link.head_sha, review_memory=link.review_memory or {},
    )  # fmt: skip
    if provider.is_file_host:
        # No token is used, but nobody asking means polling: only with the owner's consent.
        owner = requester.id if requester is not None else _background_owner(link)
        return replace(plan, kind="preview" if owner else "left_alone", user_id=owner)
    if provider.fetch_status is None:
        return plan  # generic links have no live status
    plan = replace(plan, base_url=link.base_url, path=_path_below_root(link))
    if not accounts.host_still_allowed(provider.id, link.base_url):
        return replace(plan, kind="failed", failure=("blocked_host", "ppm is no longer allowed to contact this host."))
    choice = choose_credential(link, provider, requester)
    if choice.credential is None:
        return replace(plan, kind="credential_required" if choice.missing else "left_alone", user_id=choice.user_id)
    plan = replace(plan, credential_id=choice.credential.id, user_id=choice.user_id)
    try:
        token = accounts.read_token(choice.credential)
    except crypto.UnreadableSecret:
        whose = "Your" if requester is not None else "The"
        detail = f"{whose} {provider.label} token can no longer be read. Connect it again."
        return replace(plan, kind="failed", failure=("credential_unreadable", detail))
    return replace(plan, kind="status", token=token)


def perform_refresh(plan: RefreshPlan) -> RefreshOutcome:
    """The outbound call (status or preview), conditional on the last good answer's validators.
    Touches no database: the caller has ended its transaction."""
    with conditional(plan.etag, plan.last_modified, plan.head_sha, plan.review_memory) as exchange:
        outcome = RefreshOutcome()
        try:
            if plan.kind == "preview":
                outcome.card = previews.fetch_preview(plan.url)
            else:
                fetch = TASK_LINK_PROVIDERS[plan.provider_id].fetch_status
                assert fetch is not None
                outcome.status = fetch(plan.token, plan.base_url, plan.path)
        except NotModified:
            outcome.not_modified = True
        except RefreshFailed as failure:
            outcome.failure = failure
        outcome.etag, outcome.last_modified = exchange.new_etag, exchange.new_last_modified
        outcome.headers = exchange.headers
        outcome.extras = exchange.extras
    return outcome


def apply_refresh(plan: RefreshPlan, outcome: RefreshOutcome) -> TaskLink | None:
    """Write one refresh's result in its own short transaction, exactly as SPEC §6/§14 say:
    success and 304 stamp `fetched_at` and clear the error; a failure keeps every cached value.
    None when the link was removed meanwhile (nothing to write)."""
    projects.lock_sequence(plan.project_id)
    link = db.session.scalar(select(TaskLink).where(TaskLink.id == plan.link_id, TaskLink.deleted_at.is_(None)))
    # SPEC §27: the archived flag is read under the project's lock; once archiving has
    # answered, no link of the project changes.
    if link is None or projects.is_archived(plan.project_id):
        db.session.rollback()
        return None
    before = changes.state_of(link)
    if outcome.status is not None and outcome.status.updated_at is not None and not outcome.not_modified:
        if older_version(outcome.status.updated_at, link.provider_updated_at):
            # A webhook applied a newer version while this call was in flight: it wins; the
            # answer only says the link was looked at (SPEC §27).
            link.fetched_at = utcnow()
            link.refresh_error = None  # the answer itself was good (docs/decisions.md)
            _stamp(link, before)
            db.session.commit()
            return link
    if plan.failure is not None:
        return _record_failure(link, before, *plan.failure)
    if outcome.failure is not None:
        return _record_failure(link, before, outcome.failure.code, outcome.failure.detail, outcome.failure.retry_at)
    if plan.credential_id is not None:
        credential = db.session.get(Credential, plan.credential_id)
        if credential is not None:
            accounts.mark_used(credential)
    if plan.user_id is not None:
        link.last_refreshed_by_id = plan.user_id
    if not outcome.not_modified:
        if outcome.card is not None:
            _apply_card(link, outcome.card)
        elif outcome.status is not None:
            link.status = outcome.status.status if outcome.status.status in RANK else "unknown"
            if outcome.status.title:
                link.title = outcome.status.title
            link.provider_updated_at = outcome.status.updated_at or link.provider_updated_at
        if outcome.etag or outcome.last_modified:
            link.etag, link.last_modified = outcome.etag, outcome.last_modified
    if outcome.extras is not None:
        _apply_extras(link, outcome.extras)
    return _record_success(link, before)


def _apply_extras(link: TaskLink, extras: Extras) -> None:
    """SPEC §15: what the extra calls found; a call that failed leaves its cached value."""
    link.checks = extras.checks if extras.checks is not None else link.checks
    link.review = extras.review if extras.review is not None else link.review
    link.head_sha = extras.head_sha or link.head_sha
    link.review_memory = extras.memory


def record_credential_required(plan: RefreshPlan) -> TaskLink | None:
    """A background refresh whose chosen person has no usable credential: the project sees the
    link needs a new refresher; its cached values stay (SPEC §14)."""
    provider = TASK_LINK_PROVIDERS[plan.provider_id]
    failure = RefreshFailed(
        "credential_required",
        f"Nobody who may refresh this link in the background has a {provider.label} token for it. "
        "Refresh it yourself to become its refresher.",
    )
    return apply_refresh(plan, RefreshOutcome(failure=failure))


def refresh_link(actor: User, project_id: str, task_id: str, link_id: str) -> TaskLink:
    task = _task(actor, project_id, task_id, Role.viewer, write=True)
    link = _link(task, link_id)
    plan = plan_refresh(link, actor)
    if plan.kind == "none":
        return link  # nothing to fetch, nothing changes
    if plan.kind == "credential_required":
        provider = TASK_LINK_PROVIDERS[plan.provider_id]
        raise CredentialRequired(
            f"Connect {provider.label} to see the status of this link.",
            extra={"provider": provider.id, "connect_url": f"/me/settings/connected-accounts#{provider.id}"},
        )
    db.session.commit()  # no transaction stays open across the outbound call
    outcome = perform_refresh(plan) if plan.failure is None else RefreshOutcome()
    return apply_refresh(plan, outcome) or _link(task, link_id)


def _apply_card(link: TaskLink, card: previews.Preview) -> None:
    """SPEC §7, §12 Previews: the chip always shows what the URL says; a good card replaces only
    the fields it has (an empty page never blanks a card)."""
    link.preview_type = link.preview_type or previews.preview_type_for_url(link.url)
    link.title = card.title or link.title
    link.description = card.description or link.description
    link.thumbnail_url = card.thumbnail_url or link.thumbnail_url
    link.preview_type = card.preview_type or link.preview_type


def _record_success(link: TaskLink, before: events.LinkState) -> TaskLink:
    link.fetched_at = utcnow()
    link.refresh_error = None
    _stamp(link, before)
    db.session.commit()
    return link


def _record_failure(
    link: TaskLink, before: events.LinkState, code: str, detail: str, retry_at: datetime | None = None
) -> TaskLink:
    """Keeps status, title and preview as they were; says what went wrong, when, and when the
    provider said to try again (SPEC §18 `retry_at`)."""
    provider = TASK_LINK_PROVIDERS.get(link.provider)
    if provider is not None and provider.is_file_host:  # the chip shows what the URL says
        link.preview_type = link.preview_type or previews.preview_type_for_url(link.url)
    link.refresh_error = {"code": code, "detail": detail, "at": iso(utcnow()), "retry_at": iso(retry_at)}
    _stamp(link, before)
    db.session.commit()
    return link


# --- roll-up (SPEC §8) ----------------------------------------------------------------


def summary_subquery(project_id: str) -> Any:
    """Per task: live link count and worst rank, aggregated before any join (GROUP BY task_id)."""
    return (
        select(
            TaskLink.task_id.label("task_id"),
            func.count().label("link_count"),
            func.min(rank_expression(TaskLink.status)).label("worst_rank"),
            attention.link_bits().label("attention_bits"),  # SPEC §16, in the same pass
            review_status.worst_checks(TaskLink.checks).label("worst_checks"),  # SPEC §15
            review_status.worst_review(TaskLink.review).label("worst_review"),
        )
        .where(TaskLink.project_id == project_id, TaskLink.deleted_at.is_(None))
        .group_by(TaskLink.task_id)
        .subquery()
    )


def summary(count: int | None, worst_rank: int | None) -> dict[str, Any]:
    count = int(count or 0)
    return {"count": count, "worst_status": status_for_rank(worst_rank) if count else None}


def task_summary(task: Task) -> dict[str, Any]:
    sub = summary_subquery(task.project_id)
    row = db.session.execute(select(sub.c.link_count, sub.c.worst_rank).where(sub.c.task_id == task.id)).first()
    return summary(row[0], row[1]) if row else summary(0, None)
