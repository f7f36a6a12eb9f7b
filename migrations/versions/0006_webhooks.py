"""webhook receivers, delivery ids, and the provider time a link last applied

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_receivers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('project_id', sa.String(length=32), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('secret_ciphertext', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_delivery_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_delivery_result', sa.String(length=32), nullable=True),
    sa.Column('deliveries', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_webhook_receivers_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_webhook_receivers_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_receivers'))
    )
    with op.batch_alter_table('webhook_receivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_receivers_project_id'), ['project_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('receiver_id', sa.String(length=32), nullable=False),
    sa.Column('delivery_key', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['receiver_id'], ['webhook_receivers.id'], name=op.f('fk_webhook_deliveries_receiver_id_webhook_receivers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('receiver_id', 'delivery_key', name=op.f('uq_webhook_deliveries_receiver_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_receiver_received', ['receiver_id', 'received_at'], unique=False)

    with op.batch_alter_table('task_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_updated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('task_links', schema=None) as batch_op:
        batch_op.drop_column('provider_updated_at')

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_receiver_received')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('webhook_receivers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_receivers_project_id'))

    op.drop_table('webhook_receivers')
