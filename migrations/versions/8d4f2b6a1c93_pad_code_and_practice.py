"""pad pairing code and the practice letter: a short code the phone types at /pad, the practice
letter the server chose

Revision ID: 8d4f2b6a1c93
Revises: 8d4f2a6c1e37
Create Date: 2026-12-01 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d4f2b6a1c93'
down_revision = '8d4f2a6c1e37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pad_code_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('pad_code_expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('practice', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_test_session_pad_code_hash'), ['pad_code_hash'], unique=False)


def downgrade():
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_test_session_pad_code_hash'))
        batch_op.drop_column('practice')
        batch_op.drop_column('pad_code_expires_at')
        batch_op.drop_column('pad_code_hash')
