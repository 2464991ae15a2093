"""A learner that fails on purpose, to test that a search survives its learners.

Registered as the ``"fault_injection"`` learner (never searched by default). Its ``mode``
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

import numpy as np
from sklearn.base import BaseEstimator

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
