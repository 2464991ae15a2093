"""Validate features, target and sample weights, with errors that name the problem.

The caller's objects are never modified: everything here returns new objects.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning

from .._system import available_memory_bytes
from ..exceptions import (
    ColumnMismatchError,
    DataError,
    DataTypeError,
    InsufficientMemoryError,
    TargetError,
)
from .plan import DataWarning

logger = logging.getLogger(__name__)

# A search holds the data, a cleaned copy and cached fold matrices: a few times its size.
_WORKING_MEMORY_FACTOR = 6
# Sparse input is densified when the dense matrix stays under this size.
MAX_DENSIFIED_BYTES = 2 * 1024**3


def column_label(col: Any) -> str:
    """The internal string name of a column label (tuples from a MultiIndex are joined)."""
    if isinstance(col, tuple):
        return "__".join(str(c) for c in col)
    return str(col)


def _first_index(mask: np.ndarray, index: pd.Index | None) -> Any:
    pos = int(np.flatnonzero(mask)[0])
    return index[pos] if index is not None else pos


def check_X(X: Any) -> pd.DataFrame:
    """Return the features as a new DataFrame with unique string column names.

    Arrays get columns ``x0, x1, ...``; DataFrame labels become strings (tuples of a
    MultiIndex are joined with ``__``). Sparse matrices are densified when small enough.

    Parameters
    ----------
    X : array-like, DataFrame or sparse matrix
        The features.

    Raises
    ------
    DataError
        For 0 or 1 rows, a 1-D or complex array, or duplicate column names.
    DataTypeError
        For sparse pandas columns or unsupported objects.
    InsufficientMemoryError
        When the search would need more memory than is available.
    """
    if X is None:
        raise DataError("X is None; pass a 2-D array or DataFrame of features.")
    if isinstance(X, pd.DataFrame):
        dup = X.columns[X.columns.duplicated()].unique().tolist()
        if dup:
            raise DataError(f"Duplicate column names: {dup}. Column names must be unique.")
        sparse_cols = [c for c, t in X.dtypes.items() if isinstance(t, pd.SparseDtype)]
        if sparse_cols:
            raise DataTypeError(
                f"Sparse pandas columns are not supported ({len(sparse_cols)} columns, e.g. "
                f"{sparse_cols[0]!r}). Pass a scipy.sparse CSR matrix or call "
                "X.sparse.to_dense() first."
            )
        names = [column_label(c) for c in X.columns]
        if len(set(names)) != len(names):
            raise DataError(
                "Column labels collide once turned into strings (for example 1 and '1'): "
                f"{sorted({n for n in names if names.count(n) > 1})}. Rename them."
            )
        _check_cell_types(X)
        frame = X.copy(deep=False)
        frame.columns = names
        frame = frame.reset_index(drop=True)
    else:
        if sp.issparse(X):
            dense_bytes = X.shape[0] * X.shape[1] * 8
            if dense_bytes > MAX_DENSIFIED_BYTES:
                raise InsufficientMemoryError(
                    f"The sparse matrix {X.shape} would take {dense_bytes / 1e9:.1f} GB dense; "
                    "automl-meta densifies sparse input. Reduce the columns first."
                )
            logger.info("Densifying sparse input of shape %s.", X.shape)
            X = X.toarray()
        elif not hasattr(X, "shape"):
            try:
                X = np.asarray(X)
            except Exception as exc:  # noqa: BLE001 - any conversion failure is the user's input
                raise DataTypeError(f"Cannot read X of type {type(X).__name__}: {exc}") from exc
        X = np.asarray(X)
        if X.ndim != 2:
            raise DataError(
                f"Expected 2D array, got {X.ndim}D array instead. Reshape your data with "
                "X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single row."
            )
        if np.iscomplexobj(X):
            raise DataError("Complex data not supported; pass real-valued features.")
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    n_rows = frame.shape[0]
    if n_rows == 0:
        raise DataError(f"Found array with 0 sample(s) (shape={frame.shape}): X has no rows.")
    needed = int(frame.memory_usage(deep=False).sum()) * _WORKING_MEMORY_FACTOR
    available = available_memory_bytes()
    if needed > available:
        raise InsufficientMemoryError(
            f"The data takes {needed / _WORKING_MEMORY_FACTOR / 1e9:.2f} GB; a search needs "
            f"about {needed / 1e9:.1f} GB but only {available / 1e9:.1f} GB is available. "
            "Subsample the rows or drop columns."
        )
    return frame


def _check_cell_types(X: pd.DataFrame) -> None:
    """Refuse complex columns, and object columns holding lists, dicts, sets or arrays
    (no learner takes a container as a feature), naming the column."""
    for col, dtype in X.dtypes.items():
        if pd.api.types.is_complex_dtype(dtype):
            raise DataTypeError(f"Column {col!r} holds complex numbers; pass real-valued "
                                "features (e.g. its .real and .imag parts as two columns).")
        if pd.api.types.is_object_dtype(dtype):
            sample = X[col].dropna()
            sample = sample.iloc[:1000] if len(sample) > 1000 else sample
            bad = next((v for v in sample if isinstance(v, (list, tuple, dict, set,
                                                            np.ndarray, complex))), None)
            if bad is not None:
                raise DataTypeError(
                    f"Column {col!r} holds {type(bad).__name__} values (e.g. {bad!r:.60}); "
                    "each cell must be a number, text, a date or a boolean. Expand it into "
                    "columns or drop it.")


def _single_column(shape: tuple[int, ...]) -> None:
    """Refuse multi-output targets; warn (as scikit-learn does) about a column vector."""
    if shape[1] != 1:
        raise TargetError(f"y has shape {shape}; multi-output targets are not supported. "
                          "Pass a single target column.")
    warnings.warn("A column-vector y was passed when a 1d array was expected; using its "
                  "only column.", DataConversionWarning, stacklevel=4)


def _as_1d_target(y: Any) -> tuple[pd.Series, pd.Index | None]:
    if y is None:
        raise TargetError("This estimator requires y to be passed, but the target y is None.")
    index = y.index if isinstance(y, (pd.Series, pd.DataFrame)) else None
    if isinstance(y, pd.DataFrame):
        _single_column(y.shape)
        return y.iloc[:, 0].reset_index(drop=True), index
    if isinstance(y, pd.Series):
        return y.reset_index(drop=True), index
    arr = np.asarray(y)
    if arr.ndim == 2:
        _single_column(arr.shape)
        arr = arr[:, 0]
    elif arr.ndim != 1:
        raise TargetError(f"y must be 1-D; got shape {arr.shape}.")
    if np.iscomplexobj(arr):
        raise TargetError("Complex data not supported in y.")
    return pd.Series(arr), index


def check_target(y: Any) -> tuple[pd.Series, pd.Index | None]:
    """Return ``y`` as a new Series (positional index) and its original pandas index.

    Raises :class:`~automl_meta.exceptions.TargetError` for a multi-column ``y``, missing or
    infinite values (naming the count and the first index), and labels mixing numbers and
    strings.

    Parameters
    ----------
    y : array-like, Series or one-column DataFrame
        The target.
    """
    series, index = _as_1d_target(y)
    missing = series.isna().to_numpy()
    if missing.any():
        raise TargetError(
            f"y has {int(missing.sum())} missing value(s) (NaN/None), first at index "
            f"{_first_index(missing, index)!r}. Drop those rows or fill the target."
        )
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    ):
        values = series.to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            raise TargetError(
                f"y has {int(bad.sum())} infinite value(s), first at index "
                f"{_first_index(bad, index)!r}. Drop those rows or replace the values."
            )
    elif series.dtype == object:
        kinds = {type(v).__name__ for v in series.to_numpy()}
        numeric = {k for k in kinds if k in {"int", "float", "int64", "float64", "int32", "bool"}}
        if numeric and kinds - numeric:
            raise TargetError(
                f"y mixes numbers and strings (types: {sorted(kinds)}). Convert the labels to "
                "one type, for example y.astype(str)."
            )
    return series, index


def encode_target(y: pd.Series, task: str) -> tuple[np.ndarray | None, np.ndarray, int]:
    """``(classes, encoded, n_classes)``: class indices and the original labels for
    classification (at least 2 classes), or ``(None, float values, 0)`` for regression.

    Examples
    --------
    >>> classes, codes, k = encode_target(pd.Series(["b", "a", "b"]), "classification")
    >>> classes.tolist(), codes.tolist(), k
    (['a', 'b'], [1, 0, 1], 2)
    """
    if task == "regression":
        try:
            return None, y.to_numpy(dtype=np.float64), 0
        except (TypeError, ValueError) as exc:
            raise TargetError(f"Regression needs a numeric target; y has dtype {y.dtype} "
                              f"({exc}).") from exc
    from sklearn.utils.multiclass import check_classification_targets

    values = np.asarray(y)
    check_classification_targets(values)
    try:
        classes, encoded = np.unique(values, return_inverse=True)
    except TypeError as exc:
        raise TargetError(f"y mixes label types that cannot be compared ({exc}); convert "
                          "them to one type, e.g. y.astype(str).") from exc
    if len(classes) < 2:
        raise TargetError(f"y has only 1 class ({classes[0]!r}); classification needs at "
                          "least 2 classes.")
    _warn_lookalike_labels(classes)
    return classes, encoded.astype(np.int64), len(classes)


def _warn_lookalike_labels(classes: np.ndarray) -> None:
    """Text labels that differ only in surrounding spaces or case ("yes", "yes ", "Yes")
    are kept apart, as given, but rarely meant as different classes: say so."""
    groups: dict[str, list[str]] = {}
    for label in classes:
        if isinstance(label, str):
            groups.setdefault(label.strip().lower(), []).append(label)
    alike = [names for names in groups.values() if len(names) > 1]
    if alike:
        shown = "; ".join(" and ".join(repr(n) for n in names) for names in alike[:3])
        warnings.warn(f"Class labels {shown} differ only in spaces or case; they are kept as "
                      "separate classes. If they are one class, clean them first, e.g. "
                      "y.str.strip().str.lower().", DataWarning, stacklevel=4)


def check_X_y(X: Any, y: Any) -> tuple[pd.DataFrame, pd.Series]:
    """Validate features and target together (lengths, pandas index alignment).

    Parameters
    ----------
    X : array-like, DataFrame or sparse matrix
        The features, as for :func:`check_X`.
    y : array-like or Series
        The target, as for :func:`check_target`; as many rows as ``X``.
    """
    x_index = X.index if isinstance(X, pd.DataFrame) else None
    frame = check_X(X)
    series, y_index = check_target(y)
    if len(frame) != len(series):
        raise DataError(
            f"X and y have different lengths: X has {len(frame)} rows, y has {len(series)}."
        )
    if x_index is not None and y_index is not None and not x_index.equals(y_index):
        raise DataError(
            "X and y are pandas objects whose indexes differ; automl-meta will not guess how "
            "to align them. Use y.reindex(X.index) or pass .to_numpy() to match by position."
        )
    if len(frame) == 1:
        raise DataError(
            "Found array with 1 sample(s): a single row cannot be cross-validated. "
            "Pass at least 2 rows (n_samples = 1)."
        )
    return frame, series


def check_sample_weight(sample_weight: Any, n_rows: int) -> np.ndarray | None:
    """Return sample weights as a float array, or raise naming what is wrong.

    Parameters
    ----------
    sample_weight : array-like or None
        One finite, non-negative weight per row, not all zero; None for none.
    n_rows : int
        The number of rows the weights must match.
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=float).reshape(-1)
    if w.shape[0] != n_rows:
        raise DataError(f"sample_weight has {w.shape[0]} values but X has {n_rows} rows.")
    if np.isnan(w).any():
        raise DataError(f"sample_weight has {int(np.isnan(w).sum())} NaN value(s).")
    if (w < 0).any():
        raise DataError(f"sample_weight has {int((w < 0).sum())} negative value(s).")
    if not np.isfinite(w).all():
        raise DataError("sample_weight has infinite values.")
    if w.sum() == 0:
        raise DataError("sample_weight is zero for every row; at least one must be positive.")
    return w


def warn_conflicting_duplicates(X: pd.DataFrame, y: pd.Series) -> None:
    """Warn when identical feature rows carry different targets (the data is kept)."""
    if X.shape[1] == 0:
        return
    row_hash = pd.util.hash_pandas_object(X, index=False)
    groups = pd.DataFrame({"h": row_hash.to_numpy(), "y": y.to_numpy()}).groupby("h")["y"]
    conflicting = int((groups.nunique() > 1).sum())
    if conflicting:
        warnings.warn(
            f"{conflicting} group(s) of identical feature rows have different targets; they "
            "are kept as they are (the models learn the majority or the average).",
            DataWarning,
            stacklevel=3,
        )


def check_columns(given: list[Any], expected: list[Any]) -> None:
    """Raise :class:`ColumnMismatchError` naming the missing and unexpected columns, or
    the expected order, unless ``given`` (a DataFrame's columns at predict) equals
    ``expected`` (those seen in fit)."""
    if given == expected:
        return
    missing = [c for c in expected if c not in given]
    extra = [c for c in given if c not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if extra:
            parts.append(f"unexpected {extra}")
        raise ColumnMismatchError(f"The columns differ from those seen in fit: "
                                  f"{'; '.join(parts)}.")
    raise ColumnMismatchError(
        f"The columns are in another order than in fit. Expected {expected}; reorder with "
        "X[model.feature_names_in_] or X[expected_columns].")
