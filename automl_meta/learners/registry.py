"""The learner registry: what each family needs and how to build its estimator.

Hyperparameter distributions live in :mod:`automl_meta.search_space`; this module turns a
sampled configuration into an unfitted scikit-learn compatible estimator.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._system import cpu_count
from .._types import Task
from ..data.preprocessing import PreprocessingKind
from ..exceptions import DataError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearnerSpec:
    """Static facts about a learner family.

    ``max_rows``: the family is left out of the search above this many rows (kernel SVMs
    scale quadratically). ``sample_weight``: whether its ``fit`` accepts sample weights.
    ``tasks``: the tasks it can learn. ``torch``: it trains with torch (imported only by
    its trials). ``meta_init``: it starts from the meta-learned initialisation.

    Attributes
    ----------
    name : str
        The family's name, as in the ``learner`` parameter of a trial.
    preprocessing : {"scaled", "tree", "native"}
        How its input is prepared (:func:`automl_meta.data.make_preprocessor`).
    description : str
        One line for people (CLI and reports).
    max_rows : int or None
        Left out of the search above this many rows (kernel SVMs scale quadratically).
    sample_weight : bool
        Whether its ``fit`` accepts sample weights.
    tasks : tuple of str
        The tasks it can learn.
    torch : bool
        It trains with torch (imported only by its trials).
    meta_init : bool
        It starts from the meta-learned initialisation.
    """

    name: str
    preprocessing: PreprocessingKind
    description: str
    max_rows: int | None = None
    sample_weight: bool = True
    tasks: tuple[Task, ...] = ("classification", "regression")
    torch: bool = False
    meta_init: bool = False


LEARNERS: dict[str, LearnerSpec] = {
    s.name: s
    for s in [
        LearnerSpec("baseline", "tree", "predicts the class prior or the mean (no search)"),
        LearnerSpec("linear", "scaled", "logistic regression / ridge regression"),
        LearnerSpec("knn", "scaled", "k-nearest neighbours", sample_weight=False),
        LearnerSpec("svm", "scaled", "RBF-kernel SVM (Platt-calibrated for probabilities)",
                    max_rows=10_000),
        LearnerSpec("random_forest", "tree", "random forest"),
        LearnerSpec("extra_trees", "tree", "extremely randomised trees"),
        LearnerSpec("hist_gradient_boosting", "tree", "scikit-learn histogram gradient boosting"),
        LearnerSpec("lightgbm", "tree", "LightGBM gradient boosting"),
        LearnerSpec("catboost", "tree",
                    "CatBoost gradient boosting (native handling of categorical columns)"),
        LearnerSpec("mlp", "scaled", "torch multi-layer perceptron (random initialisation)",
                    torch=True),
        LearnerSpec("mlp_meta", "scaled",
                    "torch MLP fine-tuned from the meta-learned initialisation", torch=True,
                    meta_init=True),
        LearnerSpec("protonet", "scaled",
                    "prototypical network on the meta-learned encoder (no gradient steps)",
                    tasks=("classification",), torch=True, meta_init=True),
        LearnerSpec("fault_injection", "tree", "fails on purpose (testing only)"),
    ]
}

# Histogram gradient boosting stops early (on a 10 % validation split) from this many rows.
HGB_EARLY_STOPPING_ROWS = 500
# Below this many rows every learner runs on one thread: on small tables a second thread
# gains little, and when another process keeps a core busy, OpenMP's spinning threads
# (LightGBM, HistGradientBoosting, torch) wait on each other and a trial takes many times
# longer (a 4-trial LightGBM fit of 300 rows, 3.8 s alone, took 144 s beside one busy
# process); in a worker where torch has run, two threads made a 569-row, 5-fold HGB trial
# 20 times slower.
THREADED_ROWS = 20_000


def free_cores(n_threads: int) -> int:
    """``n_threads`` less the cores other processes keep busy (the 1-minute load average
    beyond this process's own share), at least 1."""
    try:
        busy = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this platform
        return n_threads
    return max(1, min(n_threads, round(cpu_count() - busy + 1)))


def learner_threads(learner: str, n_rows: int, n_threads: int) -> int:
    """The OpenMP/BLAS thread budget (and ``n_jobs``) of one ``learner`` trial on
    ``n_rows`` rows: one thread on small tables, else the cores free of other work.

    >>> learner_threads("hist_gradient_boosting", 569, 2), learner_threads("lightgbm", 569, 2)
    (1, 1)
    """
    if n_rows < THREADED_ROWS or n_threads <= 1:
        return 1
    return free_cores(n_threads)

DEFAULT_LEARNERS: tuple[str, ...] = tuple(
    n for n in LEARNERS if n not in ("baseline", "fault_injection"))


def available_learners(requested: Sequence[str] | None, n_rows: int, task: Task
                       ) -> list[str]:
    """Validate ``requested`` (default: every family that can learn ``task``) and drop
    those too slow for the data.

    Parameters
    ----------
    requested : sequence of str or None
        The families asked for (None: every family that can learn ``task``).
    n_rows : int
        Rows of the training data (families with a ``max_rows`` below it are dropped,
        logged).
    task : {"classification", "regression"}
        The task.
    """
    names = list(requested) if requested is not None else [
        n for n in DEFAULT_LEARNERS if task in LEARNERS[n].tasks]
    unknown = [n for n in names if n not in LEARNERS]
    if unknown:
        raise DataError(f"Unknown learner(s) {unknown}. Choose from: {', '.join(LEARNERS)}.")
    if not names:
        raise DataError("learners is empty; name at least one learner.")
    wrong = [n for n in names if task not in LEARNERS[n].tasks]
    if wrong:
        raise DataError(f"{wrong} cannot learn {task}: "
                        + "; ".join(f"{n} is for {' and '.join(LEARNERS[n].tasks)} only"
                                    for n in wrong) + ".")
    kept = [n for n in names
            if (cap := LEARNERS[n].max_rows) is None or n_rows <= cap]
    skipped = sorted(set(names) - set(kept))
    if skipped:
        logger.info("Skipping %s for %d rows (too slow at this size).", skipped, n_rows)
    return kept or names[:1]


def build_estimator(
    learner: str,
    params: dict[str, Any],
    task: Task,
    *,
    random_state: int,
    n_threads: int = 1,
    n_train: int | None = None,
    device: str = "auto",
    meta_init: str | None = None,
    n_numeric: int | None = None,
) -> Any:
    """Return the unfitted estimator for one configuration.

    ``n_train`` (rows it will be fitted on) caps size-dependent parameters such as the
    number of neighbours. ``n_numeric``: how many of the ``"tree"`` matrix's leading
    columns are numbers (the rest are category codes, which CatBoost treats natively).
    ``device`` is where torch learners train (``"auto"``: CUDA when the process sees a
    GPU). ``meta_init``: the meta-learned initialisation ``mlp_meta``
    and ``protonet`` start from (default: the shipped one).

    Parameters
    ----------
    learner : str
        The family.
    params : dict
        Its hyperparameters, without the ``"<learner>."`` prefix.
    task : {"classification", "regression"}
        The task.
    random_state : int
        The estimator's seed (a trial's seed, :func:`automl_meta.search.trial_seed`).
    n_threads : int, default 1
        Threads the estimator may use.
    n_train : int, optional
        Rows it will be fitted on.
    device : str, default "auto"
        Where torch learners train.
    meta_init : str, optional
        Path of the meta-learned initialisation.
    n_numeric : int, optional
        Leading numeric columns of the ``"tree"`` matrix.
    """
    clf = task == "classification"
    if learner == "baseline":
        from sklearn.dummy import DummyClassifier, DummyRegressor

        return DummyClassifier(strategy="prior") if clf else DummyRegressor(strategy="mean")
    if learner == "linear":
        if clf:
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(C=params["C"], max_iter=2000)
        from sklearn.linear_model import Ridge

        return Ridge(alpha=params["alpha"], random_state=random_state)
    if learner == "knn":
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

        k = int(params["n_neighbors"])
        if n_train is not None:
            k = max(1, min(k, n_train))
        cls = KNeighborsClassifier if clf else KNeighborsRegressor
        return cls(n_neighbors=k, weights=params["weights"], p=int(params["p"]),
                   n_jobs=n_threads)
    if learner == "svm":
        if clf:
            from .svm import SVMClassifier

            return SVMClassifier(C=params["C"], gamma=params["gamma"],
                                 random_state=random_state)
        from sklearn.svm import SVR

        return SVR(C=params["C"], gamma=params["gamma"], epsilon=params["epsilon"])
    if learner in ("random_forest", "extra_trees"):
        from sklearn import ensemble

        name = ("RandomForest" if learner == "random_forest" else "ExtraTrees") + (
            "Classifier" if clf else "Regressor")
        return getattr(ensemble, name)(
            n_estimators=int(params["n_estimators"]), max_features=params["max_features"],
            min_samples_leaf=int(params["min_samples_leaf"]), n_jobs=n_threads,
            random_state=random_state)
    if learner == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        cls = HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor
        return cls(learning_rate=params["learning_rate"], max_iter=int(params["max_iter"]),
                   max_leaf_nodes=int(params["max_leaf_nodes"]),
                   min_samples_leaf=int(params["min_samples_leaf"]),
                   l2_regularization=params["l2_regularization"],
                   # max_iter is an upper bound: stop when 10% held-out rows stop improving
                   # (with enough rows for a meaningful held-out split).
                   early_stopping=n_train is None or n_train >= HGB_EARLY_STOPPING_ROWS,
                   validation_fraction=0.1, n_iter_no_change=10, random_state=random_state)
    if learner == "lightgbm":
        from lightgbm import LGBMClassifier, LGBMRegressor

        cls = LGBMClassifier if clf else LGBMRegressor
        return cls(n_estimators=int(params["n_estimators"]),
                   learning_rate=params["learning_rate"], num_leaves=int(params["num_leaves"]),
                   min_child_samples=int(params["min_child_samples"]),
                   subsample=params["subsample"], subsample_freq=1,
                   colsample_bytree=params["colsample_bytree"], reg_lambda=params["reg_lambda"],
                   n_jobs=n_threads, random_state=random_state, verbose=-1)
    if learner == "catboost":
        from .catboost import CatBoostClassifierLearner, CatBoostRegressorLearner

        cls = CatBoostClassifierLearner if clf else CatBoostRegressorLearner
        return cls(iterations=int(params["iterations"]), learning_rate=params["learning_rate"],
                   depth=int(params["depth"]), l2_leaf_reg=params["l2_leaf_reg"],
                   n_numeric=n_numeric, thread_count=n_threads, random_state=random_state)
    if learner == "mlp":
        from .torch.mlp import TorchMLPClassifier, TorchMLPRegressor

        cls = TorchMLPClassifier if clf else TorchMLPRegressor
        return cls(hidden_size=int(params["hidden_size"]), n_layers=int(params["n_layers"]),
                   dropout=params["dropout"], learning_rate=params["learning_rate"],
                   weight_decay=params["weight_decay"], epochs=int(params["epochs"]),
                   batch_size=int(params["batch_size"]), random_state=random_state,
                   n_threads=n_threads, device=device)
    if learner == "mlp_meta":
        from .torch.meta import MetaMLPClassifier, MetaMLPRegressor

        common = dict(steps=int(params["steps"]), learning_rate=params["learning_rate"],
                      adapt=params["adapt"], views=int(params.get("views", 1)),
                      init=meta_init, random_state=random_state, n_threads=n_threads,
                      device=device)
        if clf:
            return MetaMLPClassifier(head=params["head"], **common)
        return MetaMLPRegressor(**common)
    if learner == "protonet":
        if not clf:
            raise DataError("protonet is a classifier; it cannot learn regression.")
        from .torch.meta import ProtoNetClassifier

        return ProtoNetClassifier(distance=params["distance"],
                                  temperature=params["temperature"], init=meta_init,
                                  random_state=random_state, n_threads=n_threads,
                                  device=device)
    if learner == "fault_injection":
        from ..testing.faults import FaultyEstimator

        return FaultyEstimator(mode=params["mode"], task=task)
    raise DataError(f"Unknown learner {learner!r}. Choose from: {', '.join(LEARNERS)}.")
