"""Cross-validation folds that adapt to tiny and imbalanced datasets."""

from __future__ import annotations

import logging
import warnings

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from .._types import Task

logger = logging.getLogger(__name__)


def make_folds(
    y: np.ndarray, task: Task, n_folds: int = 5, random_state: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return ``(train_index, test_index)`` pairs.

    Classification is stratified. With fewer rows than folds, or a smallest class with
    fewer members than folds, the number of folds drops (to 2 at the least) and the change
    is logged; a class with a single member lands in one test fold and that fold's models
    never see it, which the metrics handle.

    Parameters
    ----------
    y : ndarray
        The encoded target (class indices or values).
    task : {"classification", "regression"}
        Classification folds are stratified.
    n_folds : int, default 5
        The folds wanted (fewer where the data cannot hold them).
    random_state : int, default 0
        Seed of the shuffle.

    Examples
    --------
    >>> import numpy as np
    >>> len(make_folds(np.array([0, 1] * 10), "classification", n_folds=5))
    5
    >>> len(make_folds(np.array([0, 1, 0, 1]), "classification", n_folds=5))
    2
    """
    n = len(y)
    k = max(2, min(n_folds, n))
    if task == "classification":
        counts = np.bincount(y)
        counts = counts[counts > 0]
        k = max(2, min(k, int(counts.max())))
        if counts.min() < k:
            logger.warning(
                "The smallest class has %d member(s), fewer than %d folds: some folds will "
                "not contain it.", counts.min(), k)
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*least populated class.*")
            folds = list(splitter.split(np.zeros((n, 1)), y))
    else:
        splitter = KFold(n_splits=k, shuffle=True, random_state=random_state)
        folds = list(splitter.split(np.zeros((n, 1))))
    if k < n_folds:
        logger.info("Using %d cross-validation folds instead of %d for %d rows.", k, n_folds, n)
    return folds
