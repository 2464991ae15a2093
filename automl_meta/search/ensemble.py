"""Ensembles from a study: greedy ensemble selection over the trials' out-of-fold
predictions (Caruana et al., 2004, as auto-sklearn and AutoGluon use it), and the bagged
fold models of the chosen trials as the predictor.

Every completed trial's cross-validation leaves one out-of-fold prediction per row
(class probabilities, or values). :func:`select_ensemble` starts from nothing and adds,
``size`` times, the candidate whose addition (with replacement: a trial may be picked
again) gives the best score of the averaged prediction, ties going to the earlier
candidate; a trial's weight is how often it was picked over ``size``. The candidates are
the best trials of the search, a few per learner family (:func:`candidate_trials`).

The chosen trials predict with their cross-validation fold models, averaged
(:class:`EnsembleModel`): no member is refit on all rows, so the time a refit would take
stays with the search. Out-of-fold predictions and fold models are what the search
already computed; nothing is fitted again for the ensemble unless a member's fold models
are not at hand (a trial scored by another worker), and then its folds are refit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from ..metrics import Metric

__all__ = ["ENSEMBLE_SIZE", "MAX_CANDIDATES", "PER_FAMILY", "EnsembleModel",
           "candidate_trials", "ensemble_score", "select_ensemble"]

# Picks of the greedy selection (AutoGluon's weighted ensemble uses 25 to 40).
ENSEMBLE_SIZE = 25
# Candidates: the best trials overall, at most PER_FAMILY of a family, MAX_CANDIDATES in all.
MAX_CANDIDATES = 16
PER_FAMILY = 4


def _auc(positive: np.ndarray, score: np.ndarray, w: np.ndarray | None) -> float:
    """Binary ROC-AUC by midranks (Mann-Whitney), sample-weighted."""
    from scipy.stats import rankdata

    if w is None:
        n_pos = int(positive.sum())
        n_neg = len(positive) - n_pos
        if n_pos == 0 or n_neg == 0:
            return float("nan")
        ranks = rankdata(score)
        return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    order = np.argsort(score, kind="mergesort")
    s, pos, wt = score[order], positive[order], w[order]
    # weighted midrank AUC: pairs (pos, neg) with s_pos > s_neg count 1, ties 1/2
    uniq, start = np.unique(s, return_index=True)
    groups = np.split(np.arange(len(s)), start[1:])
    neg_below = 0.0
    total = 0.0
    for g in groups:
        wp = float(wt[g][pos[g]].sum())
        wn = float(wt[g][~pos[g]].sum())
        total += wp * (neg_below + 0.5 * wn)
        neg_below += wn
    p_all, n_all = float(wt[pos].sum()), float(wt[~pos].sum())
    return total / (p_all * n_all) if p_all > 0 and n_all > 0 else float("nan")


def fast_score(metric: Metric, y: np.ndarray, prediction: np.ndarray, n_classes: int,
               sample_weight: np.ndarray | None = None) -> float:
    """``metric`` of a prediction, computed with plain numpy: the selection scores
    hundreds of blends, and scikit-learn's checks dominate at that count. Equal to
    :mod:`automl_meta.metrics` (a test holds them together).

    >>> from automl_meta.metrics import get_metric
    >>> fast_score(get_metric("roc_auc", "classification"), np.array([0, 1, 1]),
    ...            np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), 2)
    1.0
    """
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)

    def mean(values: np.ndarray) -> float:
        return float(np.average(values, weights=w))

    name = metric.name
    if name == "roc_auc":
        if n_classes == 2:
            return _auc(y == 1, prediction[:, 1], w)
        present = np.unique(y)
        if len(present) < 2:
            return float("nan")
        proba = prediction[:, present]
        proba = proba / np.clip(proba.sum(axis=1, keepdims=True), 1e-15, None)
        return float(np.mean([_auc(y == c, proba[:, j], w) for j, c in enumerate(present)]))
    if name == "log_loss":
        proba = np.clip(prediction, 1e-15, 1.0)
        proba = proba / proba.sum(axis=1, keepdims=True)
        return mean(-np.log(proba[np.arange(len(y)), y]))
    if name in ("accuracy", "balanced_accuracy"):
        labels = np.argmax(prediction, axis=1)
        if name == "accuracy":
            return mean(labels == y)
        weights = np.ones(len(y)) if w is None else w
        recalls = [float(weights[(y == c) & (labels == c)].sum() / weights[y == c].sum())
                   for c in np.unique(y)]
        return float(np.mean(recalls))
    error = y - prediction
    if name == "r2":
        centre = np.average(y, weights=w)
        return 1.0 - mean(error ** 2) / mean((y - centre) ** 2)
    if name == "rmse":
        return float(np.sqrt(mean(error ** 2)))
    if name == "mae":
        return mean(np.abs(error))
    return metric(y, prediction, n_classes, sample_weight)  # pragma: no cover


def ensemble_score(prediction: np.ndarray, y: np.ndarray, metric: Metric, n_classes: int,
                   sample_weight: np.ndarray | None = None) -> float:
    """``metric`` of an (averaged) out-of-fold ``prediction``: probabilities for
    classification (turned into labels for label metrics), values for regression.

    >>> from automl_meta.metrics import get_metric
    >>> proba = np.array([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    >>> ensemble_score(proba, np.array([0, 1, 0]), get_metric("accuracy", "classification"), 2)
    0.6666666666666666
    """
    return fast_score(metric, y, prediction, n_classes, sample_weight)


def select_ensemble(predictions: Sequence[np.ndarray], y: np.ndarray, metric: Metric,
                    n_classes: int = 0, size: int = ENSEMBLE_SIZE,
                    sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Greedy ensemble selection with replacement over out-of-fold ``predictions``
    (one array per candidate, in the order ties are broken); returns each candidate's
    weight (picks / ``size``) and the ensemble's out-of-fold score.

    Examples
    --------
    Three regressors: the first is biased up, the second down, the third noisy; their
    mean beats each alone, and the selection finds it.

    >>> from automl_meta.metrics import get_metric
    >>> y = np.linspace(0, 1, 50)
    >>> preds = [y + 0.2, y - 0.2, y + np.sin(np.arange(50))]
    >>> weights, score = select_ensemble(preds, y, get_metric("r2", "regression"), size=4)
    >>> weights.tolist(), round(score, 3)
    ([0.5, 0.5, 0.0], 1.0)
    """
    if not predictions:
        raise ValueError("select_ensemble needs at least one candidate.")
    sign = 1.0 if metric.greater_is_better else -1.0
    stack = [np.asarray(p, dtype=np.float64) for p in predictions]
    total = np.zeros_like(stack[0])
    picks = np.zeros(len(stack), dtype=int)
    best_score = -np.inf
    for step in range(1, size + 1):
        scores = []
        for p in stack:
            value = ensemble_score((total + p) / step, y, metric, n_classes, sample_weight)
            scores.append(sign * value if np.isfinite(value) else -np.inf)
        chosen = int(np.argmax(scores))  # the first of equal scores: deterministic
        total += stack[chosen]
        picks[chosen] += 1
        best_score = scores[chosen]
    return picks / size, float(sign * best_score)


def candidate_trials(trials: Sequence[dict[str, Any]], maximize: bool,
                     max_candidates: int = MAX_CANDIDATES, per_family: int = PER_FAMILY
                     ) -> list[dict[str, Any]]:
    """The ensemble's candidates among ``trials`` (dicts with ``number``, ``learner`` and
    ``score``): best first, at most ``per_family`` of one learner family, so that the
    selection can mix families; ties by trial number.

    >>> trials = [{"number": i, "learner": lr, "score": s} for i, (lr, s) in enumerate(
    ...     [("a", 0.9), ("a", 0.89), ("a", 0.88), ("b", 0.8)])]
    >>> [t["number"] for t in candidate_trials(trials, True, max_candidates=3, per_family=2)]
    [0, 1, 3]
    """
    ordered = sorted(trials, key=lambda t: ((-t["score"] if maximize else t["score"]),
                                            t["number"]))
    out, per = [], {}  # type: ignore[var-annotated]
    for t in ordered:
        if per.get(t["learner"], 0) < per_family:
            out.append(t)
            per[t["learner"]] = per.get(t["learner"], 0) + 1
        if len(out) == max_candidates:
            break
    return out


def _aligned(estimator: Any, X: Any, n_classes: int) -> np.ndarray:
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    classes = np.asarray(estimator.classes_, dtype=int)
    out = np.zeros((proba.shape[0], n_classes))
    out[:, classes] = proba
    return out


class EnsembleModel(BaseEstimator):
    """The weighted average of members, each the average of its fold models.

    ``members`` is a list of ``(weight, [fitted pipelines])``; the pipelines take the
    cleaned frame (after the column plan) and predict class indices ``0..n_classes-1``
    or values. Classification averages probabilities; regression averages values.

    Examples
    --------
    >>> from sklearn.dummy import DummyRegressor
    >>> X = np.zeros((4, 1))
    >>> folds = [DummyRegressor(strategy="constant", constant=c).fit(X, [0] * 4)
    ...          for c in (1.0, 3.0)]
    >>> EnsembleModel([(1.0, folds)], "regression").predict(X).tolist()
    [2.0, 2.0, 2.0, 2.0]
    """

    def __init__(self, members: list[tuple[float, list[Any]]], task: str,
                 n_classes: int = 0):
        self.members = members
        self.task = task
        self.n_classes = n_classes

    @property
    def classes_(self) -> np.ndarray:
        return np.arange(self.n_classes)

    def fit(self, X: Any = None, y: Any = None) -> EnsembleModel:
        """Nothing to fit: the members are the trials' fitted fold models."""
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def predict_proba(self, X: Any) -> np.ndarray:
        if self.task != "classification":
            raise AttributeError("predict_proba is for classification ensembles.")
        out = np.zeros((len(X), self.n_classes))
        for weight, models in self.members:
            member = sum(_aligned(m, X, self.n_classes) for m in models) / len(models)
            out += weight * member
        return out / sum(w for w, _ in self.members)

    def predict(self, X: Any) -> np.ndarray:
        if self.task == "classification":
            return np.argmax(self.predict_proba(X), axis=1)
        out = np.zeros(len(X))
        for weight, models in self.members:
            out += weight * sum(np.asarray(m.predict(X), dtype=np.float64)
                                for m in models) / len(models)
        return out / sum(w for w, _ in self.members)
