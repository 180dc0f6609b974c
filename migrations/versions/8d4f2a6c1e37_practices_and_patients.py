"""practices and patients: each clinician in a practice, each test for a patient of the practice

Existing data is carried over: every existing clinician gets a practice of their own (its admin),
every distinct patient reference of a clinician's tests becomes one patient of that practice (the
reference trimmed, as the new-test form stores it), and every audit entry is marked with the
practice of the clinician who owned its session.

Revision ID: 8d4f2a6c1e37
Revises: 9d4e2b7c1f30
Create Date: 2026-12-01 14:10:00.000000

"""
import secrets
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d4f2a6c1e37'
down_revision = '9d4e2b7c1f30'
branch_labels = None
depends_on = None


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def upgrade():
    op.create_table('practice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('practice_id', 'reference', name='uq_patient_practice_reference'),
    sa.UniqueConstraint('public_id')
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_practice_id'), ['practice_id'], unique=False)

    op.create_table('practice_invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['clinician.id'], ),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('practice_invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_invite_practice_id'), ['practice_id'], unique=False)

    # Nullable first: the rows are filled in below, then the columns are made NOT NULL.
    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.add_column(sa.Column('practice_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('is_practice_admin', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('practice_id', sa.Integer(), nullable=True))

    _carry_over(op.get_bind())

    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.alter_column('practice_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('is_practice_admin', existing_type=sa.Boolean(), server_default=None)
        batch_op.create_index(batch_op.f('ix_clinician_practice_id'), ['practice_id'], unique=False)
        batch_op.create_foreign_key('fk_clinician_practice_id', 'practice', ['practice_id'], ['id'])
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.alter_column('patient_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_test_session_patient_id'), ['patient_id'], unique=False)
        batch_op.create_foreign_key('fk_test_session_patient_id', 'patient', ['patient_id'], ['id'])
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_practice_id'), ['practice_id'], unique=False)
        batch_op.create_foreign_key('fk_audit_entry_practice_id', 'practice', ['practice_id'], ['id'])


def _carry_over(connection):
    """Existing clinicians, tests and audit entries into practices and patients (plain SQL, so the
    migration does not depend on today's models)."""
    clinician = sa.table('clinician', sa.column('id'), sa.column('email'), sa.column('practice_id'),
                         sa.column('is_practice_admin'))
    practice = sa.table('practice', sa.column('id'), sa.column('name'), sa.column('created_at'))
    patient = sa.table('patient', sa.column('id'), sa.column('public_id'), sa.column('practice_id'),
                       sa.column('reference'), sa.column('created_at'))
    session = sa.table('test_session', sa.column('id'), sa.column('clinician_id'), sa.column('patient_reference'),
                       sa.column('patient_id'), sa.column('created_at'))
    audit = sa.table('audit_entry', sa.column('owner_id'), sa.column('practice_id'))

    practice_of = {}
    for clinician_id, email in connection.execute(sa.select(clinician.c.id, clinician.c.email).order_by(clinician.c.id)):
        practice_id = connection.execute(
            practice.insert().values(name=f"Practice of {email}"[:120], created_at=_now()).returning(practice.c.id)
        ).scalar_one()
        practice_of[clinician_id] = practice_id
        connection.execute(
            clinician.update().where(clinician.c.id == clinician_id).values(practice_id=practice_id, is_practice_admin=True)
        )
        connection.execute(audit.update().where(audit.c.owner_id == clinician_id).values(practice_id=practice_id))

    rows = connection.execute(
        sa.select(session.c.id, session.c.clinician_id, session.c.patient_reference, session.c.created_at)
        .order_by(session.c.created_at, session.c.id)
    ).all()
    key_of = {}  # session id -> (practice id, reference)
    first_seen = {}  # (practice id, reference) -> when its first test was made
    for session_id, clinician_id, reference, created_at in rows:
        key = (practice_of[clinician_id], (reference or "").strip()[:120] or "(no reference)")
        key_of[session_id] = key
        first_seen.setdefault(key, created_at or _now())
    if not rows:
        return
    # A statement for all the patients and one for all the tests (many rows each), not one per row.
    connection.execute(
        patient.insert(),
        [
            {"public_id": secrets.token_urlsafe(9), "practice_id": key[0], "reference": key[1], "created_at": at}
            for key, at in first_seen.items()
        ],
    )
    patient_of = {
        (practice_id, reference): patient_id
        for patient_id, practice_id, reference in connection.execute(
            sa.select(patient.c.id, patient.c.practice_id, patient.c.reference)
        )
    }
    connection.execute(
        session.update().where(session.c.id == sa.bindparam("session_id")).values(patient_id=sa.bindparam("patient")),
        [{"session_id": session_id, "patient": patient_of[key]} for session_id, key in key_of.items()],
    )


def downgrade():
    # Patients' names, years of birth and e-mail addresses, practices' names and colleague invites
    # are dropped; every test keeps its patient reference and its clinician.
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint('fk_audit_entry_practice_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_entry_practice_id'))
        batch_op.drop_column('practice_id')
    with op.batch_alter_table('test_session', schema=None) as batch_op:
        batch_op.drop_constraint('fk_test_session_patient_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_test_session_patient_id'))
        batch_op.drop_column('patient_id')
    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.drop_constraint('fk_clinician_practice_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_clinician_practice_id'))
        batch_op.drop_column('is_practice_admin')
        batch_op.drop_column('practice_id')

    with op.batch_alter_table('practice_invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_invite_practice_id'))
    op.drop_table('practice_invite')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_practice_id'))
    op.drop_table('patient')
    op.drop_table('practice')
