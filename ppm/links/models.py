"""Task links: a URL on a task, with the cached status or preview card of what it points to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from ppm.extensions import db
from ppm.models_base import created_column, id_column, updated_column

LIVE = text("deleted_at IS NULL")


def _kind_of_new_link(context: Any) -> str:
    """Column default: the link's kind from its provider, URL and host root."""
    from ppm.links.attention import link_kind  # the rules live with links; imported once models exist

    values = context.get_current_parameters()
    return link_kind(values.get("provider") or "", values.get("url") or "", values.get("base_url") or "")


class TaskLink(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "task_links"
    __table_args__ = (
        # The same normalized URL at most once on a task's live links (removed ones don't count).
        Index(
            "uq_task_links_task_url_live", "task_id", "url_key", unique=True, sqlite_where=LIVE, postgresql_where=LIVE
        ),
        Index("ix_task_links_project_sync", "project_id", "sync_number"),
        Index("ix_task_links_task_position", "task_id", "position"),
    )

    id: Mapped[str] = id_column()
    # Denormalised from the task: the sync delta and roll-ups filter links by project directly.
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    url_key: Mapped[str] = mapped_column(String(2048), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    # The self-hosted root the link was routed through ("" for SaaS and file hosts).
    base_url: Mapped[str] = mapped_column(String(2048), default="", nullable=False)
    title: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    custom_title: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="unknown", nullable=False)
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    refresh_error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    thumbnail_url: Mapped[str] = mapped_column(String(2048), default="", nullable=False)
    preview_type: Mapped[str] = mapped_column(String(16), default="", nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sync_number: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # SPEC §15: review and CI of a pull or merge request; null for every other kind of link.
    checks: Mapped[str | None] = mapped_column(String(24), nullable=True)
    review: Mapped[str | None] = mapped_column(String(24), nullable=True)
    # What the URL points at, for the attention codes in SQL (SPEC §16): "pull" (a pull or merge
    # request), "issue", or "" (no live status). Set from the URL on every insert, bulk ones too.
    kind: Mapped[str] = mapped_column(String(8), default=_kind_of_new_link, server_default="", nullable=False)
    # Conditional-request validators of the last good answer (SPEC §14); internal, never in JSON.
    etag: Mapped[str | None] = mapped_column(String(512), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # SPEC §15, internal: the pull or merge request's head commit (webhooks match CI events by
    # it) and, per extra call URL, its ETag and the value it gave (for conditional requests).
    head_sha: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    review_memory: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Whose credential last refreshed it successfully: the scheduled sweep uses theirs (SPEC §14).
    last_refreshed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    # The provider's `updated_at` of the object version last applied (refresh or webhook), so a
    # late webhook delivery never moves a link backwards. Internal: not in JSON.
    provider_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    # SPEC §20: who added it ("person" | "auto": a delivery naming the task's key), whether it
    # completes the task when merged, and whether a person set that (deliveries then leave it).
    source: Mapped[str] = mapped_column(String(8), default="person", server_default="person", nullable=False)
    closes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    closes_set_by_person: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)

    @property
    def display_title(self) -> str:
        return self.custom_title or self.title or self.url


class LinkRemoval(db.Model):  # type: ignore[name-defined,misc]
    """A link a person removed from a task, by the object it pointed at (SPEC §20): deliveries
    never re-create it automatically. `object` is webhooks.matching's object key as text
    (`github.com/acme/api/pull/7`)."""

    __tablename__ = "link_removals"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    object: Mapped[str] = mapped_column(String(1024), primary_key=True)
    created_at: Mapped[datetime] = created_column()
