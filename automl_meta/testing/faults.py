"""A learner that fails on purpose, to test that a search survives its learners.

Importing this module registers it as the ``"fault_injection"`` learner (searched only
where ``learners`` names it); name the module in ``AUTOML_META_LEARNER_MODULES`` so that
trial workers register it too (the test suite's ``conftest.py`` does). Its ``mode``
hyperparameter picks the failure: ``"raise"``, ``"hang"``, ``"segfault"``, ``"memory"``
(allocates until the worker's memory cap stops it), ``"killed"`` (SIGKILL, as the kernel's
out-of-memory killer does), ``"nan"`` (predicts NaN) or ``"ok"`` (predicts the majority
class / the mean).
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from typing import Any

import numpy as np
from optuna.distributions import CategoricalDistribution
from sklearn.base import BaseEstimator

from ..learners import BuildContext, LearnerSpec, register_learner

FAULT_MODES = ("ok", "raise", "hang", "segfault", "memory", "nan", "killed")


class FaultyEstimator(BaseEstimator):
    """An estimator whose ``fit`` misbehaves as ``mode`` says."""

    def __init__(self, mode: str = "ok", task: str = "classification"):
        self.mode = mode
        self.task = task

    def fit(self, X, y, sample_weight=None):
        if self.mode == "raise":
            raise RuntimeError("fault injection: this learner always raises")
        if self.mode == "hang":
            time.sleep(3600)
        if self.mode == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        if self.mode == "segfault":
            ctypes.string_at(0)  # reads address 0: SIGSEGV
        if self.mode == "memory":
            hoard = []
            while True:  # until the address-space cap raises MemoryError
                hoard.append(np.ones(256 * 1024**2 // 8))
        y = np.asarray(y)
        if self.task == "classification":
            self.classes_, counts = np.unique(y, return_counts=True)
            self.majority_ = self.classes_[np.argmax(counts)]
        else:
            self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        n = len(X)
        if self.mode == "nan":
            return np.full(n, np.nan)
        if self.task == "classification":
            return np.full(n, self.majority_)
        return np.full(n, self.mean_)

    def predict_proba(self, X):
        proba = np.zeros((len(X), len(self.classes_)))
        if self.mode == "nan":
            return proba + np.nan
        proba[:, int(np.searchsorted(self.classes_, self.majority_))] = 1.0
        return proba


def _build(params: dict[str, Any], context: BuildContext) -> FaultyEstimator:
    return FaultyEstimator(mode=params["mode"], task=context.task)


FAULT_LEARNER = LearnerSpec(
    "fault_injection", "tree", "fails on purpose (testing only)", _build, searched=False,
    space={"any": {"mode": CategoricalDistribution(list(FAULT_MODES))}})
register_learner(FAULT_LEARNER)
