"""task link source branch (SPEC §26)

Revision ID: 0010b_fidelity
Revises: 0009
Create Date: 2026-12-08 00:40:00

Internal to review and CI: `source_branch` of a merge request (from its webhook deliveries and
refreshes), so a GitLab branch pipeline whose commit no link knows yet still finds its links by
`object_attributes.ref`. Starts null; the next delivery or refresh fills it.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010b_fidelity"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_branch", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("task_links", schema=None) as batch_op:
        batch_op.drop_column("source_branch")
