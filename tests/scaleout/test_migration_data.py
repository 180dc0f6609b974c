"""The practices-and-patients migration carries a real database over on PostgreSQL (as
tests/test_migrations.py on SQLite): see tests/support/migration_data.py."""

import pytest

from tests.support.app import TEST_CONFIG
from tests.support.migration_data import check_carried_over, check_the_app_works_on_it, old_database_with_real_data

pytestmark = pytest.mark.scaleout


def test_existing_clinicians_get_practices_and_tests_become_patients_on_postgresql(cluster):
    from webapp import create_app
    from webapp.extensions import db

    def app_on(url):
        return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})

    app = app_on(cluster.postgres.create_database("migration_data"))
    fresh = app_on(cluster.postgres.create_database("migration_fresh"))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    try:
        kept = old_database_with_real_data(app, fresh)
        check_carried_over(app, kept)
        check_the_app_works_on_it(app)
    finally:
        for each in (app, fresh):
            with each.app_context():
                db.session.remove()
                db.engine.dispose()
