"""The public API: fit(), the estimators, storage layout, studies and persistence."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris

import automl_meta
from automl_meta import AutoMLClassifier, AutoMLRegressor, fit
from automl_meta.exceptions import DataError
from automl_meta.learners import DEFAULT_LEARNERS, LEARNERS
from automl_meta.metrics import METRICS


def test_public_names():
    assert set(automl_meta.__all__) >= {"fit", "AutoMLClassifier", "AutoMLRegressor"}


def test_import_is_light():
    code = ("import sys, automl_meta; "
            "heavy = [m for m in ('torch', 'botorch', 'sklearn', 'optuna') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_fit_dataframe_with_target(fast, clf_frame):
    model = fit(clf_frame, "target", **fast)
    assert isinstance(model, AutoMLClassifier)
    assert list(model.classes_) == ["no", "yes"]
    pred = model.predict(clf_frame.drop(columns="target"))
    assert set(pred) <= {"no", "yes"}
    assert model.score(clf_frame.drop(columns="target"), clf_frame["target"]) > 0.7
    proba = model.predict_proba(clf_frame.drop(columns="target"))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_fit_from_file(tmp_path, reg_frame, suffix, fast):
    path = tmp_path / f"data.{suffix}"
    getattr(reg_frame, f"to_{suffix}")(path, index=False)
    model = fit(path, "y", **fast)
    assert isinstance(model, AutoMLRegressor)
    assert model.study_.user_attrs["dataset"] == "data"
    assert model.score(reg_frame[["a", "b"]], reg_frame["y"]) > 0.9


def test_fit_xy_pair_regression(fast):
    X, y = load_diabetes(return_X_y=True)
    model = fit((X, y), **fast)
    assert model.task_ == "regression" and model.metric_ == "r2"
    assert model.predict(X).shape == (len(y),)


def test_fitted_attributes_and_leaderboard(fast):
    X, y = load_iris(return_X_y=True)
    model = AutoMLClassifier(**{**fast, "n_trials": 3}).fit(X, y)
    assert model.metric_ == "log_loss"  # multiclass default
    assert model.best_config_["learner"] in DEFAULT_LEARNERS
    assert model.n_features_in_ == 4
    board = model.leaderboard()
    assert list(board.columns) == ["trial", "learner", "score", "fit_time", "state", "origin",
                                   "params", "failure_reason", "ensemble_weight"]
    assert len(board) == 3
    # log-loss is minimised: the best (first) row has the smallest score
    assert board["score"].iloc[0] == board["score"].min() == pytest.approx(model.best_score_)
    assert isinstance(board["params"].iloc[0], dict)


def test_study_and_trial_user_attrs(fast):
    X, y = load_iris(return_X_y=True)
    model = AutoMLClassifier(**fast).fit(X, y, dataset_name="iris")
    study = model.study_
    attrs = study.user_attrs
    assert attrs["dataset"] == "iris"
    assert len(attrs["fingerprint"]) == 64
    assert (attrs["task"], attrs["metric"], attrs["n_rows"], attrs["n_features"]) == (
        "classification", "log_loss", 150, 4)
    trial = study.trials[0]
    assert trial.user_attrs["learner"] == trial.params["learner"]
    assert trial.user_attrs["fit_time"] >= 0
    assert len(trial.user_attrs["fold_scores"]) == attrs["cv_folds"] == 5
    assert trial.user_attrs["origin"] == "default"


def test_default_storage_is_sqlite_under_studies(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOML_META_STORAGE")
    monkeypatch.chdir(tmp_path)
    X, y = load_iris(return_X_y=True)
    model = AutoMLClassifier(n_trials=1, verbose=0, isolation="none").fit(X, y)
    db = tmp_path / "studies" / "automl_meta.db"
    assert db.is_file()
    assert model.storage_url_ == f"sqlite:///{db.as_posix()}"
    # Optuna's own tools read it.
    names = optuna.get_all_study_names(f"sqlite:///{db}")
    assert names == [model.study_name_]
    study = optuna.load_study(study_name=model.study_name_, storage=f"sqlite:///{db}")
    assert len(study.trials) == 1


def test_storage_env_var_and_optuna_cli(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("AUTOML_META_STORAGE", url)
    X, y = load_iris(return_X_y=True)
    model = AutoMLClassifier(n_trials=1, verbose=0, isolation="none", study_name="iris-env")
    model.fit(X, y)
    assert (tmp_path / "elsewhere.db").is_file()
    optuna_cli = [str(Path(sys.executable).parent / "optuna"), "studies", "--storage", url]
    out = subprocess.run(optuna_cli, capture_output=True, text=True, check=True).stdout
    assert "iris-env" in out


def test_same_study_name_continues_the_study(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    X, y = load_iris(return_X_y=True)
    kwargs = dict(n_trials=2, verbose=0, isolation="none", storage=url, study_name="resume")
    AutoMLClassifier(**kwargs).fit(X, y)
    model = AutoMLClassifier(**kwargs).fit(X, y)
    assert len(model.study_.trials) == 4


@pytest.mark.parametrize("metric", [m for m, v in METRICS.items() if v.task == "classification"])
def test_classification_metrics(fast, metric):
    X, y = load_iris(return_X_y=True)
    model = AutoMLClassifier(metric=metric, **fast).fit(X, y)
    direction = model.study_.direction.name.lower()
    assert direction == METRICS[metric].direction
    assert np.isfinite(model.best_score_)


@pytest.mark.parametrize("metric", [m for m, v in METRICS.items() if v.task == "regression"])
def test_regression_metrics(fast, metric):
    X, y = load_diabetes(return_X_y=True)
    model = AutoMLRegressor(metric=metric, **fast).fit(X[:150], y[:150])
    assert model.metric_ == metric and np.isfinite(model.best_score_)


def test_metric_for_wrong_task_is_refused(fast):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="for regression, but the task is classification"):
        AutoMLClassifier(metric="rmse", **fast).fit(X, y)


@pytest.mark.parametrize("learner", DEFAULT_LEARNERS)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_every_learner_family_runs(learner, task, clf_frame, reg_frame):
    frame, target = (clf_frame, "target") if task == "classification" else (reg_frame, "y")
    if task not in LEARNERS[learner].tasks:  # protonet classifies only: a clear error
        with pytest.raises(DataError, match=f"{learner} is for classification only"):
            fit(frame, target, n_trials=1, learners=[learner], verbose=0, storage="memory")
        return
    model = fit(frame, target, n_trials=1, learners=[learner], verbose=0, storage="memory",
                isolation="none")
    assert model.best_config_["learner"] == learner
    assert model.leaderboard()["state"].tolist() == ["COMPLETE"]
    assert model.score(frame.drop(columns=target), frame[target]) > 0.5


def test_searched_trials_differ_and_are_reproducible(fast):
    X, y = load_iris(return_X_y=True)
    kwargs = {**fast, "n_trials": 12, "learners": ["linear", "knn"]}
    a = AutoMLClassifier(**kwargs).fit(X, y).leaderboard().sort_values("trial")
    b = AutoMLClassifier(**kwargs).fit(X, y).leaderboard().sort_values("trial")
    pd.testing.assert_frame_equal(a.drop(columns="fit_time"), b.drop(columns="fit_time"))
    assert a["params"].astype(str).nunique() > 8  # the sampler explores beyond the defaults


def test_pickle_and_joblib_round_trip(tmp_path, clf_frame):
    model = fit(clf_frame, "target", n_trials=3, verbose=0, storage="memory",
                learners=["linear", "mlp", "svm"])
    X = clf_frame.drop(columns="target")
    expected = model.predict_proba(X)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    for restored in (joblib.load(path), pickle.loads(pickle.dumps(model))):
        np.testing.assert_allclose(restored.predict_proba(X), expected)
        assert list(restored.predict(X)) == list(model.predict(X))


def test_persisted_model_reopens_its_sqlite_study(tmp_path, clf_frame):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    model = fit(clf_frame, "target", n_trials=2, verbose=0, storage=url, isolation="none")
    restored = pickle.loads(pickle.dumps(model))
    assert len(restored.study_.trials) == 2


def test_time_budget_is_honoured():
    X, y = load_iris(return_X_y=True)
    model = AutoMLClassifier(time_budget=4, verbose=0, storage="memory").fit(X, y)
    n = len(model.leaderboard())
    assert n >= 2
    # Budget plus the documented slack (worker start-up and the final refit).
    assert model.fit_seconds_ < 4 + 10


class _TimedExecutor:
    """A stand-in trial executor (the search's ``Executor`` protocol): each trial sleeps
    ``seconds`` and reports a fit time."""

    def __init__(self, seconds: float, fit_time: float):
        self.seconds, self.fit_time, self.timeouts, self.counted = seconds, fit_time, [], []
        self.start_seconds = 0.0  # no worker to start
        self.import_seconds = {}  # nor imports to measure
        self.preparing = {}  # learner family -> seconds before its fit would start

    def preparing_seconds(self, config):
        return self.preparing.get(config["learner"], 0.0)

    def evaluate(self, config, seed, timeout, count_preparation=False):
        import time

        from automl_meta._types import TrialOutcome

        self.timeouts.append(timeout)
        self.counted.append(count_preparation)
        time.sleep(self.seconds)
        return TrialOutcome(ok=True, score=0.5, fold_scores=[0.5] * 5, fit_time=self.fit_time)


def _search(executor, deadline_in: float, reserve_refit: bool):
    import time

    import optuna

    from automl_meta.search.progress import SearchProgress
    from automl_meta.search.runner import run_search

    study = optuna.create_study(direction="maximize")
    result = run_search(study, executor, learners=["knn"], task="classification",
                        n_trials=3, deadline=time.monotonic() + deadline_in,
                        trial_timeout=None, random_state=0,
                        progress=SearchProgress(False, 3, None, "accuracy"),
                        reserve_refit=reserve_refit)
    return study, result


def test_the_search_keeps_time_for_the_final_refit():
    """The driver of a fit leaves the best trial's estimated refit time (fit time over 5
    folds, scaled to all rows, with a margin) out of the next trials' time limits."""
    from automl_meta.search.runner import REFIT_OVERHEAD, REFIT_SAFETY

    executor = _TimedExecutor(seconds=0.0, fit_time=8.0)  # refit of all rows: about 2 s
    _, result = _search(executor, 30.0, reserve_refit=True)
    assert result.refit_seconds == 2.0
    assert result.reserve() == REFIT_SAFETY * 2.0 + REFIT_OVERHEAD
    assert executor.timeouts[0] > 29.0  # nothing to refit yet
    assert 26.0 < executor.timeouts[1] < 30.0 - result.reserve() + 0.01
    assert all(executor.counted)  # a limit set by the budget counts the worker's imports
    plain = _TimedExecutor(seconds=0.0, fit_time=8.0)
    _search(plain, 30.0, reserve_refit=False)  # a worker: no refit to keep time for
    assert plain.timeouts[1] > 29.0


def test_the_refit_reserve_covers_starting_the_worker_again():
    """A trial stopped at the deadline kills the trial worker, so the best trial's refit
    (ensemble=False) starts another: the reserve keeps that measured start time too
    (before, a 15 s fit whose last trial was stopped returned after 17 to 25 s)."""
    from automl_meta.search.runner import REFIT_OVERHEAD, REFIT_SAFETY

    executor = _TimedExecutor(seconds=0.0, fit_time=8.0)
    executor.start_seconds = 3.0  # as a ProcessExecutor measures it
    _, result = _search(executor, 30.0, reserve_refit=True)
    assert result.reserve() == REFIT_SAFETY * 2.0 + REFIT_OVERHEAD + 3.0
    assert executor.timeouts[1] < 30.0 - result.reserve() + 0.01


def test_the_refit_reserve_covers_the_best_familys_imports_in_a_new_worker():
    """A restarted worker imports the best trial's family again before its refit (torch
    takes seconds): the reserve keeps what those imports took in the first worker."""
    from automl_meta.search.runner import REFIT_OVERHEAD, REFIT_SAFETY

    executor = _TimedExecutor(seconds=0.0, fit_time=8.0)
    executor.start_seconds = 1.0
    executor.import_seconds = {"knn": 2.5, "mlp": 9.0}  # only the best's family counts
    _, result = _search(executor, 30.0, reserve_refit=True)
    assert result.refit_import_seconds == 2.5
    assert result.reserve() == REFIT_SAFETY * 2.0 + REFIT_OVERHEAD + 1.0 + 2.5
    assert executor.timeouts[1] < 30.0 - result.reserve() + 0.01


def test_a_trial_that_cannot_finish_in_the_time_left_is_not_started():
    executor = _TimedExecutor(seconds=1.0, fit_time=0.01)
    study, result = _search(executor, 2.0, reserve_refit=True)
    # the first k-NN trial took 1 s; under 0.7 s were left for the second
    assert len(executor.timeouts) == 1 and result.out_of_time
    second = study.trials[1]
    assert second.state.name == "FAIL"
    assert second.user_attrs["failure_reason"] == "budget"
    assert second.user_attrs["failure_message"].startswith("not started: knn trials took")


def test_a_queued_trial_predicted_not_to_fit_is_skipped_and_the_search_goes_on():
    """A warm-start proposal whose predicted fit time is far beyond the time left is
    recorded as not started (reason budget); the next queued trial still runs."""
    import time

    from automl_meta.search.progress import SearchProgress
    from automl_meta.search.runner import run_search
    from automl_meta.search_space import default_configs

    executor = _TimedExecutor(seconds=0.0, fit_time=0.01)
    knn, linear = default_configs(["knn", "linear"], "classification")
    study = optuna.create_study(direction="maximize")
    result = run_search(study, executor, learners=["knn", "linear"], task="classification",
                        n_trials=3, deadline=time.monotonic() + 30.0, trial_timeout=None,
                        random_state=0, progress=SearchProgress(False, 3, None, "accuracy"),
                        initial_configs=[knn, linear, linear],
                        initial_attrs=[{"origin": "default"},
                                       {"origin": "warm-start:knn", "predicted_seconds": 99.0},
                                       {"origin": "warm-start:knn", "predicted_seconds": 1.0}],
                        reserve_refit=True)
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "FAIL", "COMPLETE"] and len(executor.timeouts) == 2
    assert study.trials[1].user_attrs["failure_reason"] == "budget"
    assert study.trials[1].user_attrs["failure_message"].startswith(
        "not started: predicted to take 99.0 s")
    assert not result.out_of_time


def test_a_trial_whose_imports_outlast_the_time_left_is_not_started():
    """A queued torch trial whose first-use imports (seconds, before its fit) would
    outlast the time left is not started, and the search goes on with the next queued
    trial; a sampled one (no prediction) stops the search, since the sampler would ask
    for it again."""
    import time

    from automl_meta.search.progress import SearchProgress
    from automl_meta.search.runner import run_search
    from automl_meta.search_space import default_configs

    def search(configs, attrs, n_trials, learners=("linear", "mlp")):
        study = optuna.create_study(direction="maximize")
        result = run_search(study, executor, learners=list(learners), task="classification",
                            n_trials=n_trials, deadline=time.monotonic() + 3.0,
                            trial_timeout=None, random_state=0,
                            progress=SearchProgress(False, n_trials, None, "accuracy"),
                            initial_configs=configs, initial_attrs=attrs,
                            reserve_refit=True)
        return study, result

    executor = _TimedExecutor(seconds=0.0, fit_time=0.01)
    executor.preparing = {"mlp": 5.0}  # torch not imported in the worker yet
    linear, mlp = default_configs(["linear", "mlp"], "classification")
    # predicted 0.5 s: 5.0 + 0.5 / 2 > 3 s left, though the fit alone would fit
    study, result = search([linear, mlp, linear],
                           [{"origin": "default"},
                            {"origin": "warm-start:knn", "predicted_seconds": 0.5},
                            {"origin": "warm-start:knn", "predicted_seconds": 0.1}], 3)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "FAIL", "COMPLETE"]
    assert study.trials[1].user_attrs["failure_message"].startswith(
        "not started: predicted to take 0.5 s after 5.0 s of starting and importing")
    assert len(executor.timeouts) == 2 and not result.out_of_time
    # the same with the imports done: it runs
    executor.preparing = {}
    study, _ = search([linear, mlp], [{"origin": "default"},
                                      {"origin": "warm-start:knn", "predicted_seconds": 0.5}],
                      2)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    # a queued default (no prediction) gives way to the next in the queue; then a
    # sampled mlp trial: not started, and the search stops
    executor.preparing = {"mlp": 5.0}
    study, result = search([mlp, mlp], [{"origin": "default"}] * 2, 10, learners=["mlp"])
    assert [t.state.name for t in study.trials] == ["COMPLETE", "FAIL", "FAIL"]
    assert [t.user_attrs["origin"] for t in study.trials][1:] == ["default", "sampler"]
    assert study.trials[2].user_attrs["failure_message"].startswith(
        "not started: 5.0 s of starting and importing, and")
    assert result.out_of_time


def test_trial_timeout_fails_a_slow_trial(tmp_path):
    """A trial still running at ``trial_timeout`` is stopped and failed (a hanging learner,
    so that the outcome does not depend on how fast the machine is); the search goes on."""
    from automl_meta.search_space import default_configs

    X, y = load_iris(return_X_y=True)
    storage = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    study.enqueue_trial({"learner": "fault_injection", "fault_injection.mode": "hang"})
    study.enqueue_trial(default_configs(["linear"], "classification")[0])
    model = AutoMLClassifier(n_trials=2, trial_timeout=0.5, storage=storage, study_name="s",
                             learners=["fault_injection", "linear"], metric="accuracy",
                             verbose=0).fit(X, y)
    board = model.leaderboard().set_index("trial")
    assert board.loc[0, "failure_reason"] == "timeout"
    assert board.loc[1, "state"] == "COMPLETE" and model.best_config_["learner"] == "linear"


@pytest.mark.parametrize("learners, loaded, not_loaded", [
    (("mlp_meta", "linear"), ["torch._dynamo", "sklearn.linear_model"], []),
    (("linear", "fault_injection"), ["sklearn.linear_model"], ["torch"]),
])
def test_a_worker_prepares_a_family_on_its_first_trial(learners, loaded, not_loaded):
    """What a worker does before it acknowledges a family's first trial (and the trial's
    clock starts): import the family's modules, torch's optimiser machinery and the
    meta-learned start for the neural ones, and nothing of torch for the others.
    Checked in a fresh interpreter, as a worker is one."""
    code = f"""
import pickle, sys, numpy as np, pandas as pd
from automl_meta.data import ColumnPlan, make_folds
from automl_meta.search import EvaluationData, Evaluator
X = pd.DataFrame({{"a": np.arange(40.0)}}); y = (X["a"] > 20).to_numpy().astype(int)
data = EvaluationData(X, y, make_folds(y, "classification", 4), ColumnPlan().fit(X),
                      "classification", "accuracy", n_classes=2)
evaluator = Evaluator(data)
for learner in {learners!r}:
    evaluator.prepare({{"learner": learner}})
print([m in sys.modules for m in {loaded!r}], [m in sys.modules for m in {not_loaded!r}],
      bool(getattr(sys.modules.get("automl_meta.learners.torch.initialisation"), "_LOADED", None)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")[-2]
    assert out == f"{[True] * len(loaded)} {[False] * len(not_loaded)} {'mlp_meta' in learners}"


def test_a_trial_timeout_does_not_count_the_workers_first_imports(tmp_path):
    """A fresh worker's first ``mlp_meta`` trial imports torch and loads the meta-learned
    start (about 2 s here) before its clock starts: a 1 s trial timeout is for the trial
    (a cheap one, well under it), not for the imports. Before, such a trial was killed
    mid-import, and so was every later one in the restarted worker."""
    X, y = load_iris(return_X_y=True)
    storage = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    study.enqueue_trial({"learner": "mlp_meta", "mlp_meta.steps": 5, "mlp_meta.views": 1})
    model = AutoMLClassifier(n_trials=1, trial_timeout=1.0, storage=storage, study_name="s",
                             learners=["mlp_meta"], metric="accuracy", warm_start=False,
                             verbose=0).fit(X, y)
    assert model.leaderboard()["state"].tolist() == ["COMPLETE"]


def test_the_worker_acknowledges_a_trial_before_its_clock_starts():
    """The protocol: ``("started", None)`` once the family is prepared, then the result;
    the driver's trial timeout counts from the acknowledgement."""
    from automl_meta.data import ColumnPlan, make_folds
    from automl_meta.search.evaluation import EvaluationData
    from automl_meta.search.executor import _Worker

    X = pd.DataFrame({"a": np.arange(40.0)})
    y = (X["a"] > 20).to_numpy().astype(int)
    data = EvaluationData(X, y, make_folds(y, "classification", 4), ColumnPlan().fit(X),
                          "classification", "accuracy", n_classes=2)
    worker = _Worker(2 * 1024**3)
    try:
        worker.requests.send(("data", pickle.dumps(data)))
        status, info = worker.replies.recv()
        # what starting it cost: its imports done after its spawn, then the data's loading
        assert status == "ready" and info["imported_at"] > worker.spawned
        assert 0 <= info["loading"] < 5
        worker.requests.send(("evaluate", {"learner": "linear", "linear.C": 1.0}, 0))
        status, started = worker.replies.recv()  # with what preparing the family took
        assert status == "started" and 0 <= started["prepare"] < 30
        status, outcome = worker.replies.recv()
        assert status == "ok" and outcome.ok and outcome.score > 0.9
    finally:
        worker.stop()


def test_progress_bar_and_silence(capsys, fast):
    X, y = load_iris(return_X_y=True)
    AutoMLClassifier(**{**fast, "verbose": 1}).fit(X, y)
    err = capsys.readouterr().err
    assert "automl-meta" in err and "2/2" in err and "best log_loss=" in err
    AutoMLClassifier(**fast).fit(X, y)
    assert capsys.readouterr().err == ""


def test_continuing_a_study_with_other_data_or_metric_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    X, y = load_iris(return_X_y=True)
    kwargs = dict(n_trials=1, verbose=0, isolation="none", storage=url, study_name="s")
    AutoMLClassifier(**kwargs).fit(X, y)
    with pytest.raises(ValueError, match="holds another dataset"):
        AutoMLClassifier(**kwargs).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="optimises 'log_loss', not 'accuracy'"):
        AutoMLClassifier(metric="accuracy", **kwargs).fit(X, y)
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 1


def test_a_budget_set_limit_counts_the_worker_start():
    """A trial limited by the time budget counts the worker's start and data loading:
    on a busy machine they took seconds past the deadline before the trial's clock ran."""
    import time

    from automl_meta.data import ColumnPlan, make_folds
    from automl_meta.search import EvaluationData
    from automl_meta.search import executor as executor_module
    from automl_meta.search.executor import ProcessExecutor

    # a fresh worker: an idle one an earlier fit started could answer within the limit
    executor_module._POOL.clear()
    X = pd.DataFrame({"a": np.arange(40.0)})
    y = (X["a"] > 20).to_numpy().astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = ColumnPlan().fit(X)
    data = EvaluationData(X, y, make_folds(y, "classification", 4), plan, "classification",
                          "accuracy", n_classes=2)
    executor = ProcessExecutor(data)
    try:
        started = time.monotonic()
        outcome = executor.evaluate({"learner": "linear", "linear.C": 1.0}, seed=0,
                                    timeout=0.001, count_preparation=True)
        assert time.monotonic() - started < 1.0
        assert not outcome.ok and outcome.failure_reason == "timeout"
        assert "did not start" in outcome.failure_message
        assert executor.start_seconds == 0.0  # that worker never loaded the data
        # Without the budget's limit, the next call starts a worker and runs the trial.
        assert executor.evaluate({"learner": "linear", "linear.C": 1.0}, seed=0,
                                 timeout=60).ok
        assert 0 < executor.start_seconds < 60  # what a restart costs, measured
    finally:
        executor.close()
