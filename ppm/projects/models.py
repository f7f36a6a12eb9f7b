"""Projects, memberships with roles, and tasks."""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ppm.auth.models import User
from ppm.extensions import db
from ppm.models_base import created_column, id_column, updated_column


class Role(IntEnum):
    """Weakest first, so roles compare with < and >=."""

    viewer = 1
    member = 2
    admin = 3
    owner = 4


ROLE_NAMES = tuple(role.name for role in Role)


class Project(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "projects"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # SPEC §20: upper-case, unique; every key it ever had is also in project_keys. Always set
    # (ppm.projects.numbering); nullable in the schema only so SQLite adds it without rebuilding
    # the table (a rebuild would cascade-delete every task).
    key: Mapped[str] = mapped_column(String(10), nullable=True, unique=True, index=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # The last sync number handed out in this project (SPEC §9).
    sync_counter: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # The last task number handed out in this project (SPEC §20: numbers are never reused).
    task_counter: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True
    )


class ProjectKey(db.Model):  # type: ignore[name-defined,misc]
    """Every key a project has had, its current one included (SPEC §20): the primary key makes a
    key unique across current and former keys, and a former key keeps resolving to its project."""

    __tablename__ = "project_keys"

    key: Mapped[str] = mapped_column(String(10), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[datetime] = created_column()


class Membership(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("project_id", "user_id"),
        CheckConstraint("role IN ('viewer', 'member', 'admin', 'owner')", name="role_known"),
    )

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = created_column()

    project: Mapped[Project] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()

    @property
    def rank(self) -> Role:
        return Role[self.role]


task_assignees = Table(
    "task_assignees",
    db.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


TASK_STATES = ("todo", "in_progress", "done")
STATE_SOURCES = ("person", "automation")


class Task(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("finish_date >= start_date", name="finish_after_start"),
        Index("ix_tasks_project_sync", "project_id", "sync_number"),
        Index("ix_tasks_project_parent", "project_id", "parent_id", "position"),
        Index("uq_tasks_project_number", "project_id", "number", unique=True),
    )

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    finish_date: Mapped[date] = mapped_column(Date, nullable=False)
    is_milestone: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Kept in step with the children, so listing tasks never needs a sub-query for it.
    is_summary: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sync_number: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # SPEC §20: 1, 2, 3, … per project in creation order, never reused (drawn from
    # Project.task_counter when the task is first flushed: ppm.projects.numbering). Nullable in
    # the schema only, like Project.key.
    number: Mapped[int] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()
    # SPEC §21. A summary task's state is derived from its leaves and kept in step by the roll-up
    # (like its dates), so listings read it as a column. Set only by projects.services.set_task_state.
    state: Mapped[str] = mapped_column(String(16), default="todo", server_default="todo", nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    state_source: Mapped[str] = mapped_column(String(16), default="person", server_default="person", nullable=False)
    # What an automation acted on (the link's display title or address), for the drawer's
    # "set automatically when … was merged"; "" when a person set the state. Not in JSON.
    state_cause: Mapped[str] = mapped_column(Text, default="", server_default="", nullable=False)

    project: Mapped[Project] = relationship()
    assignees: Mapped[list[User]] = relationship(secondary=task_assignees, lazy="selectin", order_by=User.name)

    @property
    def key(self) -> str:
        """`{PROJECT KEY}-{number}` with the project's current key (`WEB-12`)."""
        return f"{self.project.key}-{self.number}"
