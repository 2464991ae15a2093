"""One dataset, validated, cleaned and encoded once (:class:`PreparedDataset`).

A fit reads its data through one of these: the meta-features, the warm start and the
search all take the same validated frame, column plan, cleaned matrix, encoded target
and folds, so no stage checks, cleans or encodes the data again.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._types import Task
from ..exceptions import TargetError
from .fingerprint import dataset_fingerprint
from .plan import ColumnPlan, DataWarning
from .splits import make_folds
from .validation import (
    check_sample_weight,
    check_X_y,
    encode_target,
    warn_conflicting_duplicates,
)

__all__ = ["PreparedDataset", "prepare_dataset"]


@dataclass(frozen=True, eq=False)
class PreparedDataset:
    """A dataset ready for the search.

    Attributes
    ----------
    frame : DataFrame
        The validated features (string column names, positional index).
    y : Series
        The validated target, as given (labels or values).
    task : {"classification", "regression"}
    target : ndarray
        The encoded target: class indices (into ``classes``) or float values.
    classes : ndarray or None
        The sorted class labels (classification).
    weights : ndarray or None
        The validated sample weights.
    plan : ColumnPlan
        The fitted cleaning plan of ``frame``.
    X : ndarray or sparse matrix
        ``plan.transform(frame)``: what the learners are fitted on.
    folds : list of (train_index, test_index)
        The cross-validation folds.
    fingerprint : str
        :func:`~automl_meta.data.dataset_fingerprint` of ``frame`` and ``y``.
    """

    frame: pd.DataFrame
    y: pd.Series
    task: Task
    target: np.ndarray
    classes: np.ndarray | None
    weights: np.ndarray | None
    plan: ColumnPlan
    X: Any
    folds: list[tuple[np.ndarray, np.ndarray]]
    fingerprint: str

    @property
    def n_classes(self) -> int:
        """The number of classes (0 for regression)."""
        return 0 if self.classes is None else len(self.classes)

    def trivial_reasons(self) -> list[str]:
        """Why only a baseline model can be fitted (no usable feature, a constant
        regression target); empty when other models can."""
        reasons = []
        if self.plan.n_output_columns == 0:
            reasons.append("No usable feature columns (none given, or all dropped by "
                           "cleaning): fitting a baseline model that ignores X.")
        if self.task == "regression" and np.ptp(self.target) == 0:
            reasons.append(f"The target is constant ({float(self.target[0])!r}): fitting a "
                           "baseline that predicts it.")
        return reasons


def prepare_dataset(X: Any, y: Any, task: Task, *, sample_weight: Any = None,
                    cv: int = 5, random_state: int = 0) -> PreparedDataset:
    """Validate, clean and encode ``X`` and ``y`` once, for a ``task`` search with ``cv``
    folds.

    Raises the validation errors of :func:`~automl_meta.data.check_X_y`,
    :func:`~automl_meta.data.check_sample_weight` and the target encoding (one class
    only, also when only one class has positive weight); the cleaning plan's notes and a
    warning for identical feature rows with different targets are
    :class:`~automl_meta.data.DataWarning` s, shown once.

    Parameters
    ----------
    X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
        The features, as :func:`~automl_meta.data.check_X` accepts them.
    y : array-like of shape (n_samples,)
        The target.
    task : {"classification", "regression"}
        The task (already inferred).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative row weights.
    cv : int, default 5
        Cross-validation folds (fewer where the data is too small; logged).
    random_state : int, default 0
        Seeds the folds.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    >>> p = prepare_dataset(X, ["no", "yes", "no", "yes"], "classification", cv=2)
    >>> p.classes.tolist(), p.target.tolist(), len(p.folds), p.X.shape
    (['no', 'yes'], [0, 1, 0, 1], 2, (4, 2))
    """
    frame, y_series = check_X_y(X, y)
    weights = check_sample_weight(sample_weight, len(frame))
    classes, target, n_classes = encode_target(y_series, task)
    if weights is not None and n_classes and len(np.unique(target[weights > 0])) < 2:
        raise TargetError("Only 1 class has a positive sample_weight; classification needs "
                          "at least 2 classes with weight.")
    with warnings.catch_warnings():
        # Cleaning warnings are shown to the caller once, attributed to this call.
        warnings.simplefilter("always", DataWarning)
        plan = ColumnPlan().fit(frame)
    X_clean = plan.transform(frame)
    warn_conflicting_duplicates(frame, y_series)
    return PreparedDataset(
        frame=frame, y=y_series, task=task, target=target, classes=classes,
        weights=weights, plan=plan, X=X_clean,
        folds=make_folds(target, task, cv, random_state),
        fingerprint=dataset_fingerprint(frame, y_series))
