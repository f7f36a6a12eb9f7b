"""task state and git automation switches (SPEC §21)

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-08 00:30:00

Every task gains `state` (todo | in_progress | done; existing tasks start todo), `done_at`,
`state_source` (person | automation) and `state_cause` (internal: what an automation acted on).
`project_automations` holds each project's switches; a project without a row has both off.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="todo", nullable=False))
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("state_source", sa.String(length=16), server_default="person", nullable=False))
        batch_op.add_column(sa.Column("state_cause", sa.Text(), server_default="", nullable=False))
        batch_op.create_check_constraint(
            batch_op.f("ck_tasks_state_known"), "state IN ('todo', 'in_progress', 'done')"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_tasks_state_source_known"), "state_source IN ('person', 'automation')"
        )
    op.create_table(
        "project_automations",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("start_on_open", sa.Boolean(), nullable=False),
        sa.Column("done_on_merge", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_automations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_automations")),
    )


def downgrade():
    op.drop_table("project_automations")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_tasks_state_source_known"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_tasks_state_known"), type_="check")
        batch_op.drop_column("state_cause")
        batch_op.drop_column("state_source")
        batch_op.drop_column("done_at")
        batch_op.drop_column("state")
