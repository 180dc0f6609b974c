"""distance guard: the webcam distance guard's numbers on the test session

Revision ID: 9d4e2b7c1f30
Revises: 8c3f6a1d2e57
Create Date: 2026-12-01 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d4e2b7c1f30'
down_revision = '8c3f6a1d2e57'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('distance_guard', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.drop_column('distance_guard')
