"""Webhook receivers (SPEC §13): management for project admins, and the handling of deliveries.

A secret leaves this module only inside `Revealed` (create and rotate); nothing here logs a
body, a signature or a secret. A delivery never calls out: it only writes cached link state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ppm import crypto
from ppm.auth.models import User
from ppm.errors import NotFound, ValidationCollector
from ppm.extensions import db
from ppm.jobs import queue as job_queue
from ppm.jobs.services import queue_background_refresh
from ppm.links.pushed import apply_pushed_state
from ppm.links.pushed import matching_link_ids as pushed_targets
from ppm.models_base import utcnow
from ppm.projects import services as projects
from ppm.projects.models import Role
from ppm.webhooks.events import EVENTS, Apply, BadPayload, Later, Ping
from ppm.webhooks.matching import ADDRESS_MAX, address_too_long, link_matcher, object_number
from ppm.webhooks.models import PROVIDERS, WebhookDelivery, WebhookReceiver
from ppm.webhooks.queued import matching_link_ids
from ppm.webhooks.review_events import Refresh

log = logging.getLogger("ppm.webhooks")

SECRET_BYTES = 32  # 256 bits of entropy, URL-safe text (GitLab's token field takes it as is)
DELIVERY_RETENTION = timedelta(days=7)
PROVIDER_LABELS = {"github": "GitHub", "gitlab": "GitLab"}


@dataclass(frozen=True)
class Revealed:
    """A receiver with its secret in plain text: only the create and rotate answers carry it."""

    receiver: WebhookReceiver
    secret: str = field(repr=False)


# --- management (admin and above) ------------------------------------------------------


def list_receivers(actor: User, project_id: str, need: Role = Role.admin) -> list[WebhookReceiver]:
    access = projects.load_project(actor, project_id, need)
    return list(
        db.session.scalars(
            select(WebhookReceiver)
            .where(WebhookReceiver.project_id == access.project.id)
            .order_by(WebhookReceiver.created_at, WebhookReceiver.id)
        )
    )


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return secret, crypto.encrypt(secret)


def create_receiver(actor: User, project_id: str, data: Any) -> Revealed:
    access = projects.load_project(actor, project_id, Role.admin, write=True)
    data = projects.require_mapping(data)
    provider = data.get("provider")
    if provider not in PROVIDERS:
        errors = ValidationCollector()
        errors.add("provider", "Choose GitHub or GitLab.")
        errors.raise_if_any()
    secret, ciphertext = _new_secret()
    receiver = WebhookReceiver(
        project_id=access.project.id, provider=str(provider), secret_ciphertext=ciphertext, created_by_id=actor.id
    )
    db.session.add(receiver)
    db.session.commit()
    log.info("webhook receiver %s (%s) created on project %s", receiver.id, provider, access.project.id)
    return Revealed(receiver, secret)


def _receiver(actor: User, project_id: str, receiver_id: str, *, write: bool) -> WebhookReceiver:
    access = projects.load_project(actor, project_id, Role.admin, write=write)
    receiver = db.session.scalar(
        select(WebhookReceiver).where(
            WebhookReceiver.id == projects.safe_id(receiver_id), WebhookReceiver.project_id == access.project.id
        )
    )
    if receiver is None:
        raise NotFound("Webhook not found.")
    return receiver


def get_receiver(actor: User, project_id: str, receiver_id: str, *, write: bool = False) -> WebhookReceiver:
    return _receiver(actor, project_id, receiver_id, write=write)


def rotate_secret(actor: User, project_id: str, receiver_id: str) -> Revealed:
    """A new secret; the old one stops working at once."""
    receiver = _receiver(actor, project_id, receiver_id, write=True)
    secret, receiver.secret_ciphertext = _new_secret()
    db.session.commit()
    log.info("webhook receiver %s secret rotated", receiver.id)
    return Revealed(receiver, secret)


def delete_receiver(actor: User, project_id: str, receiver_id: str) -> None:
    receiver = _receiver(actor, project_id, receiver_id, write=True)
    db.session.delete(receiver)
    db.session.commit()
    log.info("webhook receiver %s deleted", receiver_id)


def reencrypt_all() -> tuple[int, int]:
    """Every receiver secret under the first key: returns (re-encrypted, unreadable)."""

    def rewrite(receiver: WebhookReceiver) -> None:
        receiver.secret_ciphertext = crypto.reencrypt(receiver.secret_ciphertext)

    receivers = db.session.scalars(select(WebhookReceiver).order_by(WebhookReceiver.id))
    counts = crypto.reencrypt_each(receivers, rewrite, lambda receiver: f"webhook receiver {receiver.id} secret")
    db.session.commit()
    return counts


# --- delivery --------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One POST as received: the raw body and the headers that matter."""

    body: bytes = field(repr=False)
    content_type: str
    signature: str = field(repr=False)  # X-Hub-Signature-256, or GitLab's X-Gitlab-Token
    event: str
    delivery_id: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def _refusal(status: int, code: str, detail: str) -> Answer:
    return Answer(status, {"detail": detail, "code": code})


def receiver_for_delivery(provider: str, receiver_id: str) -> WebhookReceiver | None:
    """The receiver a payload URL names; a receiver of the other provider is as unknown as a
    deleted one. Detached from the session: its values stay readable after the delivery's
    commits even if the receiver is deleted meanwhile (SPEC §27: 404 or the normal answer)."""
    receiver = db.session.scalar(
        select(WebhookReceiver).where(
            WebhookReceiver.id == projects.safe_id(receiver_id), WebhookReceiver.provider == provider
        )
    )
    if receiver is not None:
        db.session.expunge(receiver)
    return receiver


UNSIGNED_RECORD_EVERY = timedelta(minutes=1)


def _recorded_lately(receiver: WebhookReceiver, result: str) -> bool:
    """A refusal of an unsigned post already on the receiver within the last minute: a flood of
    them writes to the database once a minute, not once a post (SPEC §27)."""
    last = receiver.last_delivery_at
    if result != "bad_signature" or receiver.last_delivery_result != result or last is None:
        return False
    return (last if last.tzinfo else last.replace(tzinfo=UTC)) > utcnow() - UNSIGNED_RECORD_EVERY


def _finish(receiver: WebhookReceiver, result: str, answer: Answer) -> Answer:
    """Every outcome is remembered on the receiver (never the body); 2xx ones are counted."""
    if _recorded_lately(receiver, result):
        db.session.rollback()
        log.info("webhook delivery to %s: %s (%s), recorded less than a minute ago", receiver.id, result, answer.status)
        return answer
    accepted = 200 <= answer.status < 300
    db.session.execute(
        update(WebhookReceiver)
        .where(WebhookReceiver.id == receiver.id)
        .values(
            last_delivery_at=utcnow(),
            last_delivery_result=result,
            deliveries=WebhookReceiver.deliveries + (1 if accepted else 0),
        )
    )
    db.session.commit()
    log.info("webhook delivery to %s: %s (%s)", receiver.id, result, answer.status)
    return answer


def refuse_too_large(receiver: WebhookReceiver, limit: int) -> Answer:
    return _finish(receiver, "too_large", _refusal(413, "too_large", f"The body is larger than {limit // 2**20} MiB."))


def authentic(receiver: WebhookReceiver, delivery: Delivery) -> bool:
    try:
        secret = crypto.decrypt(receiver.secret_ciphertext)
    except crypto.UnreadableSecret:
        log.warning("webhook receiver %s: its secret can no longer be read; rotate it", receiver.id)
        return False
    if receiver.provider == "github":
        expected = "sha256=" + hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    else:
        expected = secret
    given = delivery.signature.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(expected.encode(), given)


def _payload(receiver: WebhookReceiver, delivery: Delivery) -> dict[str, Any]:
    """The JSON object of the body: raw JSON, or GitHub's form with one `payload` field."""
    raw: str | bytes = delivery.body
    media = delivery.content_type.split(";", 1)[0].strip().lower()
    try:
        if receiver.provider == "github" and media == "application/x-www-form-urlencoded":
            fields = parse_qs(delivery.body.decode("utf-8"), strict_parsing=True, max_num_fields=20)
            values = fields.get("payload") or []
            if len(values) != 1:
                raise BadPayload("A form-encoded delivery needs exactly one “payload” field.")
            raw = values[0]
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadPayload("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadPayload("The body must be a JSON object.")
    return data


def _delivery_key(delivery_id: str) -> str:
    return hashlib.sha256(delivery_id.encode("utf-8", "surrogateescape")).hexdigest() if delivery_id else ""


def _seen(receiver_id: str, key: str) -> bool:
    return (
        db.session.scalar(
            select(WebhookDelivery.id).where(
                WebhookDelivery.receiver_id == receiver_id, WebhookDelivery.delivery_key == key
            )
        )
        is not None
    )


def _remember(receiver_id: str, key: str) -> None:
    """Keeps the id at least DELIVERY_RETENTION; older ids of this receiver go at the same time
    (one indexed DELETE, so the table never grows past a week of deliveries)."""
    if not key:
        return
    now = utcnow()
    db.session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.receiver_id == receiver_id, WebhookDelivery.received_at < now - DELIVERY_RETENTION
        )
    )
    db.session.add(WebhookDelivery(receiver_id=receiver_id, delivery_key=key, received_at=now))


def _event_name(raw: str) -> str:
    """The event name as echoed back: printable, short."""
    return "".join(ch for ch in raw if ch.isprintable())[:100]


def _addresses(outcome: Any) -> tuple[str, ...]:
    if isinstance(outcome, Apply):
        return (outcome.url,)
    return outcome.urls if isinstance(outcome, Refresh) else ()


def deliver(receiver: WebhookReceiver, delivery: Delivery) -> Answer:
    """Authenticate, read and apply one delivery. Refusals change nothing but the receiver's
    last outcome; nothing here calls out. Everything that depends on the body's size (parsing
    it, reading and matching its addresses) happens before the project lock (SPEC §27)."""
    if not authentic(receiver, delivery):
        return _finish(
            receiver, "bad_signature", _refusal(401, "bad_signature", "The signature does not match this webhook.")
        )
    event = _event_name(delivery.event)
    try:
        payload = _payload(receiver, delivery)
        reader = EVENTS[receiver.provider].get(event)
        outcome = reader(payload) if reader else Later()
        if any(address_too_long(url) for url in _addresses(outcome)):
            raise BadPayload(f"The payload names an address longer than {ADDRESS_MAX} bytes.")
    except BadPayload as error:
        return _finish(receiver, "bad_payload", _refusal(400, "bad_payload", error.detail))
    if projects.is_archived(receiver.project_id):
        return _finish(receiver, "archived", Answer(202, {"ignored": "archived"}))
    if isinstance(outcome, Later):
        return _finish(receiver, "ignored", Answer(202, {"ignored": event}))
    if isinstance(outcome, Refresh):
        return _queue_refreshes(receiver, outcome, _delivery_key(delivery.delivery_id))
    return _apply(receiver, outcome, _delivery_key(delivery.delivery_id))


def _queue_refreshes(receiver: WebhookReceiver, outcome: Refresh, key: str) -> Answer:
    """SPEC §15: queue refreshes of the matching links (the sweep's credential rule applies in
    the worker). Without a queue, or when Redis cannot take the jobs, the delivery id is not
    remembered, so a redelivery is handled once the queue is back."""
    if not job_queue.configured():
        return _finish(receiver, "no_queue", Answer(202, {"ignored": "no_queue"}))
    if key and _seen(receiver.id, key):
        return _finish(receiver, "duplicate", Answer(200, {"duplicate": True}))
    link_ids = matching_link_ids(receiver.project_id, receiver.provider, outcome)
    if link_ids:
        try:
            queue_background_refresh(link_ids)
        except job_queue.QueueUnavailable as error:
            log.warning("webhook delivery to %s: the job queue is unreachable: %s", receiver.id, error)
            db.session.rollback()
            detail = "ppm cannot reach its job queue right now; deliver this event again later."
            return _finish(receiver, "queue_unavailable", _refusal(503, "queue_unavailable", detail))
    _remember(receiver.id, key)
    return _accept(receiver, "ok", Answer(200, {"queued": len(link_ids)}))


def _accept(receiver: WebhookReceiver, result: str, answer: Answer) -> Answer:
    try:
        return _finish(receiver, result, answer)
    except IntegrityError:
        db.session.rollback()
        if not _receiver_exists(receiver.id):  # deleted while this delivery was handled
            return _refusal(404, "not_found", "There is no webhook at this address.")
        # the same delivery id, accepted a moment ago by a racing request
        return _finish(receiver, "duplicate", Answer(200, {"duplicate": True}))


def _receiver_exists(receiver_id: str) -> bool:
    return db.session.scalar(select(WebhookReceiver.id).where(WebhookReceiver.id == receiver_id)) is not None


def _apply(receiver: WebhookReceiver, outcome: Apply | Ping | None, key: str) -> Answer:
    link_ids: list[str] = []
    if isinstance(outcome, Apply):
        number = object_number(receiver.provider, outcome.url)
        if number is not None:
            link_ids = pushed_targets(
                receiver.project_id, receiver.provider, number, link_matcher(receiver.provider, outcome.url)
            )
    db.session.commit()  # the reads end here; what follows is a few writes under the lock
    projects.lock_sequence(receiver.project_id)  # like every writer: the project row first
    if projects.is_archived(receiver.project_id):
        return _finish(receiver, "archived", Answer(202, {"ignored": "archived"}))
    if key and _seen(receiver.id, key):
        return _finish(receiver, "duplicate", Answer(200, {"duplicate": True}))
    matched = apply_pushed_state(receiver.project_id, link_ids, outcome.state) if isinstance(outcome, Apply) else 0
    _remember(receiver.id, key)
    answer = Answer(200, {"ping": True} if isinstance(outcome, Ping) else {"matched": matched})
    return _accept(receiver, "ping" if isinstance(outcome, Ping) else "ok", answer)
