"""The search's data, kept in the study database while workers may join the search.

A worker on another machine knows only the storage URL and the study name. The cleaned
data, folds and column layout it evaluates trials on (:class:`EvaluationData`) are
stored in a table of our own (``automl_meta_payloads``) beside Optuna's tables, keyed by
the study's ``uid``: study listings (the knowledge base reads every study's attributes)
never load it.

Only searches that workers may join store it (``fit(n_jobs>1)`` or
``fit(share_data=True)``), and a search deletes it when it ends unless it was asked to
share it (``share_data=True``: the study stays open for ``automl-meta worker``).
``automl-meta studies --data`` lists what is stored, ``--purge-data`` deletes it.

The format executes no code when read: the feature table as Parquet, the arrays (target,
folds, weights) as NumPy ``.npz`` without pickled objects, the settings and the column
layout the workers need as JSON, all in one zip archive. A payload that does not parse as
exactly that is refused (:class:`~automl_meta.exceptions.StorageError`).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np
import pandas as pd
from optuna.storages import BaseStorage, RDBStorage

from .._optuna import backend as optuna_backend
from .._types import TASKS, Task
from ..data.plan import ColumnPlan
from ..exceptions import StorageError
from .evaluation import EvaluationData

TABLE = "automl_meta_payloads"
OOF_TABLE = "automl_meta_oof"
FORMAT = "automl-meta-payload/2"
_MEMBERS = {"format.json", "settings.json", "X.parquet", "arrays.npz"}
# What the workers need of the column plan (the data is already cleaned by it).
_PLAN_FIELDS = ("numeric_", "categorical_low_", "categorical_high_")


def _table(storage: BaseStorage) -> tuple[Any, Any]:
    import sqlalchemy as sa

    backend = optuna_backend(storage)  # without Optuna's cache wrapper
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


def encode_payload(data: EvaluationData) -> bytes:
    """``data`` as a zip archive of Parquet, ``.npz`` and JSON (no pickle)."""
    arrays: dict[str, np.ndarray] = {"y": np.asarray(data.y)}
    for i, (train, test) in enumerate(data.folds):
        arrays[f"train_{i}"], arrays[f"test_{i}"] = np.asarray(train), np.asarray(test)
    if data.sample_weight is not None:
        arrays["sample_weight"] = np.asarray(data.sample_weight, dtype=np.float64)
    settings = {"task": data.task, "metric": data.metric, "n_classes": int(data.n_classes),
                "n_threads": int(data.n_threads), "device": data.device,
                "meta_init": data.meta_init, "n_folds": len(data.folds),
                "plan": {f: [str(c) for c in getattr(data.plan, f)] for f in _PLAN_FIELDS},
                "extra": data.extra}
    table = io.BytesIO()
    data.X.to_parquet(table, index=False)
    npz = io.BytesIO()
    np.savez_compressed(npz, **arrays)  # type: ignore[arg-type]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("format.json", json.dumps({"format": FORMAT}))
        archive.writestr("settings.json", json.dumps(settings))
        archive.writestr("X.parquet", table.getvalue())
        archive.writestr("arrays.npz", npz.getvalue())
    return out.getvalue()


def decode_payload(blob: bytes) -> EvaluationData:
    """The :class:`EvaluationData` of :func:`encode_payload`'s archive; anything else is
    refused. Nothing in it is executed: Parquet and ``.npz`` are read without pickles.

    >>> from automl_meta.data import make_folds
    >>> X = pd.DataFrame({"a": np.arange(10.0), "b": list("xyxyxyxyxy")})
    >>> plan = ColumnPlan().fit(X)
    >>> y = np.arange(10) % 2
    >>> data = EvaluationData(plan.transform(X), y, make_folds(y, "classification", 2),
    ...                       plan, "classification", "accuracy", n_classes=2)
    >>> back = decode_payload(encode_payload(data))
    >>> back.plan.numeric_, back.plan.categorical_low_, back.X.equals(data.X)
    (['a'], ['b'], True)
    """
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            if set(archive.namelist()) != _MEMBERS:
                raise ValueError(f"unexpected members {sorted(archive.namelist())}")
            if json.loads(archive.read("format.json")).get("format") != FORMAT:
                raise ValueError("unknown format")
            settings = json.loads(archive.read("settings.json"))
            X = pd.read_parquet(io.BytesIO(archive.read("X.parquet")))
            with np.load(io.BytesIO(archive.read("arrays.npz")), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        n_folds = int(settings["n_folds"])
        folds = [(arrays[f"train_{i}"], arrays[f"test_{i}"]) for i in range(n_folds)]
        plan = ColumnPlan()
        for f in _PLAN_FIELDS:
            setattr(plan, f, [str(c) for c in settings["plan"][f]])
        return EvaluationData(X=X, y=arrays["y"], folds=folds, plan=plan,
                              task=_task(settings["task"]), metric=str(settings["metric"]),
                              n_classes=int(settings["n_classes"]),
                              sample_weight=arrays.get("sample_weight"),
                              n_threads=int(settings["n_threads"]),
                              device=str(settings["device"]), meta_init=settings["meta_init"],
                              extra=dict(settings.get("extra") or {}))
    except Exception as exc:  # noqa: BLE001 - a payload that is not exactly ours is refused
        raise StorageError(f"The study's stored data is not a valid automl-meta payload "
                           f"({type(exc).__name__}: {exc}); it is refused.") from exc


def _task(value: Any) -> Task:
    if value not in TASKS:
        raise ValueError(f"unknown task {value!r}")
    return value  # type: ignore[no-any-return]


def save_payload(storage: BaseStorage, key: str, data: EvaluationData) -> None:
    """Store ``data`` under ``key`` (replacing an older payload of that key)."""
    import sqlalchemy as sa

    engine, table = _table(storage)
    blob = encode_payload(data)
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
            f"The study's data (payload {key!r}) is not in its database: the search has "
            "ended (its data is deleted then) or did not share it. Start the search with "
            "fit(..., n_jobs=K) or fit(..., share_data=True) and a database storage.")
    return decode_payload(bytes(row[0]))


def delete_payload(storage: BaseStorage, key: str) -> bool:
    """Delete the data stored under ``key``; whether there was any."""
    import sqlalchemy as sa

    backend = optuna_backend(storage)
    if not isinstance(backend, RDBStorage) or not sa.inspect(backend.engine).has_table(TABLE):
        return False
    engine, table = _table(storage)
    with engine.begin() as conn:
        return conn.execute(sa.delete(table).where(table.c.key == key)).rowcount > 0


def stored_payloads(storage: BaseStorage) -> dict[str, int]:
    """Every stored payload's key (a study ``uid``) and size in bytes."""
    import sqlalchemy as sa

    backend = optuna_backend(storage)
    if not isinstance(backend, RDBStorage) or not sa.inspect(backend.engine).has_table(TABLE):
        return {}
    engine, table = _table(storage)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.key, sa.func.length(table.c.data))).all()
    return {str(k): int(n) for k, n in rows}


# ------------------------------------------------ out-of-fold predictions of a search
def _oof_table(storage: BaseStorage) -> tuple[Any, Any]:
    import sqlalchemy as sa

    backend = optuna_backend(storage)
    if not isinstance(backend, RDBStorage):
        raise StorageError("Shared out-of-fold predictions need a database storage.")
    meta = sa.MetaData()
    table = sa.Table(OOF_TABLE, meta,
                     sa.Column("key", sa.String(64), primary_key=True),
                     sa.Column("number", sa.Integer, primary_key=True),
                     sa.Column("data", sa.LargeBinary, nullable=False))
    meta.create_all(backend.engine, checkfirst=True)
    return backend.engine, table


def save_oof(storage: BaseStorage, key: str, number: int, oof: np.ndarray) -> None:
    """Store trial ``number``'s out-of-fold predictions for the search ``key`` (a study
    ``uid``), so that the driver's ensemble can use trials other workers scored."""
    import sqlalchemy as sa

    engine, table = _oof_table(storage)
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(oof, dtype=np.float32), allow_pickle=False)
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where((table.c.key == key) & (table.c.number == number)))
        conn.execute(sa.insert(table).values(key=key, number=int(number),
                                             data=buffer.getvalue()))


def load_oof(storage: BaseStorage, key: str, numbers: list[int]) -> dict[int, np.ndarray]:
    """The stored out-of-fold predictions of these trials of search ``key``."""
    import sqlalchemy as sa

    backend = optuna_backend(storage)
    if not isinstance(backend, RDBStorage) or not sa.inspect(backend.engine).has_table(
            OOF_TABLE):
        return {}
    engine, table = _oof_table(storage)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.number, table.c.data).where(
            (table.c.key == key) & table.c.number.in_([int(n) for n in numbers]))).all()
    return {int(n): np.load(io.BytesIO(bytes(blob)), allow_pickle=False) for n, blob in rows}


def delete_oof(storage: BaseStorage, key: str) -> None:
    """Delete every stored out-of-fold prediction of search ``key``."""
    import sqlalchemy as sa

    backend = optuna_backend(storage)
    if not isinstance(backend, RDBStorage) or not sa.inspect(backend.engine).has_table(
            OOF_TABLE):
        return
    engine, table = _oof_table(storage)
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.key == key))
