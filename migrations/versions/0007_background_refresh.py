"""background refresh: credential consent, conditional-request validators, last refresher

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-02 07:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('background_refresh', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('task_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('etag', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('last_modified', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('last_refreshed_by_id', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_task_links_last_refreshed_by_id_users'), 'users', ['last_refreshed_by_id'], ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('task_links', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_task_links_last_refreshed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('last_refreshed_by_id')
        batch_op.drop_column('last_modified')
        batch_op.drop_column('etag')

    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_column('background_refresh')
