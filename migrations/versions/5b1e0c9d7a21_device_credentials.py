"""device credentials: the invite link exchanged once for a browser's credential

Revision ID: 5b1e0c9d7a21
Revises: 5e1c2a9d7b40
Create Date: 2026-12-01 11:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e0c9d7a21'
down_revision = '5e1c2a9d7b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('device_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('device', sa.String(length=10), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['test_session.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash')
    )
    with op.batch_alter_table('device_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_credential_session_id'), ['session_id'], unique=False)

    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invite_used_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.drop_column('invite_used_at')

    with op.batch_alter_table('device_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_credential_session_id'))

    op.drop_table('device_credential')
