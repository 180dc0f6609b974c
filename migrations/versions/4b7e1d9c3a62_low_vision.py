"""low vision: an eye's moves closer, the distance it is asked to move to, its category below the chart

Revision ID: 4b7e1d9c3a62
Revises: b6e1d3f5a7c9
Create Date: 2026-12-01 19:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b7e1d9c3a62'
down_revision = 'b6e1d3f5a7c9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('eye_test', schema=None) as batch_op:
        batch_op.add_column(sa.Column('distance_steps', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('move_to_mm', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('category', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('eye_test', schema=None) as batch_op:
        batch_op.drop_column('category')
        batch_op.drop_column('move_to_mm')
        batch_op.drop_column('distance_steps')
