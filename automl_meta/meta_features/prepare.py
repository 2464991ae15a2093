"""Turn a :class:`~automl_meta.data.PreparedDataset` into the matrices the feature groups
share."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._types import Task
from ..data.plan import ColumnPlan
from ..data.prepared import PreparedDataset


@dataclass
class PreparedData:
    """Inputs shared by every feature group (built once per ``extract`` call)."""

    numeric: np.ndarray  # float, NaN kept; numeric columns after cleaning
    categorical: np.ndarray  # int codes, -1 for missing; categorical columns
    y: np.ndarray  # class indices, or float targets
    task: Task
    n_classes: int
    n_input_columns: int
    missing_share: float
    rows_with_missing_share: float
    cols_with_missing_share: float
    rng_seed: int

    @property
    def n_rows(self) -> int:
        return len(self.y)

    def subsample(self, max_rows: int) -> np.ndarray:
        """Deterministic row indices: all rows, or a seeded sample of ``max_rows``."""
        if self.n_rows <= max_rows:
            return np.arange(self.n_rows)
        rng = np.random.default_rng(self.rng_seed)
        return np.sort(rng.choice(self.n_rows, size=max_rows, replace=False))

    def columns(self, max_columns: int) -> tuple[np.ndarray, np.ndarray]:
        """Deterministic column indices ``(numeric, categorical)``: all columns, or a
        seeded sample of ``max_columns`` keeping the two kinds' proportions, so that the
        costly groups stay bounded on very wide data."""
        n_num, n_cat = self.numeric.shape[1], self.categorical.shape[1]
        if n_num + n_cat <= max_columns:
            return np.arange(n_num), np.arange(n_cat)
        take_num = min(n_num, max(1 if n_num else 0,
                                  round(max_columns * n_num / (n_num + n_cat))))
        take_cat = min(n_cat, max_columns - take_num)
        rng = np.random.default_rng(self.rng_seed + 1)
        return (np.sort(rng.choice(n_num, take_num, replace=False)),
                np.sort(rng.choice(n_cat, take_cat, replace=False)))

    def imputed(self, rows: np.ndarray, max_columns: int | None = None) -> np.ndarray:
        """Numeric columns plus categorical codes, NaN replaced by column medians (at most
        ``max_columns`` columns, a seeded sample: :meth:`columns`)."""
        num, cat = (slice(None), slice(None)) if max_columns is None else self.columns(
            max_columns)
        block = np.hstack([self.numeric[rows][:, num],
                           self.categorical[rows][:, cat].astype(float)])
        if block.size == 0:
            return block
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(block, axis=0)
        med = np.where(np.isfinite(med), med, 0.0)
        nan = np.isnan(block)
        if nan.any():
            block = np.where(nan, med, block)
        return block


def from_dataset(dataset: PreparedDataset, random_state: int = 0) -> PreparedData:
    """The groups' inputs from a fit's :class:`~automl_meta.data.PreparedDataset` (its
    validated frame, column plan and cleaned matrix; nothing is checked or cleaned again)."""
    return _shared_inputs(dataset.frame, dataset.y, dataset.task, dataset.plan, dataset.X,
                          random_state)


def _shared_inputs(frame: pd.DataFrame, target: pd.Series, resolved: Task, plan: ColumnPlan,
                   clean: pd.DataFrame, random_state: int) -> PreparedData:
    raw_missing = frame.isna().to_numpy()
    numeric = clean[plan.numeric_].to_numpy(dtype=float) if plan.numeric_ else np.empty(
        (len(frame), 0))
    cats = plan.categorical_low_ + plan.categorical_high_
    codes = np.empty((len(frame), len(cats)), dtype=np.int64)
    for j, name in enumerate(cats):
        codes[:, j] = pd.factorize(clean[name], sort=True)[0]
    if resolved == "classification":
        _, y_idx = np.unique(np.asarray(target).astype(str), return_inverse=True)
        y_arr, n_classes = y_idx.astype(np.int64), int(y_idx.max()) + 1
    else:
        y_arr, n_classes = target.to_numpy(dtype=float), 0
    return PreparedData(
        numeric=numeric, categorical=codes, y=y_arr, task=resolved, n_classes=n_classes,
        n_input_columns=frame.shape[1],
        missing_share=float(raw_missing.mean()) if raw_missing.size else 0.0,
        rows_with_missing_share=float(raw_missing.any(axis=1).mean()) if raw_missing.size
        else 0.0,
        cols_with_missing_share=float(raw_missing.any(axis=0).mean()) if raw_missing.size
        else 0.0,
        rng_seed=random_state,
    )
