"""Task links (SPEC §6, §8): add, edit, remove, refresh, and the per-task roll-up.

Reads need the viewer role and writes the member role, through projects.load_project. Refresh
is a read of the outside world (viewers may do it) but a write of the cache, so an archived
project refuses it. A failed refresh never loses a cached value.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import subqueryload

from ppm import crypto
from ppm.auth.models import User
from ppm.errors import Conflict, DomainError, NotFound, ValidationCollector
from ppm.extensions import db
from ppm.integrations import previews
from ppm.integrations import services as accounts
from ppm.integrations.providers.base import RefreshFailed
from ppm.integrations.registry import TASK_LINK_PROVIDERS, Provider, provider_for_host
from ppm.links.models import TaskLink
from ppm.links.status import RANK, rank_expression, status_for_rank
from ppm.models_base import iso, utcnow
from ppm.projects import services as projects
from ppm.projects.models import Role, Task
from ppm.text import text_problem

log = logging.getLogger("ppm.links")

URL_MAX = 2048
TITLE_MAX = 200
LABEL_MAX = 40
LABELS_MAX = 12
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.?)")


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
    if problem:
        errors.add("url", problem)
        errors.raise_if_any()
    return url, url_key(url)


def _url_problem(url: str) -> str | None:
    if len(url) > URL_MAX:
        return f"The link is too long: at most {URL_MAX} characters."
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


def _stamp(link: TaskLink) -> None:
    link.sync_number = projects.next_sync_number(link.project_id)
    link.updated_at = utcnow()


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
        _stamp(link)
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
    errors.raise_if_any()
    if title is not None:
        link.custom_title = title
    if labels is not None:
        link.labels = labels
    _stamp(link)
    db.session.commit()
    return link


def remove_link(actor: User, project_id: str, task_id: str, link_id: str) -> None:
    task = _task(actor, project_id, task_id, Role.member, write=True, lock=True)
    link = _link(task, link_id)
    link.deleted_at = utcnow()
    _stamp(link)
    db.session.commit()


def _remove_links_of_tasks(project_id: str, task_ids: list[str]) -> None:
    """Removing a task removes its links, each with a tombstone for the sync delta."""
    now = utcnow()
    for link in db.session.scalars(
        select(TaskLink).where(TaskLink.task_id.in_(task_ids), TaskLink.deleted_at.is_(None))
    ):
        link.deleted_at = now
        _stamp(link)


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


def refresh_link(actor: User, project_id: str, task_id: str, link_id: str) -> TaskLink:
    task = _task(actor, project_id, task_id, Role.viewer, write=True)
    link = _link(task, link_id)
    provider = TASK_LINK_PROVIDERS.get(link.provider, TASK_LINK_PROVIDERS["generic"])
    if provider.is_file_host:
        return _refresh_preview(link)
    if provider.fetch_status is None:
        return link  # generic links have no live status: nothing to fetch, nothing changes
    if not accounts.host_still_allowed(provider.id, link.base_url):
        return _record_failure(link, "blocked_host", "ppm is no longer allowed to contact this host.")
    credential = accounts.credential_for(actor, provider.id, link.base_url)
    if credential is None:
        raise CredentialRequired(
            f"Connect {provider.label} to see the status of this link.",
            extra={"provider": provider.id, "connect_url": f"/me/settings/connected-accounts#{provider.id}"},
        )
    try:
        token = accounts.read_token(credential)
        result = provider.fetch_status(token, link.base_url, _path_below_root(link))
    except crypto.UnreadableSecret:
        return _record_failure(
            link, "credential_unreadable", f"Your {provider.label} token can no longer be read. Connect it again."
        )
    except RefreshFailed as failure:
        return _record_failure(link, failure.code, failure.detail)
    accounts.mark_used(credential)
    link.status = result.status if result.status in RANK else "unknown"
    if result.title:
        link.title = result.title
    link.provider_updated_at = result.updated_at or link.provider_updated_at
    return _record_success(link)


def _refresh_preview(link: TaskLink) -> TaskLink:
    """SPEC §7, §12 Previews: the chip always shows what the URL says; a failed refresh (a file
    that turned private included) keeps the last good card; a good one replaces only the fields
    it has (an empty page never blanks a card)."""
    link.preview_type = link.preview_type or previews.preview_type_for_url(link.url)
    try:
        card = previews.fetch_preview(link.url)
    except RefreshFailed as failure:
        return _record_failure(link, failure.code, failure.detail)
    link.title = card.title or link.title
    link.description = card.description or link.description
    link.thumbnail_url = card.thumbnail_url or link.thumbnail_url
    link.preview_type = card.preview_type or link.preview_type
    return _record_success(link)


def _record_success(link: TaskLink) -> TaskLink:
    link.fetched_at = utcnow()
    link.refresh_error = None
    _stamp(link)
    db.session.commit()
    return link


def _record_failure(link: TaskLink, code: str, detail: str) -> TaskLink:
    """Keeps status, title and preview as they were; says what went wrong and when."""
    link.refresh_error = {"code": code, "detail": detail, "at": iso(utcnow())}
    _stamp(link)
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
        )
        .where(TaskLink.project_id == project_id, TaskLink.deleted_at.is_(None))
        .group_by(TaskLink.task_id)
        .subquery()
    )


def summary(count: int | None, worst_rank: int | None) -> dict[str, Any]:
    count = int(count or 0)
    return {"count": count, "worst_status": status_for_rank(worst_rank) if count else None}


def tasks_with_summaries(actor: User, project_id: str) -> list[tuple[Task, dict[str, Any]]]:
    """The project's live tasks in WBS order with their link summary, in one listing query."""
    access = projects.load_project(actor, project_id)
    sub = summary_subquery(access.project.id)
    rows = db.session.execute(
        select(Task, sub.c.link_count, sub.c.worst_rank)
        .options(subqueryload(Task.assignees))  # one query for all assignees, whatever the size
        .outerjoin(sub, sub.c.task_id == Task.id)
        .where(Task.project_id == access.project.id, Task.deleted_at.is_(None))
        .order_by(Task.position, Task.created_at, Task.id)
    ).all()
    summaries = {task.id: summary(count, rank) for task, count, rank in rows}
    return [(task, summaries[task.id]) for task in projects.wbs_order(task for task, _, _ in rows)]


def task_summary(task: Task) -> dict[str, Any]:
    sub = summary_subquery(task.project_id)
    row = db.session.execute(select(sub.c.link_count, sub.c.worst_rank).where(sub.c.task_id == task.id)).first()
    return summary(row[0], row[1]) if row else summary(0, None)
