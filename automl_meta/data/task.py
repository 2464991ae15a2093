"""Infer whether a target calls for classification or regression."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .._types import TASKS, Task
from ..exceptions import DataError

logger = logging.getLogger(__name__)

# An integer target with at most this many distinct values is taken as class labels...
MAX_INTEGER_CLASSES = 20
# ...or with more, when the distinct values are at most this share of the rows.
MAX_CLASS_SHARE = 0.05


def infer_task(y: pd.Series, task: str = "auto") -> Task:
    """Return ``"classification"`` or ``"regression"`` for target ``y``.

    An explicit ``task`` wins. Otherwise strings, booleans and categoricals are classes,
    non-integer floats are regression, and integers are classes when they take few distinct
    values (at most 20, or at most 5 % of the rows). The decision is logged.

    Parameters
    ----------
    y : Series
        The target.
    task : {"auto", "classification", "regression"}, default "auto"
        An explicit task is returned as is.

    Examples
    --------
    >>> import pandas as pd
    >>> infer_task(pd.Series([0.5, 1.7, 2.2]))
    'regression'
    >>> infer_task(pd.Series(["a", "b", "a"]))
    'classification'
    """
    if task != "auto":
        if task not in TASKS:
            raise DataError(
                f"task must be 'auto', 'classification' or 'regression'; got {task!r}.")
        return task  # type: ignore[return-value]
    values = y.dropna()
    dtype = y.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "classification"
    if not pd.api.types.is_numeric_dtype(dtype):
        return "classification"
    arr = values.to_numpy(dtype=float)
    if arr.size and not np.all(np.isfinite(arr)):
        arr = arr[np.isfinite(arr)]
    if arr.size == 0 or not np.all(np.equal(np.mod(arr, 1), 0)):
        return "regression"
    n_unique = len(np.unique(arr))
    if n_unique <= MAX_INTEGER_CLASSES or n_unique <= MAX_CLASS_SHARE * len(arr):
        logger.info("Integer target with %d distinct values: task inferred as classification "
                    "(pass task='regression' to override).", n_unique)
        return "classification"
    logger.info("Integer target with %d distinct values: task inferred as regression "
                "(pass task='classification' to override).", n_unique)
    return "regression"
