"""contact line: how the patient reaches the practice, shown on the welcome step

Revision ID: 8c3f6a1d2e57
Revises: 9d3f6a1c2b57
Create Date: 2026-12-01 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c3f6a1d2e57'
down_revision = '9d3f6a1c2b57'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_line', sa.String(length=160), nullable=True))


def downgrade():
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.drop_column('contact_line')
