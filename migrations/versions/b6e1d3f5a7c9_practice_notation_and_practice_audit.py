"""practice notation and practice-level audit entries: each practice's notation (None: the server's
VISUS_NOTATION), and audit entries that name no session (invites, joins, renames, removals)

Revision ID: b6e1d3f5a7c9
Revises: a7e3c1d9b2f4
Create Date: 2026-12-01 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6e1d3f5a7c9'
down_revision = 'a7e3c1d9b2f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notation', sa.String(length=10), nullable=True))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.alter_column('session_public_id', existing_type=sa.String(length=32), nullable=True)


def downgrade():
    # Practice-level entries have no session to name: kept under an empty session id.
    op.execute("UPDATE audit_entry SET session_public_id = '' WHERE session_public_id IS NULL")
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.alter_column('session_public_id', existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_column('notation')
