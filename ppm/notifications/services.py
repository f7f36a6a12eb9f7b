"""Notifications out (SPEC §25): subscriptions for project admins, the outbox rows the event
listeners write in the writer's transaction, and the bookkeeping of deliveries (claim a
subscription, take its next due event, record an attempt). The sending itself runs in jobs
(`ppm.jobs.notify`), through the egress helper; nothing here calls out except the URL check.

A secret leaves this module only inside `Revealed` (create and rotate); nothing logs a URL (a
Slack address is itself a secret), a body, a signature or a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ppm import crypto, egress
from ppm.auth.models import User
from ppm.errors import NotFound, ValidationCollector, ValidationError
from ppm.extensions import db
from ppm.models_base import new_id, utcnow
from ppm.notifications import formats
from ppm.notifications.models import (
    DELIVERED,
    EVENT_TYPES,
    FAILED,
    FORMATS,
    PENDING,
    NotificationAttempt,
    NotificationAttention,
    NotificationEvent,
    NotificationSubscription,
)
from ppm.projects import services as projects
from ppm.projects.models import Project, Role, Task

log = logging.getLogger("ppm.notifications")

URL_MAX = 2048
DELIVERY_LOG = 50
RETRY_WAITS = (10, 60, 300, 1800, 7200, 21600)  # seconds after the 1st, 2nd, … failed try
DISABLE_AFTER = 20  # failed events in a row
LEASE_SECONDS = 15  # one deliverer per subscription; far above the 5 s budget of one call
FORMAT_LABELS = {"standard": "Standard Webhooks", "slack": "Slack"}
EVENT_LABELS = {
    "link.status_changed": "A git link's status, checks or review changes",
    "task.attention_changed": "A task's attention codes change",
    "task.state_changed": "A task's state changes",
}


@dataclass(frozen=True)
class Revealed:
    """A subscription with its secret in plain text: only the create and rotate answers carry it."""

    subscription: NotificationSubscription
    secret: str | None = field(repr=False)


# --- helpers ----------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def base_url() -> str:
    """Absolute ppm URLs in payloads (SPEC §13's base): PPM_BASE_URL, else this request's host."""
    configured = str(current_app.config.get("PPM_BASE_URL") or "").strip()
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://localhost"


def retry_waits() -> Sequence[int]:
    waits = current_app.config.get("NOTIFY_RETRY_WAITS")
    return tuple(int(w) for w in waits) if waits is not None else RETRY_WAITS


def _lease() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("NOTIFY_LEASE_SECONDS") or LEASE_SECONDS))


# --- validation -------------------------------------------------------------------------


def _clean_url(data: Any, errors: ValidationCollector) -> str | None:
    raw = data.get("url")
    allow_http = bool(current_app.config.get("INTEGRATION_ALLOW_HTTP"))
    schemes = "https:// or http://" if allow_http else "https://"
    if not isinstance(raw, str) or not raw.strip():
        errors.add("url", f"Enter the address to send notifications to, starting with {schemes}.")
        return None
    url = raw.strip()
    if len(url) > URL_MAX:
        errors.add("url", f"This address is too long ({URL_MAX} characters at most).")
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        errors.add("url", f"Enter a web address starting with {schemes}.")
        return None
    scheme = parts.scheme.lower()
    if scheme == "http" and not allow_http:
        errors.add("url", "Only https:// addresses are allowed.")
        return None
    if scheme not in ("http", "https") or not parts.hostname:
        errors.add("url", f"Enter a web address with a host, starting with {schemes}.")
        return None
    try:
        egress.check_url(url, allowlist=egress.NOTIFY_ALLOWLIST)  # not the provider hosts' list
    except egress.EgressBlocked as error:
        reason = "a private or loopback address" if str(error) == egress.MSG_PRIVATE else "not allowed"
        errors.add("url", f"ppm does not send notifications to this address: it is {reason}.")
        return None
    except egress.EgressTimeout:
        errors.add("url", "The host name did not resolve in time; check it and try again.")
        return None
    except egress.EgressError:
        errors.add("url", "The host name does not resolve; check the address.")
        return None
    return url


def _clean_events(data: Any, errors: ValidationCollector, *, required: bool = True) -> list[str] | None:
    if "events" not in data and not required:
        return None
    raw = data.get("events")
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list) or not raw or not all(isinstance(item, str) for item in raw):
        errors.add("events", "Choose at least one event: " + ", ".join(EVENT_TYPES) + ".")
        return None
    unknown = [item for item in raw if item not in EVENT_TYPES]
    if unknown:
        shown = ", ".join(f"“{item[:40]}”" for item in unknown[:3])
        errors.add("events", f"Unknown event {shown}. Use any of: {', '.join(EVENT_TYPES)}.")
        return None
    return [kind for kind in EVENT_TYPES if kind in raw]


def _clean_format(data: Any, errors: ValidationCollector) -> str | None:
    value = data.get("format", "standard")
    if value not in FORMATS:
        errors.add("format", "Choose the format: standard or slack.")
        return None
    return str(value)


def _clean_enabled(data: Any, errors: ValidationCollector) -> bool | None:
    if "enabled" not in data:
        return None
    value = data["enabled"]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "on", "off", "1", "0"):
        return value.lower() in ("true", "on", "1")
    errors.add("enabled", "Use true or false.")
    return None


# --- management (admin and above) -------------------------------------------------------


def list_subscriptions(actor: User, project_id: str) -> list[NotificationSubscription]:
    access = projects.load_project(actor, project_id, Role.admin)
    return list(
        db.session.scalars(
            select(NotificationSubscription)
            .where(NotificationSubscription.project_id == access.project.id)
            .order_by(NotificationSubscription.created_at, NotificationSubscription.id)
        )
    )


def create_subscription(actor: User, project_id: str, data: Any) -> Revealed:
    access = projects.load_project(actor, project_id, Role.admin, write=True)
    data = projects.require_mapping(data)
    errors = ValidationCollector()
    fmt = _clean_format(data, errors)
    events = _clean_events(data, errors)
    url = _clean_url(data, errors)
    errors.raise_if_any()
    assert url is not None and fmt is not None and events is not None
    secret = formats.new_secret() if fmt == "standard" else None
    subscription = NotificationSubscription(
        project_id=access.project.id,
        url=url,
        format=fmt,
        events=events,
        secret_ciphertext=crypto.encrypt(secret) if secret else None,
        enabled=True,
        failures=0,
        created_by_id=actor.id,
    )
    db.session.add(subscription)
    db.session.flush()
    if "task.attention_changed" in events:
        _remember_attention(access.project.id)
    db.session.commit()
    log.info("notification subscription %s (%s) created on project %s", subscription.id, fmt, access.project.id)
    return Revealed(subscription, secret)


def get_subscription(
    actor: User, project_id: str, subscription_id: str, *, write: bool = False
) -> NotificationSubscription:
    access = projects.load_project(actor, project_id, Role.admin, write=write)
    subscription = db.session.scalar(
        select(NotificationSubscription).where(
            NotificationSubscription.id == projects.safe_id(subscription_id),
            NotificationSubscription.project_id == access.project.id,
        )
    )
    if subscription is None:
        raise NotFound("Notification subscription not found.")
    return subscription


def update_subscription(actor: User, project_id: str, subscription_id: str, data: Any) -> NotificationSubscription:
    """`events` and `enabled`; re-enabling resets the failures in a row."""
    subscription = get_subscription(actor, project_id, subscription_id, write=True)
    data = projects.require_mapping(data)
    errors = ValidationCollector()
    events = _clean_events(data, errors, required=False)
    enabled = _clean_enabled(data, errors)
    errors.raise_if_any()
    if events is not None:
        subscription.events = events
    if enabled is True and not subscription.enabled:
        subscription.enabled = True
        subscription.failures = 0
        subscription.disabled_reason = None
        log.info("notification subscription %s re-enabled", subscription.id)
    elif enabled is False and subscription.enabled:
        subscription.enabled = False
        subscription.disabled_reason = "by_person"
    if subscription.enabled and "task.attention_changed" in subscription.events and (events or enabled):
        db.session.flush()
        _remember_attention(subscription.project_id)
    db.session.commit()
    return subscription


def set_enabled(actor: User, project_id: str, subscription_id: str, enabled: bool) -> NotificationSubscription:
    return update_subscription(actor, project_id, subscription_id, {"enabled": enabled})


def delete_subscription(actor: User, project_id: str, subscription_id: str) -> None:
    subscription = get_subscription(actor, project_id, subscription_id, write=True)
    db.session.delete(subscription)
    db.session.commit()
    log.info("notification subscription %s deleted", subscription_id)


def rotate_secret(actor: User, project_id: str, subscription_id: str) -> Revealed:
    """A new secret (standard format); the old one stops signing at once."""
    subscription = get_subscription(actor, project_id, subscription_id, write=True)
    if subscription.format != "standard":
        raise ValidationError({"format": ["A Slack subscription has no secret to rotate."]})
    secret = formats.new_secret()
    subscription.secret_ciphertext = crypto.encrypt(secret)
    db.session.commit()
    log.info("notification subscription %s secret rotated", subscription.id)
    return Revealed(subscription, secret)


def send_test(actor: User, project_id: str, subscription_id: str) -> NotificationEvent:
    """Queue one `ping` to this subscription alone."""
    subscription = get_subscription(actor, project_id, subscription_id, write=True)
    project = db.session.get(Project, subscription.project_id)
    assert project is not None
    payload = {"type": "ping", "timestamp": _timestamp(), "data": {"project": _project_json(project)}}
    event = _write(subscription, "ping", payload)
    db.session.commit()
    return event


def list_deliveries(actor: User, project_id: str, subscription_id: str) -> list[NotificationAttempt]:
    subscription = get_subscription(actor, project_id, subscription_id)
    return list(
        db.session.scalars(
            select(NotificationAttempt)
            .where(NotificationAttempt.subscription_id == subscription.id)
            .order_by(NotificationAttempt.at.desc(), NotificationAttempt.attempt.desc())
            .limit(DELIVERY_LOG)
        )
    )


def redeliver(actor: User, project_id: str, subscription_id: str, delivery_id: str) -> NotificationEvent:
    """Send the event of a delivery log row again, with the same `webhook-id` (the event's)."""
    subscription = get_subscription(actor, project_id, subscription_id, write=True)
    wanted = projects.safe_id(delivery_id)
    event_id = db.session.scalar(
        select(NotificationAttempt.event_id).where(
            NotificationAttempt.subscription_id == subscription.id, NotificationAttempt.id == wanted
        )
    )
    event = db.session.scalar(
        select(NotificationEvent).where(
            NotificationEvent.subscription_id == subscription.id, NotificationEvent.id == (event_id or wanted)
        )
    )
    if event is None:
        raise NotFound("Delivery not found.")
    event.status, event.tries, event.next_attempt_at, event.delivered_at = PENDING, 0, utcnow(), None
    db.session.commit()
    return event


# --- the outbox (listeners call these inside the writer's transaction) -------------------


def _timestamp() -> str:
    return utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")


def _project_json(project: Project) -> dict[str, Any]:
    return {"id": project.id, "key": project.key, "name": project.name}


def _task_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "key": task.key,
        "name": task.name,
        "url": f"{base_url()}/projects/{task.project_id}/schedule?task={task.id}",
    }


def _write(subscription: NotificationSubscription, kind: str, payload: dict[str, Any]) -> NotificationEvent:
    body = formats.encode(formats.slack(payload) if subscription.format == "slack" else payload)
    event = NotificationEvent(
        id=formats.new_event_id(),
        subscription_id=subscription.id,
        type=kind,
        body=body,
        status=PENDING,
        tries=0,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(event)
    return event


@dataclass(frozen=True)
class Listener:
    id: str
    format: str


_CACHE = "ppm.notifications.listening"


def listening(project_id: str, kind: str) -> list[Listener]:
    """The project's enabled subscriptions to `kind` (one small query per transaction: the
    writer holds the project lock, and a delivery that changes many links emits one event per
    link; events filtered here, since a JSON containment test is not portable)."""
    cache: dict[str, list[tuple[str, str, list[str]]]] = db.session.info.setdefault(_CACHE, {})
    if project_id not in cache:
        cache[project_id] = [
            (row.id, row.format, list(row.events or []))
            for row in db.session.execute(
                select(
                    NotificationSubscription.id, NotificationSubscription.format, NotificationSubscription.events
                ).where(NotificationSubscription.project_id == project_id, NotificationSubscription.enabled.is_(True))
            )
        ]
    return [Listener(sid, fmt) for sid, fmt, kinds in cache[project_id] if kind in kinds]


def forget_listening(session: Session, _transaction: Any) -> None:
    """The cache lives for one transaction (subscriptions change only in their own)."""
    session.info.pop(_CACHE, None)


def enqueue(project_id: str, task_id: str, kind: str, data: dict[str, Any], to: list[Listener]) -> None:
    """One outbox row per subscription for an event about a task (one INSERT for all)."""
    if not to:
        return
    project = db.session.get(Project, project_id)
    task = db.session.get(Task, task_id)
    if project is None or task is None:
        return
    now = utcnow()
    payload = {
        "type": kind,
        "timestamp": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data": {"project": _project_json(project), "task": _task_json(task), **data},
    }
    bodies = {
        fmt: formats.encode(formats.slack(payload) if fmt == "slack" else payload) for fmt in {s.format for s in to}
    }
    rows = [
        {
            "id": formats.new_event_id(),
            "subscription_id": listener.id,
            "type": kind,
            "body": bodies[listener.format],
            "status": PENDING,
            "tries": 0,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for listener in to
    ]
    db.session.execute(insert(NotificationEvent), rows)


def _remember_attention(project_id: str) -> None:
    """Record every live task's current attention bits (a new listener starts from now)."""
    from ppm.links.attention import bits_query

    current = {row.id: int(row.bits or 0) for row in db.session.execute(bits_query(project_id))}
    known = {
        row.task_id: row
        for row in db.session.scalars(
            select(NotificationAttention)
            .join(Task, Task.id == NotificationAttention.task_id)
            .where(Task.project_id == project_id)
        )
    }
    for task_id, bits in current.items():
        if task_id in known:
            known[task_id].bits = bits
        else:
            db.session.add(NotificationAttention(task_id=task_id, bits=bits))


_BITS_STATEMENT: dict[str, Any] = {}


def _bits_statement() -> Any:
    """One task's attention bits (links' own listing query, filtered by bound ids), built once a
    minute: building that query costs more than running it, and a task edit must stay cheap.
    (Its "stale" cut-off thus moves by at most a minute.)"""
    from ppm.links.attention import bits_query

    key = utcnow().strftime("%Y-%m-%dT%H:%M")
    statement = _BITS_STATEMENT.get(key)
    if statement is None:
        statement = bits_query(bindparam("pid")).where(Task.id == bindparam("tid"))  # type: ignore[arg-type]
        _BITS_STATEMENT.clear()
        _BITS_STATEMENT[key] = statement
    return statement


def attention_check(project_id: str, task_id: str) -> None:
    """After a write that may move a task's attention codes: compare them with the last codes
    seen and, if they differ, write `task.attention_changed` for the listening subscriptions."""
    to = listening(project_id, "task.attention_changed")
    if not to:
        return
    from ppm.links.attention import codes_of

    row = db.session.execute(_bits_statement(), {"pid": project_id, "tid": task_id}).first()
    now_bits = int(row.bits or 0) if row else 0
    seen = db.session.get(NotificationAttention, task_id)
    before = seen.bits if seen is not None else 0
    if seen is None:
        try:
            with db.session.begin_nested():  # a concurrent writer may add it first
                db.session.add(NotificationAttention(task_id=task_id, bits=now_bits))
        except IntegrityError:
            seen = db.session.get(NotificationAttention, task_id, populate_existing=True)
    if seen is not None:
        seen.bits = now_bits
    if before == now_bits:
        return
    enqueue(
        project_id,
        task_id,
        "task.attention_changed",
        {"previous": {"attention": codes_of(before)}, "current": {"attention": codes_of(now_bits)}},
        to,
    )


# --- delivery bookkeeping (the jobs' deliverer calls these) ------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One attempt to make: everything the sender needs, read in a short transaction."""

    seq: int
    event_id: str
    type: str
    subscription_id: str
    url: str
    format: str
    body: bytes
    secret: str | None = field(repr=False)

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()


@dataclass(frozen=True)
class Outcome:
    http_status: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


def due_subscriptions(limit: int = 100, session: Any = None) -> list[str]:
    """Enabled, unleased subscriptions whose oldest pending event is due now (in `session`, by
    default the app's)."""
    session = session if session is not None else db.session
    now = utcnow()
    head = (
        select(NotificationEvent.subscription_id.label("sid"), func.min(NotificationEvent.seq).label("seq"))
        .where(NotificationEvent.status == PENDING)
        .group_by(NotificationEvent.subscription_id)
        .subquery()
    )
    rows = session.scalars(
        select(NotificationEvent.subscription_id)
        .join(head, NotificationEvent.seq == head.c.seq)
        .join(NotificationSubscription, NotificationSubscription.id == NotificationEvent.subscription_id)
        .where(
            NotificationEvent.next_attempt_at <= now,
            NotificationSubscription.enabled.is_(True),
            or_(NotificationSubscription.lease_until.is_(None), NotificationSubscription.lease_until < now),
        )
        .order_by(NotificationEvent.seq)
        .limit(limit)
    ).all()
    session.commit()
    return list(rows)


def claim(subscription_id: str, owner: str) -> bool:
    """Take (or extend) the subscription's lease; False if another deliverer holds it."""
    now = utcnow()
    result = db.session.execute(
        update(NotificationSubscription)
        .where(
            NotificationSubscription.id == subscription_id,
            NotificationSubscription.enabled.is_(True),
            or_(
                NotificationSubscription.lease_until.is_(None),
                NotificationSubscription.lease_until < now,
                NotificationSubscription.lease_owner == owner,
            ),
        )
        .values(lease_owner=owner, lease_until=now + _lease())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(subscription_id: str, owner: str) -> None:
    db.session.rollback()  # whatever a failed step left open must not keep the lease
    db.session.execute(
        update(NotificationSubscription)
        .where(NotificationSubscription.id == subscription_id, NotificationSubscription.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def next_due(subscription_id: str) -> Outgoing | None:
    """The subscription's oldest pending event if it is due now (later ones wait behind it)."""
    subscription = db.session.get(NotificationSubscription, subscription_id, populate_existing=True)
    if subscription is None or not subscription.enabled:
        db.session.commit()
        return None
    head = db.session.scalar(
        select(NotificationEvent)
        .where(NotificationEvent.subscription_id == subscription_id, NotificationEvent.status == PENDING)
        .order_by(NotificationEvent.seq)
        .limit(1)
    )
    if head is None or _aware(head.next_attempt_at) > utcnow():
        db.session.commit()
        return None
    secret = crypto.decrypt(subscription.secret_ciphertext) if subscription.secret_ciphertext else None
    item = Outgoing(
        seq=head.seq,
        event_id=head.id,
        type=head.type,
        subscription_id=subscription.id,
        url=subscription.url,
        format=subscription.format,
        body=head.body.encode(),
        secret=secret,
    )
    db.session.commit()
    return item


def record(item: Outgoing, outcome: Outcome, owner: str) -> bool:
    """Log the attempt and move the event on. True when the next event may go now."""
    now = utcnow()
    event = db.session.get(NotificationEvent, item.seq, populate_existing=True)
    subscription = db.session.get(NotificationSubscription, item.subscription_id, populate_existing=True)
    if event is None or subscription is None:
        db.session.commit()
        return False
    event.attempts += 1
    db.session.add(
        NotificationAttempt(
            id=new_id(),
            subscription_id=subscription.id,
            event_id=event.id,
            type=event.type,
            attempt=event.attempts,
            at=now,
            http_status=outcome.http_status,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
    )
    subscription.last_delivery_at = now
    subscription.last_delivery_result = (
        "ok" if outcome.ok else (f"http_{outcome.http_status}" if outcome.http_status else outcome.error)
    )
    go_on = False
    if outcome.ok:
        event.status, event.delivered_at, event.tries = DELIVERED, now, 0
        subscription.failures = 0
        go_on = True
    elif outcome.http_status == 410:
        event.status = FAILED
        subscription.failures += 1
        _disable(subscription, "gone")
    else:
        event.tries += 1
        waits = retry_waits()
        if event.tries > len(waits):
            event.status = FAILED
            subscription.failures += 1
            if subscription.failures >= DISABLE_AFTER:
                _disable(subscription, "failures")
            go_on = subscription.enabled
        else:
            event.next_attempt_at = now + timedelta(seconds=waits[event.tries - 1])
    if subscription.lease_owner == owner:
        subscription.lease_until = now + _lease()
    db.session.commit()
    return go_on


def _disable(subscription: NotificationSubscription, reason: str) -> None:
    subscription.enabled = False
    subscription.disabled_reason = reason
    log.warning("notification subscription %s disabled (%s)", subscription.id, reason)


def pending_count() -> int:
    count = db.session.scalar(
        select(func.count()).select_from(NotificationEvent).where(NotificationEvent.status == PENDING)
    )
    db.session.commit()
    return int(count or 0)
