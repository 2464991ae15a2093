"""Evaluation metrics: one place that knows each metric's direction and inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from ._types import Task
from .exceptions import DataError

__all__ = ["Metric", "METRICS", "get_metric", "default_metric"]


@dataclass(frozen=True)
class Metric:
    """A scoring rule.

    ``func(y_true, prediction, n_classes, sample_weight)`` receives class indices and a
    probability matrix with one column per class when ``needs_proba`` is true, else the
    plain predictions.
    """

    name: str
    task: Task
    greater_is_better: bool
    needs_proba: bool
    func: Callable[..., float]

    @property
    def direction(self) -> str:
        """The Optuna study direction for this metric."""
        return "maximize" if self.greater_is_better else "minimize"

    def __call__(self, y_true, prediction, n_classes: int = 0, sample_weight=None) -> float:
        return float(self.func(y_true, prediction, n_classes, sample_weight))


def _accuracy(y, pred, n_classes, w):
    return skm.accuracy_score(y, pred, sample_weight=w)


def _balanced_accuracy(y, pred, n_classes, w):
    return skm.balanced_accuracy_score(y, pred, sample_weight=w)


def _roc_auc(y, proba, n_classes, w):
    present = np.unique(y)
    if len(present) < 2:
        return float("nan")
    if n_classes == 2:
        return skm.roc_auc_score(y, proba[:, 1], sample_weight=w)
    # One-vs-rest, averaged over the classes present in this fold.
    proba = proba[:, present]
    proba = proba / np.clip(proba.sum(axis=1, keepdims=True), 1e-15, None)
    return skm.roc_auc_score(y, proba, multi_class="ovr", labels=present, sample_weight=w)


def _log_loss(y, proba, n_classes, w):
    proba = np.clip(proba, 1e-15, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    return skm.log_loss(y, proba, labels=np.arange(n_classes), sample_weight=w)


def _r2(y, pred, n_classes, w):
    return skm.r2_score(y, pred, sample_weight=w)


def _rmse(y, pred, n_classes, w):
    return skm.root_mean_squared_error(y, pred, sample_weight=w)


def _mae(y, pred, n_classes, w):
    return skm.mean_absolute_error(y, pred, sample_weight=w)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("accuracy", "classification", True, False, _accuracy),
        Metric("balanced_accuracy", "classification", True, False, _balanced_accuracy),
        Metric("roc_auc", "classification", True, True, _roc_auc),
        Metric("log_loss", "classification", False, True, _log_loss),
        Metric("r2", "regression", True, False, _r2),
        Metric("rmse", "regression", False, False, _rmse),
        Metric("mae", "regression", False, False, _mae),
    ]
}


def default_metric(task: Task, n_classes: int = 0) -> str:
    """The metric used when none is given.

    ROC-AUC for binary classification (threshold-free, so it stays meaningful under class
    imbalance), log-loss for multiclass, R² for regression: the same defaults as FLAML, our
    headline comparison.
    """
    if task == "regression":
        return "r2"
    return "roc_auc" if n_classes <= 2 else "log_loss"


def get_metric(name: str | None, task: Task, n_classes: int = 0) -> Metric:
    """Look a metric up by name, checking that it suits the task."""
    if name is None:
        name = default_metric(task, n_classes)
    key = name.lower().replace("-", "_")
    key = {"auc": "roc_auc", "logloss": "log_loss", "neg_log_loss": "log_loss"}.get(key, key)
    if key not in METRICS:
        raise DataError(f"Unknown metric {name!r}. Choose one of: {', '.join(METRICS)}.")
    metric = METRICS[key]
    if metric.task != task:
        valid = [m for m, v in METRICS.items() if v.task == task]
        raise DataError(
            f"Metric {name!r} is for {metric.task}, but the task is {task}. "
            f"Choose one of: {', '.join(valid)}."
        )
    return metric
