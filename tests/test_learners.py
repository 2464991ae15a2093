"""The learner registry: one spec per family, learners registered from outside the
package, and the production registry free of the test-only fault learner."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest
from optuna.distributions import FloatDistribution
from sklearn.linear_model import Ridge

from automl_meta import AutoMLRegressor
from automl_meta.exceptions import DataError
from automl_meta.learners import (
    DEFAULT_LEARNERS,
    LEARNER_MODULES_ENV,
    LEARNERS,
    BuildContext,
    LearnerSpec,
    build_estimator,
    load_learner_modules,
    register_learner,
)
from automl_meta.search_space import default_configs, learner_space
from automl_meta.testing.faults import FAULT_LEARNER


def test_the_production_registry_holds_no_test_learner():
    env = {k: v for k, v in os.environ.items() if k != LEARNER_MODULES_ENV}
    code = ("from automl_meta.learners import LEARNERS, DEFAULT_LEARNERS; "
            "print(sorted(LEARNERS)); print(list(DEFAULT_LEARNERS))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=60, check=True).stdout.splitlines()
    assert "fault_injection" not in out[0] and "'linear'" in out[0]
    assert "baseline" not in out[1] and "fault_injection" not in out[1]


def test_each_family_is_one_spec_with_space_defaults_and_factory():
    for name in DEFAULT_LEARNERS:
        spec = LEARNERS[name]
        assert spec.defaults, name
        for task in spec.tasks:
            space = learner_space(name, task)
            (config,) = default_configs([name], task)
            # the defaults name only parameters of the task's space, and cover all of them
            assert set(config) == {"learner"} | {f"{name}.{k}" for k in space}, (name, task)
    # the first wave's order: cheap and reliable families first
    first = [c["learner"] for c in default_configs(DEFAULT_LEARNERS, "classification")]
    assert first[:4] == ["lightgbm", "linear", "random_forest", "hist_gradient_boosting"]


def _ridge(params, context):
    return Ridge(alpha=params["alpha"], random_state=context.random_state)


RIDGE = LearnerSpec("my_ridge", "scaled", "ridge regression (a registered learner)", _ridge,
                    space={"any": {"alpha": FloatDistribution(1e-3, 1e3, log=True)}},
                    defaults={"alpha": 2.0}, tasks=("regression",), searched=False)


def test_a_registered_learner_is_searched_when_named(monkeypatch):
    monkeypatch.setitem(LEARNERS, RIDGE.name, RIDGE)  # removed again after the test
    register_learner(RIDGE)  # the same spec again: a no-op
    assert RIDGE.name not in DEFAULT_LEARNERS
    estimator = build_estimator("my_ridge", {"alpha": 2.0}, "regression", random_state=7)
    assert isinstance(estimator, Ridge) and estimator.alpha == 2.0
    assert estimator.random_state == 7
    X = [[float(i), float(i % 3)] for i in range(40)]
    y = [2.0 * a + b for a, b in X]
    model = AutoMLRegressor(n_trials=2, learners=["my_ridge"], isolation="none",
                            storage="memory", verbose=0).fit(X, y)
    board = model.leaderboard().sort_values("trial")
    assert list(board["learner"]) == ["my_ridge"] * 2
    assert board["params"].iloc[0] == {"alpha": 2.0}  # its defaults come first
    with pytest.raises(ValueError, match="already registered"):
        register_learner(replace(RIDGE, description="another"))
    with pytest.raises(DataError, match="is for regression only"):
        build_estimator("my_ridge", {"alpha": 1.0}, "classification", random_state=0)


def test_learner_modules_are_imported_once_and_a_missing_one_is_named(monkeypatch):
    monkeypatch.setenv(LEARNER_MODULES_ENV, "automl_meta.testing.faults, no_such_module")
    with pytest.raises(DataError, match="'no_such_module', which cannot be imported"):
        load_learner_modules()
    assert LEARNERS["fault_injection"] is FAULT_LEARNER


def test_build_context_tells_the_task():
    assert BuildContext("classification", 0).classification
    assert not BuildContext("regression", 0).classification
