from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from automl_meta.learners import LEARNER_MODULES_ENV

# The fault-injection learner (robustness tests) is registered here and, through the
# environment the trial workers and CLI processes inherit, in every process of a test.
os.environ[LEARNER_MODULES_ENV] = "automl_meta.testing.faults"
import automl_meta.testing.faults  # noqa: E402, F401  (registers "fault_injection")


@pytest.fixture(scope="session")
def empty_knowledge(tmp_path_factory):
    """An empty knowledge base: a search learns nothing from it and starts cold."""
    import optuna

    url = f"sqlite:///{tmp_path_factory.mktemp('knowledge') / 'knowledge.db'}"
    optuna.storages.RDBStorage(url)
    return url


@pytest.fixture(autouse=True)
def _study_storage_in_tmp(tmp_path, monkeypatch, empty_knowledge):
    """No test writes to ./studies: the default storage points into the test's tmp dir,
    and the default knowledge base is an empty one (tests of the warm start name theirs),
    so searches start cold from each family's defaults."""
    monkeypatch.setenv("AUTOML_META_STORAGE", f"sqlite:///{tmp_path / 'studies.db'}")
    monkeypatch.setenv("AUTOML_META_KNOWLEDGE", empty_knowledge)


# A fast search: two trials (the first two default configurations), in-process, in memory.
FAST = dict(n_trials=2, verbose=0, isolation="none", storage="memory")


@pytest.fixture
def fast():
    return dict(FAST)


@pytest.fixture
def clf_frame():
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame({
        "num": rng.normal(size=n),
        "num2": rng.uniform(size=n),
        "cat": rng.choice(["red", "green", "blue"], size=n),
    })
    frame["target"] = np.where(frame["num"] + (frame["cat"] == "red") > 0.3, "yes", "no")
    return frame


@pytest.fixture
def reg_frame():
    rng = np.random.default_rng(1)
    n = 100
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = 3 * frame["a"] - frame["b"] + rng.normal(scale=0.1, size=n)
    return frame


def data_warnings(record) -> list[str]:
    from automl_meta.data import DataWarning

    return [str(w.message) for w in record if issubclass(w.category, DataWarning)]


@pytest.fixture
def catch_warnings():
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        yield record
