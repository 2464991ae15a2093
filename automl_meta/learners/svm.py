"""An RBF SVM classifier with calibrated probabilities.

scikit-learn deprecates ``SVC(probability=True)``; this wraps ``SVC`` in Platt scaling
(``CalibratedClassifierCV``) with as many calibration folds as the smallest class allows.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC


class SVMClassifier(ClassifierMixin, BaseEstimator):
    """RBF-kernel SVM whose ``predict_proba`` is Platt-calibrated.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.zeros((6, 1)), np.ones((6, 1))]; y = np.r_[[0] * 6, [1] * 6]
    >>> SVMClassifier().fit(X, y).predict_proba(X).shape
    (12, 2)
    """

    def __init__(self, C: float = 1.0, gamma: float | str = "scale", random_state: int = 0):
        self.C = C
        self.gamma = gamma
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        y = np.asarray(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        svc = SVC(C=self.C, gamma=self.gamma, random_state=self.random_state)
        n_cal = int(min(3, counts.min()))
        if len(self.classes_) < 2:
            raise ValueError("SVMClassifier needs samples of at least 2 classes.")
        if n_cal >= 2:
            self.model_ = CalibratedClassifierCV(svc, method="sigmoid", cv=n_cal, ensemble=False)
        else:  # a class with one member: no calibration folds possible
            self.model_ = svc
        self.model_.fit(X, y, sample_weight=sample_weight)
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        if hasattr(self.model_, "predict_proba") and isinstance(self.model_,
                                                                CalibratedClassifierCV):
            return self.model_.predict_proba(X)
        scores = self.model_.decision_function(X)
        if scores.ndim == 1:
            scores = np.c_[-scores, scores]
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)
