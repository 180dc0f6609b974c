"""patient language: the language of the patient's pages, pad and e-mails

Revision ID: a7e3c1d9b2f4
Revises: 8d4f2b6a1c93
Create Date: 2026-12-01 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7e3c1d9b2f4'
down_revision = '8d4f2b6a1c93'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))


def downgrade():
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.drop_column('language')
