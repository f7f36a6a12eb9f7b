"""Notifications out (SPEC §25): a project's subscriptions, the outbox (one row per event and
subscription, written in the transaction of the change), each delivery attempt, and the last
attention codes announced per task (so a change of codes can be told from no change)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ppm.extensions import db
from ppm.models_base import created_column, id_column

EVENT_TYPES = ("link.status_changed", "task.attention_changed", "task.state_changed")
FORMATS = ("standard", "slack")
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


class NotificationSubscription(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "notification_subscriptions"

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    events: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    # Fernet ciphertext (standard format only): signing needs the plaintext, so no hash.
    secret_ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # failed events in a row
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = created_column()
    last_delivery_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_delivery_result: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # One deliverer at a time per subscription (order kept): who holds it and until when.
    lease_owner: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    def __repr__(self) -> str:  # never the URL (a Slack address is a secret) or the ciphertext
        return f"<NotificationSubscription {self.format} {self.id}>"


class NotificationEvent(db.Model):  # type: ignore[name-defined,misc]
    """The outbox: one event for one subscription. `seq` orders a subscription's events; `id`
    is the `webhook-id`, the same on every attempt; `body` is the exact bytes sent each time."""

    __tablename__ = "notification_events"
    __table_args__ = (
        Index("ix_notification_events_subscription_status", "subscription_id", "status", "seq"),
        Index("ix_notification_events_status_due", "status", "next_attempt_at"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("notification_subscriptions.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING)
    tries: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # failed tries this round
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # all attempts, ever
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_column()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NotificationAttempt(db.Model):  # type: ignore[name-defined,misc]
    """One try at sending an event: when, the HTTP status or an error code, how long. Never the
    secret, the signature or the body."""

    __tablename__ = "notification_attempts"
    __table_args__ = (Index("ix_notification_attempts_subscription_at", "subscription_id", "at"),)

    id: Mapped[str] = id_column()
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("notification_subscriptions.id", ondelete="CASCADE"), nullable=False
    )
    event_id: Mapped[str] = mapped_column(
        ForeignKey("notification_events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = created_column()
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(40), nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class NotificationAttention(db.Model):  # type: ignore[name-defined,misc]
    """A task's attention codes as last seen by notifications (bits, ppm.links.attention)."""

    __tablename__ = "notification_attention"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    bits: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
