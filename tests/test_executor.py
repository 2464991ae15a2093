"""The executors: a trial scores the same in a worker process as in this one, a trial
past its time limit is a timeout (and the worker is replaced), and both executors are
what the search loop's :class:`~automl_meta.search.Executor` protocol asks for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl_meta.data import ColumnPlan, make_folds
from automl_meta.search import EvaluationData, make_executor

CONFIG = {"learner": "knn", "knn.n_neighbors": 3, "knn.weights": "distance", "knn.p": 1}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(120, 4)), columns=list("abcd"))
    y = (X["a"] + 0.5 * X["b"] > 0).to_numpy().astype(int)
    return EvaluationData(X, y, make_folds(y, "classification", 4), ColumnPlan().fit(X),
                          "classification", "roc_auc", n_classes=2)


def test_a_trial_scores_the_same_in_a_worker_as_in_process(data):
    outcomes, models = [], []
    for isolation in ("none", "process"):
        executor = make_executor(data, isolation)
        try:
            outcomes.append(executor.evaluate(CONFIG, 7, timeout=60))
            models.append(executor.refit(CONFIG, 7))
            folds = executor.fold_refit(CONFIG, 7, timeout=60)
            assert len(folds) == 4
            assert executor.start_seconds >= 0.0
            # a worker reports what the family's first-use imports took; in-process
            # imports stay done, so there is nothing to pay again
            assert set(executor.import_seconds) == ({"knn"} if isolation == "process"
                                                    else set())
        finally:
            executor.close()
    local, remote = outcomes
    assert local.ok and remote.ok and local.score > 0.8
    assert local.score == remote.score and local.fold_scores == remote.fold_scores
    X = data.X.iloc[:10]
    np.testing.assert_array_equal(models[0].predict_proba(X), models[1].predict_proba(X))


def test_a_trial_past_its_limit_is_a_timeout_and_the_worker_is_replaced(data):
    executor = make_executor(data, "process")
    try:
        hang = {"learner": "fault_injection", "fault_injection.mode": "hang"}
        outcome = executor.evaluate(hang, 0, timeout=1.0)
        assert not outcome.ok and outcome.failure_reason == "timeout"
        # no worker runs now: the next trial first pays a worker's start, as measured
        assert executor.preparing_seconds(CONFIG) == executor.start_seconds > 0
        assert executor.evaluate(CONFIG, 7, timeout=60).ok  # a fresh worker carries on
    finally:
        executor.close()


def test_what_a_trial_pays_before_its_fit_is_known_per_worker(data):
    """``preparing_seconds``: nothing for a family whose imports the running worker has
    done; torch's import for a torch family before any torch trial there (the most
    measured so far, else the constant); a torch family after another, nothing."""
    from automl_meta.learners import TORCH_IMPORT_SECONDS

    mlp, mlp_meta = {"learner": "mlp"}, {"learner": "mlp_meta"}
    executor = make_executor(data, "process")
    try:
        assert executor.evaluate(CONFIG, 7, timeout=60).ok
        assert executor.preparing_seconds(CONFIG) == 0.0
        assert executor.preparing_seconds(mlp) == TORCH_IMPORT_SECONDS
        executor.import_seconds["mlp"] = 4.0  # as a worker measured it before
        assert executor.preparing_seconds(mlp) == 4.0
        executor._worker.prepared.add("mlp")  # as after an mlp trial in this worker
        assert executor.preparing_seconds(mlp) == executor.preparing_seconds(mlp_meta) == 0.0
    finally:
        executor.close()
    in_process = make_executor(data, "none")
    import sys
    expected = 0.0 if "torch" in sys.modules else TORCH_IMPORT_SECONDS
    assert in_process.preparing_seconds(mlp) == expected
    assert in_process.preparing_seconds(CONFIG) == 0.0
