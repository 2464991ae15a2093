"""CatBoost with native categorical handling, as a scikit-learn estimator.

The search's ``"tree"`` preprocessing hands every learner one float matrix: numbers first,
then each categorical column ordinal-encoded (``-1`` for a category unseen in training).
CatBoost is told which columns are categorical (``n_numeric`` onwards) and gets them as
integer codes, so it applies its own ordered target statistics to them instead of treating
codes as numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin


class _CatBoostBase(BaseEstimator):
    def __init__(self, *, iterations: int = 500, learning_rate: float = 0.05, depth: int = 6,
                 l2_leaf_reg: float = 3.0, n_numeric: int | None = None,
                 thread_count: int = 1, random_state: int = 0):
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.depth = depth
        self.l2_leaf_reg = l2_leaf_reg
        self.n_numeric = n_numeric
        self.thread_count = thread_count
        self.random_state = random_state

    def _frame(self, X: Any) -> pd.DataFrame:
        X = np.asarray(X, dtype=np.float64)
        frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
        for j in self.cat_features_:
            codes = frame.iloc[:, j].to_numpy()
            frame.iloc[:, j] = np.where(np.isfinite(codes), codes, -2)
            frame[frame.columns[j]] = frame.iloc[:, j].astype(np.int64)
        return frame

    def _params(self) -> dict[str, Any]:
        return dict(iterations=int(self.iterations), learning_rate=float(self.learning_rate),
                    depth=int(self.depth), l2_leaf_reg=float(self.l2_leaf_reg),
                    thread_count=max(1, int(self.thread_count)),
                    random_seed=int(self.random_state), verbose=0,
                    allow_writing_files=False)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _CatBoostBase:
        n_features = np.shape(X)[1]
        start = n_features if self.n_numeric is None else min(self.n_numeric, n_features)
        self.cat_features_ = list(range(start, n_features))
        self.n_features_in_ = n_features
        self.model_ = self._make()
        self.model_.fit(self._frame(X), np.asarray(y), cat_features=self.cat_features_,
                        sample_weight=sample_weight)
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.model_.predict(self._frame(X))).reshape(-1)

    def _make(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


class CatBoostClassifierLearner(ClassifierMixin, _CatBoostBase):
    """CatBoost classifier over the ``"tree"`` matrix; see the module docstring.

    Examples
    --------
    >>> X = np.c_[np.arange(40.0), np.arange(40) % 3]      # a number and a category code
    >>> y = (X[:, 0] > 20).astype(int)
    >>> model = CatBoostClassifierLearner(iterations=20, n_numeric=1).fit(X, y)
    >>> model.cat_features_, model.predict_proba(X[:2]).shape
    ([1], (2, 2))
    """

    def _make(self) -> Any:
        from catboost import CatBoostClassifier

        return CatBoostClassifier(**self._params())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CatBoostClassifierLearner:
        super().fit(X, y, sample_weight)
        self.classes_ = np.asarray(self.model_.classes_).astype(np.asarray(y).dtype)
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.model_.predict_proba(self._frame(X)))


class CatBoostRegressorLearner(RegressorMixin, _CatBoostBase):
    """CatBoost regressor over the ``"tree"`` matrix; see the module docstring."""

    def _make(self) -> Any:
        from catboost import CatBoostRegressor

        return CatBoostRegressor(**self._params())
