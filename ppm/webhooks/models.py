"""Webhook receivers (SPEC §13): a project's endpoint for one provider, with an encrypted secret,
and the delivery ids it has accepted (so a redelivery changes nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ppm.extensions import db
from ppm.models_base import created_column, id_column

PROVIDERS = ("github", "gitlab", "gitea")


class WebhookReceiver(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "webhook_receivers"

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    # Fernet ciphertext under the credential keys: HMAC needs the plaintext, so no hash.
    secret_ciphertext: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = created_column()
    last_delivery_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_delivery_result: Mapped[str | None] = mapped_column(String(32), nullable=True)
    deliveries: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    def __repr__(self) -> str:  # never the ciphertext
        return f"<WebhookReceiver {self.provider} {self.id}>"


class WebhookDelivery(db.Model):  # type: ignore[name-defined,misc]
    """A delivery id this receiver accepted. The id is stored as its SHA-256 (fixed length, any
    characters a sender puts in the header); rows older than the retention are pruned."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("receiver_id", "delivery_key"),
        Index("ix_webhook_deliveries_receiver_received", "receiver_id", "received_at"),
    )

    id: Mapped[str] = id_column()
    receiver_id: Mapped[str] = mapped_column(ForeignKey("webhook_receivers.id", ondelete="CASCADE"), nullable=False)
    delivery_key: Mapped[str] = mapped_column(String(64), nullable=False)
    received_at: Mapped[datetime] = created_column()
