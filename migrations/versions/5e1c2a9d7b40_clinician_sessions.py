"""clinician sessions: server-side sign-ins (revocable, with idle and absolute lifetimes)

Revision ID: 5e1c2a9d7b40
Revises: c71cdd4efbba
Create Date: 2026-12-01 10:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e1c2a9d7b40'
down_revision = 'c71cdd4efbba'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clinician_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinician.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('clinician_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinician_session_clinician_id'), ['clinician_id'], unique=False)


def downgrade():
    with op.batch_alter_table('clinician_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinician_session_clinician_id'))
    op.drop_table('clinician_session')
