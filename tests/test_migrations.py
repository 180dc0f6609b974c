"""The practices-and-patients migration carries a real database over (SQLite; PostgreSQL in
tests/scaleout/test_migration_data.py): see tests/support/migration_data.py."""

from tests.support.app import make_app, with_schema
from tests.support.migration_data import check_carried_over, check_the_app_works_on_it, old_database_with_real_data


def test_existing_clinicians_get_practices_and_existing_tests_become_patients_by_reference(tmp_path):
    app = with_schema(make_app(tmp_path / "old.sqlite"))
    kept = old_database_with_real_data(app, make_app(tmp_path / "fresh-old.sqlite"))
    check_carried_over(app, kept)
    check_the_app_works_on_it(app)
