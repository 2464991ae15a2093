"""Every reach into Optuna beyond its public API, in one place.

Optuna has no public way to get a study's storage, a study's or a trial's storage id,
or the relational storage behind its cache wrapper, and no query for trial counts per
study or for a stored parameter's distribution across a study's trials. This module
holds those reaches (and the SQL on Optuna's own tables); tests/test_optuna_internals.py
fails when an Optuna release changes what they rely on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, RDBStorage

__all__ = ["backend", "frozen_study_id", "has_optuna_tables", "rdb_backend",
           "replace_distributions", "stored_distributions", "study_storage", "trial_counts",
           "trial_id"]

# Trials of the study named :study whose parameter is :param (Optuna's schema).
_IN_STUDY = ("param_name = :param AND trial_id IN (SELECT t.trial_id FROM trials t JOIN "
             "studies s ON s.study_id = t.study_id WHERE s.study_name = :study)")


def study_storage(study: optuna.Study) -> BaseStorage:
    """The storage ``study`` reads and writes (for a database, Optuna's cache wrapper)."""
    return study._storage


def backend(storage: BaseStorage) -> BaseStorage:
    """``storage`` without Optuna's cache wrapper (``_CachedStorage``), which
    ``create_study`` and ``load_study`` put around a database storage."""
    return getattr(storage, "_backend", storage)


def rdb_backend(storage: BaseStorage) -> RDBStorage | None:
    """The relational storage behind ``storage``, or None (in-memory, journal)."""
    inner = backend(storage)
    return inner if isinstance(inner, RDBStorage) else None


def frozen_study_id(study: Any) -> int:
    """The storage id of a ``FrozenStudy`` or a ``StudySummary``."""
    return int(study._study_id)


def trial_id(trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    """The storage id of a running or frozen trial (what ``record_heartbeat`` takes)."""
    return int(trial._trial_id)


def has_optuna_tables(path: Path) -> bool:
    """Whether the SQLite file ``path`` holds Optuna's tables (its ``studies`` table);
    True for a file that is not SQLite at all (opening it names the problem)."""
    import sqlite3

    if path.stat().st_size == 0:
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            found = conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND "
                                 "name='studies'").fetchone()
    except sqlite3.DatabaseError:
        return True
    return found is not None


def trial_counts(storage: BaseStorage) -> dict[int, int]:
    """Trials per study id: one query on Optuna's ``trials`` table where ``storage`` is
    a database, else one call per study."""
    rdb = rdb_backend(storage)
    if rdb is not None:
        import sqlalchemy as sa

        with rdb.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT study_id, COUNT(*) FROM trials GROUP BY study_id")).fetchall()
        return {int(a): int(b) for a, b in rows}
    return {frozen_study_id(s): storage.get_n_trials(frozen_study_id(s))
            for s in storage.get_all_studies()}


def stored_distributions(conn: Any, study_name: str, param: str) -> list[str]:
    """The distinct distribution JSON texts stored for ``param`` in the trials of
    ``study_name`` (``conn``: a SQLAlchemy connection to the study database)."""
    import sqlalchemy as sa

    return [r[0] for r in conn.execute(sa.text(
        f"SELECT DISTINCT distribution_json FROM trial_params WHERE {_IN_STUDY}"),
        {"param": param, "study": study_name})]


def replace_distributions(conn: Any, study_name: str, param: str, new_json: str) -> int:
    """Store ``new_json`` as ``param``'s distribution in every trial of ``study_name``
    that holds another; returns how many rows changed."""
    import sqlalchemy as sa

    result = conn.execute(sa.text(
        f"UPDATE trial_params SET distribution_json = :new WHERE {_IN_STUDY} "
        "AND distribution_json <> :new"),
        {"param": param, "study": study_name, "new": new_json})
    return int(result.rowcount)
