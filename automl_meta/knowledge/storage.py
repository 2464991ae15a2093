"""Resolve ``None | str | BaseStorage`` into an Optuna storage, with clear errors.

The default is a SQLite file, ``./studies/automl_meta.db`` relative to the working
directory, unless the ``AUTOML_META_STORAGE`` environment variable names another URL.
Any SQLAlchemy URL Optuna accepts works (``postgresql://...``, ``mysql://...``), and so
does ``"memory"`` for a throw-away in-memory storage.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage

from .._optuna import backend, rdb_backend, replace_distributions, stored_distributions
from .._system import shipped_file
from ..exceptions import StorageError

DEFAULT_STORAGE_ENV = "AUTOML_META_STORAGE"
DEFAULT_STORAGE_PATH = Path("studies") / "automl_meta.db"
# Seconds a SQLite writer waits for a lock before failing.
SQLITE_LOCK_TIMEOUT = 60
# Seconds a PostgreSQL connection attempt may take: an unreachable server fails fast.
CONNECT_TIMEOUT = 10
# Opening again after a concurrent first open created the tables (see _open_rdb).
SCHEMA_RACE_RETRIES = 3
# Trial heartbeats: a running trial records one every HEARTBEAT[0] seconds; one silent for
# HEARTBEAT[1] seconds belongs to a dead worker and is failed (then retried once) by the
# next worker that asks for a trial. Override with AUTOML_META_HEARTBEAT="interval,grace".
HEARTBEAT_ENV = "AUTOML_META_HEARTBEAT"
DEFAULT_HEARTBEAT = (10, 60)


def default_storage_url() -> str:
    """``$AUTOML_META_STORAGE`` if set, else ``sqlite:///<cwd>/studies/automl_meta.db``."""
    env = os.environ.get(DEFAULT_STORAGE_ENV)
    if env:
        return env
    return f"sqlite:///{(Path.cwd() / DEFAULT_STORAGE_PATH).as_posix()}"


SHIPPED_KNOWLEDGE_ENV = "AUTOML_META_KNOWLEDGE"


def shipped_knowledge_url() -> str:
    """The knowledge base the package learns from by default.

    ``$AUTOML_META_KNOWLEDGE`` if set; else ``studies/knowledge.db`` of the source tree the
    package runs from (the repository checkout ships it), or the copy an installed wheel
    carries; else ``./studies/knowledge.db`` (:func:`automl_meta._system.shipped_file`).
    """
    env = os.environ.get(SHIPPED_KNOWLEDGE_ENV)
    if env:
        return env
    return f"sqlite:///{shipped_file('studies', 'knowledge.db').as_posix()}"


def heartbeat_settings() -> tuple[int, int]:
    """``(interval, grace period)`` in seconds, from ``$AUTOML_META_HEARTBEAT`` or the
    defaults (10, 60)."""
    text = os.environ.get(HEARTBEAT_ENV)
    if not text:
        return DEFAULT_HEARTBEAT
    try:
        interval, grace = (int(v) for v in text.split(","))
    except ValueError:
        raise StorageError(f"{HEARTBEAT_ENV} must be 'interval,grace' in whole seconds, "
                           f"e.g. '10,60'; got {text!r}.") from None
    if not 0 < interval < grace:
        raise StorageError(f"{HEARTBEAT_ENV}: the grace period must exceed the interval "
                           f"(both > 0); got {text!r}.")
    return interval, grace


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):].split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return Path(path)


def _check_sqlite_file(path: Path) -> None:
    """Refuse a file that exists but is not a SQLite database: never write over it.

    The file is read through SQLite, never with ``open()``: closing a plain file handle
    on a database releases every POSIX lock this process holds on it, so another process
    (a search's helper worker) would take itself for the last user, remove the write-ahead
    log's shared memory, and this process's open connections would then fail with
    "disk I/O error".
    """
    import sqlite3
    from contextlib import closing

    if path.exists() and path.stat().st_size > 0:
        valid = True
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True)) as conn:
                conn.execute("PRAGMA schema_version").fetchone()
        except sqlite3.OperationalError:
            pass  # cannot open it here (permissions): opening the storage says so
        except sqlite3.DatabaseError:  # "file is not a database", "malformed"
            valid = False
        if not valid:
            raise StorageError(
                f"{str(path)!r} exists but is not a SQLite database (truncated or another "
                "file?). automl-meta will not overwrite it; move it away or pass another "
                "storage."
            )


def get_storage(storage: str | BaseStorage | None = None, *, create: bool = True,
                wal: bool = False) -> BaseStorage:
    """Return an Optuna storage for ``storage``.

    Parameters
    ----------
    storage : str, BaseStorage or None
        ``None`` for the default, ``"memory"`` for in-memory, a database URL, or an Optuna
        storage object (returned as is).
    create : bool, default True
        Whether a missing SQLite file may be created; ``False`` (for readers such as the
        reports and the dashboard) raises ``StorageError`` instead.
    wal : bool, default False
        For a SQLite file that searches write to: switch it to write-ahead logging with
        ``synchronous=NORMAL`` (commits without an fsync each, readers never block the
        writer). The file then keeps ``-wal``/``-shm`` companions while open; not for
        files on network filesystems, nor for read-only knowledge bases.

    Raises
    ------
    StorageError
        When the database cannot be opened; the message names the URL.

    Examples
    --------
    >>> type(get_storage("memory")).__name__
    'InMemoryStorage'
    """
    if isinstance(storage, BaseStorage):
        return storage
    url = default_storage_url() if storage is None else str(storage)
    if url in ("memory", ":memory:"):
        return InMemoryStorage()
    engine_kwargs: dict[str, Any] = {}
    path = _sqlite_path(url)
    if url.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": SQLITE_LOCK_TIMEOUT}
        if path is not None:
            if not create and not path.is_file():
                raise StorageError(
                    f"No study database at {str(path)!r}. Run a search first (`automl-meta "
                    "demo` or `automl-meta fit`), or pass --storage.")
            _check_sqlite_file(path)
            path.parent.mkdir(parents=True, exist_ok=True)
    elif "://" in url:
        if url.startswith("postgresql://"):  # the driver we install (psycopg 3)
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        engine_kwargs["pool_pre_ping"] = True  # a dropped connection is replaced, not used
        if url.startswith("postgresql"):
            engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    else:
        raise StorageError(
            f"Storage {url!r} is not a database URL. Use e.g. 'sqlite:///studies/my.db', "
            "'postgresql://user@host/db' or 'memory'."
        )
    interval, grace = heartbeat_settings()
    # A trial of a dead worker is failed, then retried once with the same parameters.
    # (Optuna 4.9 renamed the callback and its argument.)
    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        stale = {"heartbeat_stale_trial_callback": retry(max_retry=1)} if retry else {
            "failed_trial_callback": optuna.storages.RetryFailedTrialCallback(max_retry=1)}
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" since Optuna 2.8
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            rdb = _open_rdb(url, engine_kwargs=engine_kwargs, heartbeat_interval=interval,
                            grace_period=grace, **stale)
        if wal and path is not None:
            _use_wal(rdb)
        return rdb
    except (optuna.exceptions.StorageInternalError, RuntimeError, ValueError) as exc:
        raise StorageError(f"Cannot open study storage {_redact(url)!r}: {exc}") from exc
    except ImportError as exc:  # a database URL whose driver is not installed
        scheme = url.split("://", 1)[0]
        raise StorageError(
            f"Cannot open study storage {_redact(url)!r}: the database driver for "
            f"{scheme!r} is not installed ({exc}). Install it (for MySQL: pip install "
            "pymysql, and use a 'mysql+pymysql://...' URL), or use SQLite or "
            "PostgreSQL.") from exc
    except Exception as exc:  # sqlalchemy errors: connection refused, bad file, old schema
        if type(exc).__module__.startswith("sqlalchemy"):
            raise StorageError(f"Cannot open study storage {_redact(url)!r}: {exc}") from exc
        raise


def _open_rdb(url: str, **kwargs: Any) -> RDBStorage:
    """``RDBStorage(url, **kwargs)``, tried again when another process was setting up
    the same new database at the same moment.

    Optuna sets up a new database check-then-write (create the missing tables, then
    insert the one version row and stamp the Alembic revision), and none of it is
    atomic, so fits started together on a new SQLite file or PostgreSQL database can
    both see nothing and the later one fails ("table ... already exists", a unique
    constraint on the version rows). What the other process wrote is what this one
    would have written, so opening again succeeds.
    """
    for attempt in range(SCHEMA_RACE_RETRIES):
        try:
            return RDBStorage(url, **kwargs)
        except Exception as exc:
            if not _schema_race(exc):
                raise
            time.sleep(0.2 * (attempt + 1))
    return RDBStorage(url, **kwargs)  # the last try: whatever it raises goes up


# Database errors that, while opening, mean another process set the schema up first.
_SCHEMA_RACE_TEXTS = ("already exists", "UNIQUE constraint failed", "duplicate key value",
                      "pg_type_typname_nsp_index")


def _schema_race(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is a database error of a schema set up
    meanwhile by another process (see ``_open_rdb``)."""
    while exc is not None:
        if type(exc).__module__.startswith("sqlalchemy") and any(
                text in str(exc) for text in _SCHEMA_RACE_TEXTS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _use_wal(storage: RDBStorage) -> None:
    """Write-ahead logging and NORMAL sync on every connection of ``storage``'s engine."""
    import sqlalchemy as sa

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    sa.event.listen(storage.engine, "connect", pragmas)
    storage.engine.dispose()  # connections opened before the listener are replaced


def release_storage(storage: BaseStorage) -> None:
    """Close the pooled database connections of ``storage`` (it stays usable: a later
    call opens new ones). With SQLite the last connection's close checkpoints the
    write-ahead log into the database file, so the file alone holds every trial.

    Parameters
    ----------
    storage : BaseStorage
        An Optuna storage; only a database storage holds connections.
    """
    if isinstance(storage, RDBStorage):
        storage.engine.dispose()


def storage_url(storage: str | BaseStorage | None) -> str:
    """A printable URL for ``storage`` (passwords removed).

    Parameters
    ----------
    storage : str, optuna storage or None
        A storage URL or object (None: the default storage).
    """
    if isinstance(storage, RDBStorage):
        return _redact(str(storage.url))
    if isinstance(storage, BaseStorage):
        return type(storage).__name__
    return _redact(default_storage_url() if storage is None else str(storage))


def _redact(url: str, replacement: str | None = "***") -> str:
    """``url`` with its password replaced (or, with ``replacement=None``, removed: the
    driver then reads it from ``PGPASSWORD`` or ``~/.pgpass``). The host follows the
    *last* ``@`` of the authority, so a password holding an unencoded ``@`` is hidden
    whole.

    >>> _redact("postgresql://me:p@ss@db.host:5432/studies")
    'postgresql://me:***@db.host:5432/studies'
    >>> _redact("postgresql://me:secret@db/x", None)
    'postgresql://me@db/x'
    """
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return url
    creds, host = authority.rsplit("@", 1)
    if ":" not in creds:
        return url
    user = creds.split(":", 1)[0]
    secret = "" if replacement is None else f":{replacement}"
    return f"{scheme}://{user}{secret}@{host}{slash}{path}"


def without_password(url: str) -> str:
    """``url`` with no password in it (what a pickled model keeps)."""
    return _redact(url, None)


def widen_choices(storage: BaseStorage, study_name: str, param: str,
                  choices: list[Any]) -> int:
    """Give a categorical parameter more choices in every stored trial of a study.

    Optuna refuses a trial whose categorical choices differ from the study's earlier
    trials' ("dynamic value space"), so a knowledge-base study built before a learner
    family existed could never hold that family's trials. Trials store a choice's index,
    so the stored choices must be a prefix of ``choices`` (new ones appended; the indices
    keep their meaning), or this raises ``ValueError``. One transaction; relational
    storages only. Returns how many stored parameters changed.
    """
    from optuna.distributions import (
        CategoricalDistribution,
        distribution_to_json,
        json_to_distribution,
    )

    rdb = rdb_backend(storage)
    if rdb is None:
        raise StorageError(f"widen_choices needs a relational storage, not "
                           f"{type(backend(storage)).__name__}.")
    new_json = distribution_to_json(CategoricalDistribution(list(choices)))
    with rdb.engine.begin() as conn:
        stored = stored_distributions(conn, study_name, param)
        for text in stored:
            old = json_to_distribution(text)
            if not isinstance(old, CategoricalDistribution) or \
                    list(old.choices) != list(choices)[:len(old.choices)]:
                raise ValueError(f"{study_name}: {param}'s stored choices {old} are not a "
                                 f"prefix of {list(choices)}.")
        if all(text == new_json for text in stored):
            return 0
        return replace_distributions(conn, study_name, param, new_json)
