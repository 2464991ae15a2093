"""The storage conformance suite (automl_meta.testing.storage) against every backend:
in-memory, SQLite and PostgreSQL (the real server CI has; skipped, saying why, without)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from automl_meta.knowledge.storage import get_storage
from automl_meta.testing.storage import StorageConformance

from .test_scale_out import PG_URL, needs_postgres


class TestInMemory(StorageConformance):
    @pytest.fixture
    def storage(self):
        return get_storage("memory")


class TestSQLite(StorageConformance):
    shares_data = True

    @pytest.fixture
    def storage(self, tmp_path):
        return get_storage(f"sqlite:///{tmp_path / 'studies.db'}", wal=True)


@needs_postgres
class TestPostgreSQL(StorageConformance):
    shares_data = True

    @pytest.fixture
    def storage(self):
        """A fresh schema-free database of its own on the server, dropped afterwards."""
        name = f"conformance_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
        storage = get_storage(url)
        yield storage
        storage.remove_session()
        storage.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
