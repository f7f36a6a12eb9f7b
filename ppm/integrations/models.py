"""A user's connected account: one encrypted personal access token per (user, provider)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from ppm.extensions import db
from ppm.models_base import created_column, id_column, updated_column


class Credential(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "credentials"
    # One row per (user, provider), enforced by the database so racing connects cannot duplicate.
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    ciphertext: Mapped[str] = mapped_column(Text, nullable=False)
    base_url: Mapped[str] = mapped_column(String(2048), default="", nullable=False)
    account_login: Mapped[str | None] = mapped_column(String(255), nullable=True)
    scopes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The owner's consent to use this token without them pressing a button (SPEC §14).
    background_refresh: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)

    def __repr__(self) -> str:  # never the ciphertext
        return f"<Credential {self.provider} of {self.user_id}>"
