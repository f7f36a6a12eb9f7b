"""One Alembic chain creates the whole schema, and the models agree with it (autogenerate finds
nothing), on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from ppm import create_app
from ppm.extensions import db
from tests.conftest import TEST_KEY
from tests.support.settings import TEST_DATABASE_URL


def _fresh_app(tmp_path: Path) -> Any:
    uri = TEST_DATABASE_URL or f"sqlite:///{tmp_path}/migrations.sqlite3"
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "s",
            "TESTING": True,
            "INTEGRATION_ENCRYPTION_KEY": TEST_KEY,
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )


def _empty_database() -> None:
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_migrations_build_the_schema_the_models_describe(tmp_path: Path) -> None:
    app = _fresh_app(tmp_path)
    with app.app_context():
        _empty_database()
        try:
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {
                "users",
                "api_tokens",
                "projects",
                "memberships",
                "tasks",
                "task_assignees",
                "credentials",
            } <= tables
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                differences = compare_metadata(context, db.metadata)
            assert differences == []
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        finally:
            _empty_database()
            db.create_all()  # leave the shared PostgreSQL schema as the other tests expect
            db.engine.dispose()
