"""The column plan: decide once, on the training data, what each column is and whether it
is kept, then clean any frame the same way.

Cleaning here is about types (numbers, categories, dates) and hopeless columns; imputation,
scaling and encoding are fitted per cross-validation fold by :mod:`.preprocessing`.
"""

from __future__ import annotations

import datetime
import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

logger = logging.getLogger(__name__)

MISSING_TOKEN = "__missing__"
UNKNOWN_TOKEN = "__unknown__"
# Finite values beyond this magnitude are treated as missing (they overflow most learners).
HUGE_VALUE = 1e300
# Integers beyond this magnitude are not exact in float64: such a column is shifted by its
# training minimum (in exact integer arithmetic) before it becomes floats.
EXACT_INT = 2**53


class DataWarning(UserWarning):
    """automl-meta changed or dropped part of the input data; the message says what."""


class ColumnPlan(TransformerMixin, BaseEstimator):
    """What to do with each input column: the first step of every fitted pipeline.

    Parameters
    ----------
    max_onehot : int
        Categorical columns with more distinct values than this are "high cardinality" and
        get target or ordinal encoding instead of one-hot.

    Attributes
    ----------
    numeric_ : list of str
        Output columns holding numbers (including those derived from dates).
    categorical_low_, categorical_high_ : list of str
        Output categorical columns, split by cardinality.
    dropped_ : dict of str to str
        Input columns left out, with the reason.
    int_offsets_ : dict of str to int
        Integer columns beyond float64's exact range (2**53), each with the training minimum
        subtracted before it becomes floats (so that 2**64 - 1 and 2**64 - 2 stay apart).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "x"], "c": [5, 5, 5]})
    >>> import warnings; warnings.simplefilter("ignore")
    >>> plan = ColumnPlan().fit(frame)
    >>> plan.numeric_, plan.categorical_low_, plan.dropped_
    (['a'], ['b'], {'c': 'constant'})
    """

    def __init__(self, max_onehot: int = 20):
        self.max_onehot = max_onehot

    # ------------------------------------------------------------------ fit
    def fit(self, X: pd.DataFrame, y: object = None) -> ColumnPlan:
        """Decide the role of every column of ``X`` and warn about every change."""
        self.input_columns_ = list(X.columns)
        self.numeric_: list[str] = []
        self.categorical_low_: list[str] = []
        self.categorical_high_: list[str] = []
        self.datetime_: list[str] = []
        self.numeric_strings_: list[str] = []
        self.dropped_: dict[str, str] = {}
        self.categories_: dict[str, Any] = {}
        self.int_offsets_: dict[str, int] = _int_offsets(X)
        notes: list[str] = []
        n_rows = len(X)
        if self.int_offsets_:
            notes.append(f"integer columns {list(self.int_offsets_)} beyond 2**53 shifted by "
                         "their training minimum before becoming floats")
        # Plain numpy numeric columns are checked as one block: fast for very wide data.
        plain = [c for c, t in X.dtypes.items() if _is_plain_numeric(t)]
        self.plain_numeric_ = []
        if plain:
            block, bad = _float_block(X[plain], self.int_offsets_)
            n_nan = np.count_nonzero(np.isnan(block), axis=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = np.nanmin(block, axis=0), np.nanmax(block, axis=0)
            for j, name in enumerate(plain):
                if bad[j]:
                    notes.append(f"column {name!r}: {int(bad[j])} infinite or huge value(s) "
                                 "treated as missing")
                if n_nan[j] == n_rows:
                    self.dropped_[name] = ("all values missing or infinite" if bad[j]
                                           else "all values missing")
                elif n_nan[j] == 0 and lo[j] == hi[j]:
                    self.dropped_[name] = "constant"
                else:
                    self.plain_numeric_.append(name)
        self.numeric_ = list(self.plain_numeric_)
        plain_set = set(plain)
        for name in X.columns:
            if name in plain_set:
                continue
            s = X[name]
            kind = _column_kind(s)
            if s.isna().all():
                self.dropped_[name] = "all values missing"
                continue
            if kind == "object" and _holds_datetimes(s):
                kind = "datetime"
                aware = {getattr(v, "tzinfo", None) is not None for v in s.dropna()}
                if len(aware) == 2:
                    notes.append(f"column {name!r} mixes time-zone-aware and naive datetimes: "
                                 "aware ones converted to UTC, naive ones read as UTC")
            if kind == "object":
                # Whether every value (any value) is a number: asked of the distinct values
                # only, which a long text column has few of.
                parsed = pd.to_numeric(pd.Series(pd.unique(s.dropna().to_numpy(dtype=object))),
                                       errors="coerce")
                if parsed.notna().all():
                    kind = "numeric"
                    self.numeric_strings_.append(name)
                else:
                    kind = "categorical"
                    if parsed.notna().any():
                        notes.append(f"column {name!r} mixes numbers and strings: treated as "
                                     "categorical text")
            if kind == "numeric":
                values, n_bad = _to_float(s, name in self.numeric_strings_,
                                          self.int_offsets_.get(name))
                if n_bad:
                    notes.append(f"column {name!r}: {n_bad} infinite or huge value(s) "
                                 "treated as missing")
                finite = values[~np.isnan(values)]
                if finite.size == 0:
                    self.dropped_[name] = "all values missing or infinite"
                elif np.all(finite == finite[0]) and finite.size == n_rows:
                    self.dropped_[name] = "constant"
                else:
                    self.numeric_.append(name)
            elif kind == "datetime":
                self.datetime_.append(name)
                self.numeric_.extend(f"{name}__{part}" for part in _DATE_PARTS)
            else:
                self._fit_categorical(name, _as_text(s), n_rows)
        kept_strings = [c for c in self.numeric_strings_ if c not in self.dropped_]
        if kept_strings:
            notes.append(f"numeric strings converted to numbers in {kept_strings}")
        if self.datetime_:
            notes.append(f"date columns {self.datetime_} expanded into {', '.join(_DATE_PARTS)}")
        if self.dropped_:
            notes.append("dropped " + ", ".join(f"{c!r} ({why})"
                                                for c, why in self.dropped_.items()))
        if notes:
            warnings.warn("Data cleaning: " + "; ".join(notes) + ".", DataWarning, stacklevel=2)
        return self

    def _fit_categorical(self, name: str, text: pd.Series, n_rows: int) -> None:
        present = text[text != MISSING_TOKEN]
        n_unique = present.nunique()
        if n_unique <= 1 and len(present) == n_rows:
            self.dropped_[name] = "constant"
        elif n_rows >= 20 and n_unique >= 0.95 * len(present) and n_unique > 10:
            long_text = (present.str.len().mean() > 30
                         and present.str.contains(" ").mean() > 0.5)
            self.dropped_[name] = ("free text" if long_text
                                   else "ID-like (almost every value unique)")
        else:
            self.categories_[name] = set(present.unique())
            if n_unique > self.max_onehot:
                self.categorical_high_.append(name)
            else:
                self.categorical_low_.append(name)

    @property
    def n_output_columns(self) -> int:
        """How many columns :meth:`transform` returns."""
        return len(self.numeric_) + len(self.categorical_low_) + len(self.categorical_high_)

    # ------------------------------------------------------------ transform
    def transform(self, X: pd.DataFrame, warn_unknown: bool = True) -> pd.DataFrame:
        """Return a new frame of float columns followed by categorical text columns.

        Categories never seen by :meth:`fit` are mapped to ``"__unknown__"`` and, with
        ``warn_unknown``, reported in a :class:`DataWarning`.
        """
        parts = []
        if self.plain_numeric_:
            block, _ = _float_block(X[self.plain_numeric_], self.int_offsets_)
            parts.append(pd.DataFrame(block, columns=self.plain_numeric_))
        out: dict[str, np.ndarray] = {}
        plain = set(self.plain_numeric_)
        for name in self.input_columns_:
            if name in self.dropped_ or name in plain:
                continue
            s = X[name]
            if name in self.datetime_:
                out.update(_date_parts(s, name))
            elif name in self.categories_:
                text = _as_text(s)
                unseen = ~text.isin(self.categories_[name]) & (text != MISSING_TOKEN)
                if unseen.any():
                    if warn_unknown:
                        warnings.warn(
                            f"Column {name!r} has {int(unseen.sum())} value(s) not seen during "
                            f"fit (e.g. {text[unseen].iloc[0]!r}); they are treated as unknown.",
                            DataWarning, stacklevel=2)
                    text = text.where(~unseen, UNKNOWN_TOKEN)
                out[name] = text.to_numpy(dtype=object)
            else:
                out[name], _ = _to_float(s, name in self.numeric_strings_,
                                         self.int_offsets_.get(name))
        rest = [c for c in self.numeric_ if c not in plain]
        rest += self.categorical_low_ + self.categorical_high_
        if rest:
            parts.append(pd.DataFrame({c: out[c] for c in rest}))
        if not parts:
            return pd.DataFrame(index=range(len(X)))
        frame = parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)
        return frame.reset_index(drop=True)


def _is_plain_numeric(dtype: object) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in "biuf"


def _int_offsets(X: pd.DataFrame) -> dict[str, int]:
    """The integer columns whose values are not exact in float64, with their minimum."""
    offsets: dict[str, int] = {}
    for name, dtype in X.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_integer_dtype(dtype):
            continue
        values = X[name].dropna()
        if len(values) and max(abs(int(values.min())), abs(int(values.max()))) > EXACT_INT:
            offsets[str(name)] = int(values.min())
    return offsets


def _shifted(values: Any, offset: int) -> np.ndarray:
    """Integers minus ``offset`` in exact (Python) integer arithmetic, then as floats."""
    return np.array(np.asarray(values).astype(object) - offset, dtype=np.float64)


def _float_block(frame: pd.DataFrame,
                 offsets: dict[str, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A new float64 matrix with infinities and huge values set to NaN; and their counts.

    Columns named in ``offsets`` are shifted by their offset first (see :func:`_shifted`).
    """
    block = np.array(frame.to_numpy(dtype=np.float64), dtype=np.float64, copy=True)
    for j, name in enumerate(frame.columns):
        if offsets and name in offsets:
            block[:, j] = _shifted(frame[name].to_numpy(), offsets[name])
    bad = (block > HUGE_VALUE) | (block < -HUGE_VALUE)  # includes ±inf; NaN compares False
    counts = np.count_nonzero(bad, axis=0)
    if counts.any():
        block[bad] = np.nan
    return block, counts


_DATE_PARTS = ("epoch_days", "year", "month", "dayofweek", "hour")


def _column_kind(s: pd.Series) -> str:
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "numeric"
    return "object"


def _to_float(s: pd.Series, from_strings: bool = False,
              offset: int | None = None) -> tuple[np.ndarray, int]:
    """Numbers as a new float64 array; infinities and huge values become NaN.

    An ``offset`` (an integer column beyond 2**53) is subtracted exactly first.
    """
    if offset is not None:
        values = np.full(len(s), np.nan)
        present = s.notna().to_numpy()
        values[present] = _shifted(s[present].to_numpy(), offset)
        return values, 0
    if from_strings:
        s = pd.to_numeric(s, errors="coerce")
    elif pd.api.types.is_timedelta64_dtype(s.dtype):
        s = s.dt.total_seconds()
    values = np.array(pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(
        dtype=float, na_value=np.nan), dtype=np.float64, copy=True)
    bad = np.isinf(values) | (np.abs(values) > HUGE_VALUE)
    n_bad = int(bad.sum())
    if n_bad:
        values[bad] = np.nan
    return values, n_bad


def _as_text(s: pd.Series) -> pd.Series:
    """Categories as strings, with missing values as a token of their own (each distinct
    value is turned into text once)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    labels = np.array([str(u) for u in uniques] + [MISSING_TOKEN], dtype=object)
    return pd.Series(labels[codes], dtype=object)  # code -1 (missing): the last label


def _holds_datetimes(s: pd.Series) -> bool:
    """Whether an object column holds only datetimes (e.g. aware and naive ones mixed)."""
    present = s.dropna()
    return len(present) > 0 and all(isinstance(v, (datetime.datetime, np.datetime64))
                                    for v in present)


def _date_parts(s: pd.Series, name: str) -> dict[str, np.ndarray]:
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        # Datetime objects, aware and naive mixed: aware ones to UTC, naive ones as UTC.
        s = pd.to_datetime(s, utc=True, errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    epoch = (s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    parts = {
        "epoch_days": epoch,
        "year": s.dt.year,
        "month": s.dt.month,
        "dayofweek": s.dt.dayofweek,
        "hour": s.dt.hour,
    }
    return {f"{name}__{k}": _to_float(v)[0] for k, v in parts.items()}
