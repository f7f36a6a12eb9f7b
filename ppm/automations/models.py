"""Per-project automation switches (SPEC §21): one row per project that changed them; a project
without a row has both off."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ppm.extensions import db
from ppm.models_base import updated_column


class ProjectAutomations(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "project_automations"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    start_on_open: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    done_on_merge: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    updated_at: Mapped[datetime] = updated_column()
