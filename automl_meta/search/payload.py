"""The search's data, kept in the study database so that any worker can join the search.

A worker on another machine knows only the storage URL and the study name. The cleaned
data, folds and column plan it evaluates trials on (:class:`EvaluationData`) are stored
once per study, compressed, in a table of our own (``automl_meta_payloads``) beside
Optuna's tables in the same database, keyed by the study's ``uid``: study listings (the
knowledge base reads every study's attributes) never load it.

The payload is a pickle: anyone who can write the study database can make a worker run
code, exactly as with the database's other contents. Share a study database only with
people you would let run code on your workers.
"""

from __future__ import annotations

import pickle
import zlib
from typing import Any

from optuna.storages import BaseStorage, RDBStorage

from ..exceptions import StorageError
from .evaluation import EvaluationData

TABLE = "automl_meta_payloads"


def _table(storage: BaseStorage) -> tuple[Any, Any]:
    import sqlalchemy as sa

    backend = getattr(storage, "_backend", storage)  # Optuna's cache wrapper
    if not isinstance(backend, RDBStorage):
        raise StorageError(
            f"Parallel and remote workers need a database storage (SQLite or PostgreSQL), "
            f"not {type(backend).__name__}: pass storage='sqlite:///...' or a PostgreSQL URL.")
    meta = sa.MetaData()
    table = sa.Table(TABLE, meta,
                     sa.Column("key", sa.String(64), primary_key=True),
                     sa.Column("data", sa.LargeBinary, nullable=False))
    meta.create_all(backend.engine, checkfirst=True)
    return backend.engine, table


def save_payload(storage: BaseStorage, key: str, data: EvaluationData) -> None:
    """Store ``data`` under ``key`` (replacing an older payload of that key)."""
    import sqlalchemy as sa

    engine, table = _table(storage)
    blob = zlib.compress(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL), 1)
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.key == key))
        conn.execute(sa.insert(table).values(key=key, data=blob))


def load_payload(storage: BaseStorage, key: str) -> EvaluationData:
    """The data stored under ``key``; a clear error if there is none."""
    import sqlalchemy as sa

    engine, table = _table(storage)
    with engine.connect() as conn:
        row = conn.execute(sa.select(table.c.data).where(table.c.key == key)).first()
    if row is None:
        raise StorageError(
            f"The study's data (payload {key!r}) is not in its database: it was started by an "
            "automl-meta version without worker support, or with a storage workers cannot "
            "reach. Start the search again with fit(..., storage=URL).")
    return pickle.loads(zlib.decompress(row[0]))
