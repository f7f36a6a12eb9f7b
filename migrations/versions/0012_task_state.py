"""task state and git automation switches (SPEC §21)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:30:00

Every task gains `state` (todo | in_progress | done; existing tasks start todo), `done_at`,
`state_source` (person | automation) and `state_cause` (internal: what an automation acted on).
`project_automations` holds each project's switches; a project without a row has both off.
Columns only, no CHECK constraints: on SQLite a constraint would rebuild `tasks`, and dropping
the old table with foreign keys on would cascade-delete every link and assignment.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="todo", nullable=False))
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("state_source", sa.String(length=16), server_default="person", nullable=False))
        batch_op.add_column(sa.Column("state_cause", sa.Text(), server_default="", nullable=False))
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
        batch_op.drop_column("state_cause")
        batch_op.drop_column("state_source")
        batch_op.drop_column("done_at")
        batch_op.drop_column("state")
