"""The objective: cross-validate one configuration, or refit it on all the data.

Runs in whichever process evaluates trials (a worker, normally). Preprocessed fold matrices
are cached per preprocessing flavour, so a trial pays for its model's fit, not for
re-imputing and re-encoding the same folds.
"""

from __future__ import annotations

import logging
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from .._types import Task, TrialOutcome
from ..data.plan import ColumnPlan
from ..data.preprocessing import make_preprocessor
from ..learners import LEARNERS, build_estimator, load_learner_modules
from ..learners.registry import learner_threads
from ..metrics import get_metric
from ..search_space import config_learner, default_configs, learner_params

logger = logging.getLogger(__name__)

# Fold matrices are cached while the cleaned data stays under this size.
MAX_CACHED_BYTES = 512 * 1024**2
# The fold models of a worker's this many best trials go back with their outcomes, for
# the ensemble's members ...
KEEP_FOLD_MODELS = 16
# ... while its resident memory stays under this share of its memory cap.
KEEP_MEMORY_SHARE = 0.5


def _memory_to_spare() -> bool:
    """Whether fold models may be handed back: this process's resident memory is under
    ``KEEP_MEMORY_SHARE`` of its cap (``$AUTOML_META_WORKER_MEMORY``, else physical
    memory)."""
    import os

    from .._system import total_memory_bytes

    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            resident = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return True
    cap = int(os.environ.get("AUTOML_META_WORKER_MEMORY") or total_memory_bytes())
    return resident < KEEP_MEMORY_SHARE * cap


@dataclass
class EvaluationData:
    """Everything a worker needs to evaluate trials; pickled once and sent once.

    Attributes
    ----------
    X : DataFrame
        The features cleaned by ``plan`` (numbers and category text).
    y : ndarray
        Class indices 0..k-1, or values for regression.
    folds : list of (ndarray, ndarray)
        The cross-validation folds' train and test rows.
    plan : ColumnPlan
        The fitted column plan.
    task : {"classification", "regression"}
        The task.
    metric : str
        The metric every trial is scored by.
    n_classes : int
        Classes of a classification target (0 for regression).
    sample_weight : ndarray or None
        Per-row weights.
    n_threads : int
        Threads per trial.
    device : str
        Where torch learners train.
    meta_init : str or None
        The meta-learned initialisation (None: the shipped one).
    extra : dict
        Free-form settings carried with the data (the built-in learners read none).
    """

    X: pd.DataFrame  # cleaned by ``plan`` (numbers and category text)
    y: np.ndarray  # class indices 0..k-1, or floats
    folds: list[tuple[np.ndarray, np.ndarray]]
    plan: ColumnPlan
    task: Task
    metric: str
    n_classes: int = 0
    sample_weight: np.ndarray | None = None
    n_threads: int = 1
    device: str = "auto"
    meta_init: str | None = None  # mlp_meta/protonet's initialisation (None: the shipped one)
    extra: dict[str, Any] = field(default_factory=dict)


def failure_from_exception(exc: BaseException) -> TrialOutcome:
    """Map an exception raised by a learner to a failed outcome with a reason."""
    name = type(exc).__name__
    text = str(exc)
    if name == "OutOfMemoryError" or "CUDA out of memory" in text:
        reason = "cuda-oom"
    elif isinstance(exc, MemoryError):
        reason = "memory"
    else:
        reason = "error"
    tail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-3:])
    return TrialOutcome(ok=False, failure_reason=reason,  # type: ignore[arg-type]
                        failure_message=f"{name}: {text}"[:2000], extra={"traceback": tail})


def _aligned_proba(estimator: Any, X: np.ndarray, n_classes: int) -> np.ndarray:
    """``predict_proba`` with one column per class, even for classes the fold lacked."""
    proba = estimator.predict_proba(X)
    classes = np.asarray(estimator.classes_, dtype=int)
    out = np.zeros((proba.shape[0], n_classes))
    out[:, classes] = proba
    return out


class Evaluator:
    """Evaluate configurations on :class:`EvaluationData`.

    Parameters
    ----------
    data : EvaluationData
        What every trial is evaluated on.

    Examples
    --------
    >>> import numpy as np, pandas as pd, warnings
    >>> warnings.simplefilter("ignore")
    >>> from automl_meta.data import ColumnPlan, make_folds
    >>> X = pd.DataFrame({"a": np.arange(40.0)}); y = (X["a"] > 20).to_numpy().astype(int)
    >>> data = EvaluationData(X, y, make_folds(y, "classification", 4), ColumnPlan().fit(X),
    ...                       "classification", "accuracy", n_classes=2)
    >>> Evaluator(data).evaluate({"learner": "linear", "linear.C": 10.0}, seed=0).ok
    True
    """

    def __init__(self, data: EvaluationData):
        load_learner_modules()  # learners registered from outside the package
        self.data = data
        self.metric = get_metric(data.metric, data.task, data.n_classes)
        self._cache: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, Any]] = {}
        # The fold models of the best trials so far, by trial seed (for ensembles).
        self._kept: dict[int, float] = {}
        self._use_cache = int(data.X.memory_usage(deep=True).sum()) < MAX_CACHED_BYTES
        self._prepared: set[str] = set()

    def prepare(self, config: dict[str, Any]) -> None:
        """Pay the one-off costs of the first trial of ``config``'s learner family in this
        process: import its modules (building its default estimator does) and, for the
        torch families, torch's optimiser machinery and the meta-learned initialisation.

        A worker does this before it acknowledges a trial, and a trial's time limit
        starts at the acknowledgement: otherwise a worker's first torch trial spends about
        2 s importing (measured: an ``mlp_meta`` trial on iris, 1.9 s first against 0.24 s
        second), which a short ``trial_timeout`` counts against the trial. Families are
        prepared on first use, not all up front: importing torch maps memory that a
        search without torch trials should keep under its worker's memory cap. A family
        whose preparation fails is left for its trial to report the failure.
        """
        learner = config_learner(config)
        if learner in self._prepared:
            return
        self._prepared.add(learner)
        d = self.data
        try:
            for default in default_configs([learner], d.task):
                self._build(default, 0, len(d.y))
            if LEARNERS[learner].torch:
                from ..learners.torch.mlp import warm_up_torch

                warm_up_torch()
            if LEARNERS[learner].meta_init:
                from ..learners.torch.initialisation import load_cached_initialisation

                load_cached_initialisation(d.meta_init)
        except Exception as exc:  # noqa: BLE001 - the family's trial reports it
            logger.debug("Preparing %s failed (%s); its trial will report it.", learner, exc)

    def _fold(self, kind: str, i: int) -> tuple[np.ndarray, np.ndarray, Any]:
        """Fold ``i``'s preprocessed (train, test) matrices for one preprocessing kind, and
        the preprocessor fitted on its training rows."""
        key = (kind, i)
        if key in self._cache:
            return self._cache[key]
        d = self.data
        train, test = d.folds[i]
        prep = make_preprocessor(d.plan, kind, d.task)  # type: ignore[arg-type]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X_train = prep.fit_transform(d.X.iloc[train], d.y[train])
            X_test = prep.transform(d.X.iloc[test])
        result = (np.asarray(X_train, dtype=np.float64), np.asarray(X_test, dtype=np.float64),
                  prep)
        if self._use_cache:
            self._cache[key] = result
        return result

    def _build(self, config: dict[str, Any], seed: int, n_train: int) -> Any:
        d = self.data
        learner = config_learner(config)
        return build_estimator(learner, learner_params(config), d.task, random_state=seed,
                               n_threads=learner_threads(learner, len(d.y), d.n_threads),
                               n_train=n_train,
                               device=d.device, meta_init=d.meta_init,
                               n_numeric=len(d.plan.numeric_))

    def _fit(self, estimator: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None,
             learner: str) -> Any:
        if w is not None and LEARNERS[learner].sample_weight:
            return estimator.fit(X, y, sample_weight=w)
        return estimator.fit(X, y)

    def evaluate(self, config: dict[str, Any], seed: int) -> TrialOutcome:
        """Cross-validate ``config``; never raises for a learner's failure."""
        try:
            # OpenMP/BLAS pools (HistGradientBoosting, numpy) get the same thread budget as
            # learners with an n_jobs: parallel workers must not oversubscribe the cores.
            threads = learner_threads(config_learner(config), len(self.data.y),
                                      self.data.n_threads)
            with threadpool_limits(limits=threads):
                return self._evaluate(config, seed)
        except Exception as exc:  # noqa: BLE001 - any learner failure is a failed trial
            return failure_from_exception(exc)

    def _evaluate(self, config: dict[str, Any], seed: int) -> TrialOutcome:
        d = self.data
        kind = LEARNERS[config_learner(config)].preprocessing
        fold_scores: list[float] = []
        fit_time = 0.0
        # out-of-fold predictions: probabilities for classification whatever the metric
        # (ensembles average them), values for regression
        oof: np.ndarray | None = None
        models: list[Pipeline] = []
        clf = d.task == "classification"
        for i, (train, test) in enumerate(d.folds):
            X_train, X_test, prep = self._fold(kind, i)
            y_train = d.y[train]
            w_train = None if d.sample_weight is None else d.sample_weight[train]
            w_test = None if d.sample_weight is None else d.sample_weight[test]
            fold_config = config
            if clf and len(np.unique(y_train)) < 2:
                fold_config = {"learner": "baseline"}  # the fold's training rows hold 1 class
            estimator = self._build(fold_config, seed, len(train))
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._fit(estimator, X_train, y_train, w_train, config_learner(fold_config))
                fit_time += time.perf_counter() - start
                if clf:  # probabilities kept whatever the metric; labels where it wants them
                    kept = _aligned_proba(estimator, X_test, d.n_classes)
                    pred = kept if self.metric.needs_proba else np.asarray(
                        estimator.predict(X_test))
                else:
                    kept = pred = np.asarray(estimator.predict(X_test))
                if np.issubdtype(kept.dtype, np.floating) and not np.all(np.isfinite(kept)):
                    return TrialOutcome(ok=False, fold_scores=fold_scores, fit_time=fit_time,
                                        failure_reason="nan-score",
                                        failure_message=f"fold {i}: the learner predicted NaN "
                                                        "or infinity")
                if oof is None:
                    oof = np.zeros((len(d.y), *kept.shape[1:]), dtype=np.float64)
                oof[test] = kept
                fold_scores.append(self.metric(d.y[test], pred, d.n_classes, w_test))
            models.append(Pipeline([("preprocess", prep), ("model", estimator)]))
        assert oof is not None  # every fold predicted
        if all(np.isfinite(fold_scores)):
            score = float(np.mean(fold_scores))
        else:  # e.g. R² of a one-row fold: score the pooled out-of-fold predictions
            pooled = np.argmax(oof, axis=1) if clf and not self.metric.needs_proba else oof
            score = self.metric(d.y, pooled, d.n_classes, d.sample_weight)
        if not np.isfinite(score):
            return TrialOutcome(ok=False, fold_scores=fold_scores, fit_time=fit_time,
                                failure_reason="nan-score",
                                failure_message="the score is NaN or infinite on every fold")
        extra: dict[str, Any] = {"device": estimator.device_} if hasattr(
            estimator, "device_") else {}
        if oof is not None:
            extra["oof"] = oof.astype(np.float32)
        if self._keep(seed, score, models):
            extra["fold_models"] = models  # travel with the outcome: a killed worker
            # (a trial stopped by the budget) would lose them
        return TrialOutcome(ok=True, score=score, fold_scores=fold_scores, fit_time=fit_time,
                            extra=extra)

    # ------------------------------------------------------------- ensembles
    def _keep(self, seed: int, score: float, models: list[Pipeline]) -> bool:
        """Whether this trial is among the :data:`KEEP_FOLD_MODELS` best this evaluator
        has scored (its fold models then go back with its outcome, for the ensemble),
        unless memory is getting short."""
        if KEEP_FOLD_MODELS <= 0 or not _memory_to_spare():
            return False
        sign = 1.0 if self.metric.greater_is_better else -1.0
        self._kept[seed] = sign * score
        if len(self._kept) > KEEP_FOLD_MODELS:
            worst = min(self._kept, key=lambda k: self._kept[k])
            del self._kept[worst]
        return seed in self._kept

    def fold_refit(self, config: dict[str, Any], seed: int) -> list[Pipeline]:
        """Fit ``config`` on every fold's training rows again: the fold models of a trial
        whose models are not kept here (scored by another worker)."""
        d = self.data
        kind = LEARNERS[config_learner(config)].preprocessing
        models = []
        threads = learner_threads(config_learner(config), len(d.y), d.n_threads)
        with threadpool_limits(limits=threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, (train, _) in enumerate(d.folds):
                X_train, _, prep = self._fold(kind, i)
                fold_config = config
                if d.task == "classification" and len(np.unique(d.y[train])) < 2:
                    fold_config = {"learner": "baseline"}
                estimator = self._build(fold_config, seed, len(train))
                w = None if d.sample_weight is None else d.sample_weight[train]
                self._fit(estimator, X_train, d.y[train], w, config_learner(fold_config))
                models.append(Pipeline([("preprocess", prep), ("model", estimator)]))
        return models

    def refit(self, config: dict[str, Any], seed: int) -> Pipeline:
        """Fit ``config`` on all rows; returns the fitted (preprocessing, model) pipeline."""
        d = self.data
        learner = config_learner(config)
        prep = make_preprocessor(d.plan, LEARNERS[learner].preprocessing, d.task)
        estimator = self._build(config, seed, len(d.y))
        pipe = Pipeline([("preprocess", prep), ("model", estimator)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kwargs = {}
            if d.sample_weight is not None and LEARNERS[learner].sample_weight:
                kwargs["model__sample_weight"] = d.sample_weight
            with threadpool_limits(limits=learner_threads(learner, len(d.y), d.n_threads)):
                pipe.fit(d.X, d.y, **kwargs)
        return pipe
