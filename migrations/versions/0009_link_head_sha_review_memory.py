"""task link head SHA and review memory (SPEC §15)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:05:00

Internal to review and CI: `head_sha` (the pull or merge request's head commit; webhooks match
CI events by it) and `review_memory` (per extra call URL, its ETag and the value it gave, so the
extra calls are conditional too). Both start null; the next refresh fills them.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("task_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("head_sha", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("review_memory", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_task_links_head_sha"), ["head_sha"], unique=False)


def downgrade():
    with op.batch_alter_table("task_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_links_head_sha"))
        batch_op.drop_column("review_memory")
        batch_op.drop_column("head_sha")
