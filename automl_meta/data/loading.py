"""Turn what a user passes to ``fit`` (a DataFrame, a file path or an ``(X, y)`` pair)
into features and a target."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from .._system import available_memory_bytes
from ..exceptions import DataError, DataTypeError, InsufficientMemoryError

# Parsing a CSV and preparing it for a search needs several times its size on disk.
_FILE_MEMORY_FACTOR = 5


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file, with errors that name the path."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"Data file not found: {str(p)!r}.")
    if not p.is_file():
        raise DataError(f"Data path {str(p)!r} is not a file.")
    size = p.stat().st_size
    needed = size * _FILE_MEMORY_FACTOR
    if needed > available_memory_bytes():
        raise InsufficientMemoryError(
            f"{str(p)!r} is {size / 1e9:.1f} GB; loading and searching it needs about "
            f"{needed / 1e9:.1f} GB, but only {available_memory_bytes() / 1e9:.1f} GB of "
            "memory is available. Subsample the file first."
        )
    suffixes = "".join(p.suffixes).lower()
    try:
        if suffixes.endswith((".parquet", ".pq")):
            return pd.read_parquet(p)
        if suffixes.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            sep = "\t" if ".tsv" in suffixes else ","
            return pd.read_csv(p, sep=sep)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"Could not read {str(p)!r}: {exc}") from exc
    raise DataError(f"Unsupported file type {p.suffix!r} for {str(p)!r}; use CSV or Parquet.")


def split_target(frame: pd.DataFrame, target: Any, source: str) -> tuple[pd.DataFrame, pd.Series]:
    """Split ``frame`` into features and the ``target`` column."""
    if target is None:
        raise DataError(f"Name the target column of {source} with target=... .")
    if target not in frame.columns:
        shown = ", ".join(repr(c) for c in list(frame.columns)[:30])
        more = "" if frame.shape[1] <= 30 else f" (and {frame.shape[1] - 30} more)"
        raise DataError(
            f"Target column {target!r} is not in {source}. Its columns are: {shown}{more}."
        )
    return frame.drop(columns=[target]), frame[target]


def load_dataset(data: Any, target: Any = None) -> tuple[Any, Any, str]:
    """Return ``(X, y, dataset_name)`` from any accepted form of ``data``.

    Parameters
    ----------
    data : DataFrame, str or path-like, or tuple
        A DataFrame holding the ``target`` column, a CSV or Parquet path holding it, or an
        ``(X, y)`` pair.
    target : str, optional
        The target column's name; required for a DataFrame or a path.

    Examples
    --------
    >>> import pandas as pd
    >>> X, y, name = load_dataset(pd.DataFrame({"a": [1, 2], "t": [0, 1]}), "t")
    >>> list(X.columns), name
    (['a'], 'dataframe')
    """
    if isinstance(data, tuple):
        if len(data) != 2:
            raise DataError(f"Pass data as an (X, y) pair; got a tuple of {len(data)} items.")
        if target is not None:
            raise DataError("target=... is only for a DataFrame or a file; (X, y) has y.")
        return data[0], data[1], getattr(data[0], "name", None) or "arrays"
    if isinstance(data, (str, os.PathLike)):
        frame = read_table(data)
        X, y = split_target(frame, target, repr(str(data)))
        return X, y, Path(data).stem
    if isinstance(data, pd.DataFrame):
        X, y = split_target(data, target, "the DataFrame")
        return X, y, str(data.attrs.get("name", "dataframe"))
    raise DataTypeError(
        "data must be a pandas DataFrame with target=..., a CSV/Parquet path with target=..., "
        f"or an (X, y) pair; got {type(data).__name__}."
    )
