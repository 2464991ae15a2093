"""Ensembles from the study: greedy selection (hand-computed cases), the fast metrics it
scores with, bagged fold models as the predictor, the budget, pickling, two workers, and
ensemble=False as before."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest

from automl_meta import AutoMLClassifier, AutoMLRegressor
from automl_meta.metrics import get_metric
from automl_meta.search.ensemble import fast_score, select_ensemble


def test_greedy_selection_regression_by_hand():
    """y = 1..4; A = y + 1, B = y - 1, C = y + 0.5 (RMSE 1, 1, 0.5). Step 1 takes C;
    step 2 the blend (C + B) / 2 = y - 0.25 beats (C + A) / 2 and C again; step 3
    (2C + B) / 3 = y exactly."""
    y = np.array([1.0, 2.0, 3.0, 4.0])
    weights, score = select_ensemble([y + 1, y - 1, y + 0.5], y,
                                     get_metric("rmse", "regression"), size=3)
    assert weights.tolist() == [0.0, 1 / 3, 2 / 3]
    assert score == pytest.approx(0.0)


def test_greedy_selection_classification_by_hand_with_a_tie():
    """y = (0, 1); P(class 1): A = (0.4, 0.9), B = (0.1, 0.6), C = (0.5, 0.5). A and B
    tie at step 1 (log-loss 0.3081 each): the earlier, A, is taken. Step 2: (A + B) / 2 =
    (0.25, 0.75), log-loss 0.2877, beats A again (0.3081) and (A + C) / 2 (0.4772)."""
    y = np.array([0, 1])

    def proba(p1):
        return np.c_[1 - np.asarray(p1), p1]

    weights, score = select_ensemble([proba([0.4, 0.9]), proba([0.1, 0.6]),
                                      proba([0.5, 0.5])], y,
                                     get_metric("log_loss", "classification"), 2, size=2)
    assert weights.tolist() == [0.5, 0.5, 0.0]
    assert score == pytest.approx(-np.log(0.75))


@pytest.mark.parametrize("name, task, k", [
    ("roc_auc", "classification", 2), ("roc_auc", "classification", 4),
    ("log_loss", "classification", 3), ("accuracy", "classification", 3),
    ("balanced_accuracy", "classification", 3), ("r2", "regression", 0),
    ("rmse", "regression", 0), ("mae", "regression", 0)])
@pytest.mark.parametrize("weighted", [False, True])
def test_fast_metrics_equal_the_search_metrics(name, task, k, weighted):
    rng = np.random.default_rng(0)
    n = 300
    w = rng.random(n) if weighted else None
    metric = get_metric(name, task, k)
    if task == "classification":
        y = rng.integers(0, k, n)
        pred = np.round(rng.dirichlet(np.ones(k), n), 2)  # rounded: ties in the ranks
        reference = metric(y, pred if metric.needs_proba else pred.argmax(axis=1), k, w)
    else:
        y = rng.normal(size=n)
        pred = y + rng.normal(size=n)
        reference = metric(y, pred, 0, w)
    assert fast_score(metric, y, pred, k, w) == pytest.approx(reference, abs=1e-12)


def _data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    return X, y


def test_the_ensemble_predicts_the_weighted_mean_of_its_members_fold_models():
    X, y = _data()
    model = AutoMLClassifier(n_trials=6, storage="memory", verbose=0, warm_start=False,
                             learners=["linear", "knn", "random_forest"]).fit(X, y)
    assert model.ensemble_ and abs(sum(m["weight"] for m in model.ensemble_) - 1) < 1e-9
    clean = model.best_estimator_.named_steps["clean"]
    ensemble = model.best_estimator_.named_steps["ensemble"]
    frame = clean.transform(model._clean_input(X[:20]))
    expected = sum(w * np.mean([m.predict_proba(frame) for m in folds], axis=0)
                   for w, folds in ensemble.members)
    assert np.allclose(model.predict_proba(X[:20]), expected)
    # every member's fold models are as many as the cross-validation folds
    assert {len(folds) for _, folds in ensemble.members} == {5}
    board = model.leaderboard()
    weights = dict(zip(board["trial"], board["ensemble_weight"], strict=True))
    assert {m["trial"]: m["weight"] for m in model.ensemble_} == {
        t: w for t, w in weights.items() if w > 0}
    record = model.study_.user_attrs["ensemble"]
    assert record["members"] == model.ensemble_
    assert record["oof_score"] >= record["best_single_oof_score"] - 1e-9


def test_ensemble_false_refits_the_best_trial_as_before():
    X, y = _data()
    model = AutoMLClassifier(n_trials=4, storage="memory", verbose=0, warm_start=False,
                             learners=["linear", "knn"], ensemble=False).fit(X, y)
    assert model.ensemble_ is None and "ensemble" not in model.study_.user_attrs
    final = model.best_estimator_.steps[-1][1]
    assert type(final).__name__.startswith(
        {"linear": "LogisticRegression", "knn": "KNeighbors"}[model.best_config_["learner"]])
    assert (model.leaderboard()["ensemble_weight"] == 0).all()


def test_an_ensembled_model_pickles_and_predicts_the_same():
    X, y = _data()
    model = AutoMLRegressor(n_trials=5, storage="memory", verbose=0, warm_start=False,
                            learners=["linear", "knn", "extra_trees"]).fit(X, X[:, 0] * 2)
    again = pickle.loads(pickle.dumps(model))
    assert again.ensemble_ == model.ensemble_
    assert np.array_equal(again.predict(X), model.predict(X))


def test_the_time_budget_holds_with_ensembling_on():
    X, y = _data(400)
    started = time.monotonic()
    model = AutoMLClassifier(time_budget=8, storage="memory", verbose=0, warm_start=False,
                             learners=["linear", "knn", "random_forest"]).fit(X, y)
    assert time.monotonic() - started < 8 * 1.1 + 1.5
    assert model.ensemble_


def test_an_ensemble_uses_the_trials_of_two_workers(tmp_path):
    import optuna

    from automl_meta.knowledge import get_storage
    from automl_meta.search.payload import load_oof

    url = f"sqlite:///{tmp_path / 'pair.db'}"
    X, y = _data(200)
    model = AutoMLClassifier(n_trials=8, n_jobs=2, storage=url, study_name="pair",
                             verbose=0, warm_start=False,
                             learners=["linear", "knn", "random_forest"]).fit(X, y)
    study = optuna.load_study(study_name="pair", storage=url)
    workers = {t.number: t.user_attrs["worker"] for t in study.trials}
    assert len(set(workers.values())) == 2
    candidates = study.user_attrs["ensemble"]["candidates"]
    assert len({workers[n] for n in candidates}) == 2  # both workers' trials took part
    assert model.ensemble_ and model.predict(X).shape == (200,)
    # the shared out-of-fold predictions are deleted once the search is done
    assert load_oof(get_storage(url), study.user_attrs["uid"], list(workers)) == {}
