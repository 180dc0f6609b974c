"""invite links shown again (derived token nonce), the clinician's time zone and invite message

Revision ID: 9d3f6a1c2b57
Revises: 5b1e0c9d7a21
Create Date: 2026-12-01 14:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d3f6a1c2b57'
down_revision = '5b1e0c9d7a21'
branch_labels = None
depends_on = None


def upgrade():
    # Existing sessions keep their random invite token (nonce None): their link cannot be shown
    # again, only re-issued.
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invite_nonce', sa.String(length=64), nullable=True))
    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('invite_message', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.drop_column('invite_message')
        batch_op.drop_column('time_zone')
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.drop_column('invite_nonce')
