"""The search driver (:class:`~automl_meta.search.driver.SearchDriver`): it runs a study's
first configurations then the sampler's, refits, shares a run's budget and data with
workers that may join and deletes the data when it closes; the final model is the
ensemble or the best trial refit."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from automl_meta.data import ColumnPlan, make_folds
from automl_meta.metrics import get_metric
from automl_meta.params import ParameterError
from automl_meta.search import EvaluationData
from automl_meta.search.driver import SearchDriver
from automl_meta.search.final_model import final_model
from automl_meta.search.payload import load_payload
from automl_meta.search_space import default_configs

LEARNERS = ["linear", "knn"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(150, 4)), columns=list("abcd"))
    y = (X["a"] - X["c"] > 0).to_numpy().astype(int)
    return EvaluationData(X, y, make_folds(y, "classification", 3), ColumnPlan().fit(X),
                          "classification", "roc_auc", n_classes=2)


def _driver(study, data, **kwargs):
    return SearchDriver(study, data, learners=LEARNERS, task="classification",
                        random_state=0, isolation="none", **kwargs)


def test_the_first_configurations_run_first_then_the_sampler_and_the_best_refits(data):
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0))
    first = default_configs(LEARNERS, "classification")
    with _driver(study, data) as driver:
        result = driver.run(4, None, initial=first, reserve_refit=True)
        final = final_model(driver, result, get_metric("roc_auc", "classification", 2),
                            ensemble=False, deadline=None)
    trials = study.get_trials()
    assert len(trials) == 4 and result.n_complete == 4
    assert [t.params["learner"] for t in trials[:2]] == LEARNERS
    assert [t.user_attrs["origin"] for t in trials] == ["default"] * 2 + ["sampler"] * 2
    assert final.config == study.best_trial.params and final.ensembled is None
    assert final.score == pytest.approx(study.best_value)
    proba = final.fitted.predict_proba(data.X.iloc[:5])
    assert proba.shape == (5, 2)


def test_the_ensemble_is_the_final_model_when_asked(data):
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0))
    with _driver(study, data) as driver:
        result = driver.run(4, None, initial=default_configs(LEARNERS, "classification"))
        final = final_model(driver, result, get_metric("roc_auc", "classification", 2),
                            ensemble=True, deadline=None)
    assert final.ensembled is not None
    assert abs(sum(m["weight"] for m in final.ensembled.members) - 1.0) < 1e-3
    assert final.fitted.predict_proba(data.X.iloc[:3]).shape == (3, 2)


def test_a_shared_run_is_in_the_study_until_the_driver_closes(tmp_path, data):
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    study = optuna.create_study(storage=storage, direction="maximize", study_name="s")
    study.set_user_attr("uid", "u1")
    with _driver(study, data, trial_timeout=30.0) as driver:
        driver.share(storage, 2, None, share_data=True)
        run = study.user_attrs["run"]
        assert run["payload"] == "u1" and run["trial_timeout"] == 30.0
        assert study.user_attrs["budget"]["n_trials"] == 2
        shared = load_payload(storage, "u1")
        np.testing.assert_array_equal(shared.y, data.y)
        driver.run(None, None)  # the study's budget stops it
    assert len(study.get_trials()) == 2
    assert study.user_attrs["run"]["payload"] is None  # deleted: no worker can join


def test_kept_data_stays_and_memory_storage_cannot_share(tmp_path, data):
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    study = optuna.create_study(storage=storage, direction="maximize", study_name="s")
    study.set_user_attr("uid", "u2")
    with _driver(study, data) as driver:
        driver.share(storage, 1, None, share_data=True, keep=True)
    assert study.user_attrs["run"]["payload"] == "u2"
    memory = optuna.storages.InMemoryStorage()
    alone = optuna.create_study(storage=memory, direction="maximize")
    with _driver(alone, data) as driver:
        with pytest.raises(ParameterError, match="share_data=True needs a database"):
            driver.share(memory, 1, None, share_data=True)
        with pytest.raises(ValueError, match="Helper workers need a shared run"):
            driver.run(1, None, helpers=[1])
