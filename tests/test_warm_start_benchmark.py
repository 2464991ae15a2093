"""The leave-one-dataset-out lookup benchmark's machinery (the benchmark itself is a
command, not a test: see README, "Warm start")."""

from __future__ import annotations

import numpy as np
import pytest

from automl_meta.benchmarks.warm_start import Lookup, markdown_table, run_method, summarise
from automl_meta.warm_start.encoding import ConfigEncoder

LEARNERS = ["linear", "knn"]


@pytest.fixture
def lookup():
    enc = ConfigEncoder(LEARNERS, "classification")
    configs = enc.random_configs(24, np.random.default_rng(0))
    # linear configurations score by C (best at the largest), k-NN configurations poorly
    scores = np.array([c["linear.C"] / 1000 if c["learner"] == "linear" else 0.0
                       for c in configs])
    scores = (scores - scores.min()) / (scores.max() - scores.min())
    return Lookup(configs, scores, np.ones(len(configs)), enc)


def test_snap_prefers_the_same_learner_and_skips_tried_entries(lookup):
    target = next(c for c in lookup.configs if c["learner"] == "knn")
    first = lookup.snap(target)
    assert lookup.configs[first] == target
    lookup.take(first)
    second = lookup.snap(target)
    assert second != first and lookup.configs[second]["learner"] == "knn"


@pytest.mark.parametrize("method", ["random", "tpe_cold", "gp_cold"])
def test_cold_methods_try_each_pool_entry_at_most_once(lookup, method):
    result = run_method(method, lookup, "classification", LEARNERS, warm=lambda s: [],
                        prior=None, seed=0)
    assert len(result["scores"]) == len(lookup.configs)
    assert sorted(result["scores"]) == sorted(lookup.scores.tolist())  # a permutation
    assert len(result["overhead"]) == len(lookup.configs)


def test_warm_methods_start_with_the_proposals(lookup):
    best = lookup.configs[int(np.argmax(lookup.scores))]
    result = run_method("full", lookup, "classification", LEARNERS, warm=lambda s: [best],
                        prior=lambda configs: np.zeros(len(configs)), seed=0)
    assert result["scores"][0] == 1.0


def test_the_cost_aware_method_is_told_the_budget(lookup):
    from automl_meta.benchmarks.warm_start import BUDGET_TRIALS

    told = []

    def warm(strategy, budget=None):
        told.append((strategy, budget))
        return []

    run_method("full_cost", lookup, "classification", LEARNERS, warm=warm,
               prior=lambda configs: np.zeros(len(configs)), seed=0)
    assert told == [("full", BUDGET_TRIALS * 1.0)]  # every pool entry took 1 s


def test_summary_reports_regret_rank_and_time_to_one_percent():
    from automl_meta.benchmarks.warm_start import BUDGET_TRIALS

    results = [{"mean_fit_time": 2.5 / BUDGET_TRIALS,  # a budget of 2.5 s
                "methods": {"a": {"scores": [0.5, 1.0], "fit_times": [1.0, 2.0],
                                  "overhead": [0.0, 0.0]},
                            "b": {"scores": [1.0, 0.2], "fit_times": [5.0, 1.0],
                                  "overhead": [0.5, 0.0]}}}]
    table = summarise(results, ["a", "b"])
    assert table.loc["a", "regret@1"] == 0.5 and table.loc["b", "regret@1"] == 0.0
    assert table.loc["a", "regret@3"] == 0.0  # past the end: the best found
    assert table.loc["b", "rank@1"] == 1.0 and table.loc["a", "rank@1"] == 2.0
    assert table.loc["a", "s_to_1%"] == 3.0 and table.loc["b", "s_to_1%"] == 5.5
    # within 2.5 s of fit time: a's first trial only; not even b's first
    assert table.loc["a", "regret@budget"] == 0.5 and table.loc["b", "regret@budget"] == 1.0
    text = markdown_table(table)
    assert text.splitlines()[0].startswith("| method | regret@1")


def test_single_pick_bound_holds_each_family_out():
    """On a knowledge base where the forest wins on big data and the linear model on small
    data, the nearest dataset's best is always right; the best mean over the other
    families is always wrong (holding a dataset out tips the majority the other way)."""
    from optuna.storages import InMemoryStorage

    from automl_meta.benchmarks.warm_start import single_pick_table
    from automl_meta.knowledge import KnowledgeBase

    from .test_warm_start import add_dataset

    storage, rng = InMemoryStorage(), np.random.default_rng(0)
    for i in range(6):
        add_dataset(storage, f"big{i}", f"big{i}", 2.0 + 0.1 * i, rng, extra_configs=0)
        add_dataset(storage, f"small{i}", f"small{i // 2}", -2.0 - 0.1 * i, rng,
                    extra_configs=0)
    table = single_pick_table(KnowledgeBase(storage), neighbours=(1,))
    column = "classification (12)"
    assert table.at["best mean over the 1 nearest datasets", column] == 0.0
    assert table.at["best mean over the knowledge base", column] == 1.0
    assert table.at["10 random picks (for comparison)", column] == 0.0  # 3 configurations
    assert list(table.columns) == [column, "all (12)"]


def test_cost_model_table_predicts_held_out_fit_times():
    """The fake knowledge base's fit times follow the configuration exactly (a forest's
    grows with its trees; linear and k-NN are constant), so held-out predictions are close
    and order each dataset's configurations right."""
    from optuna.storages import InMemoryStorage

    from automl_meta.benchmarks.warm_start import cost_model_table
    from automl_meta.knowledge import KnowledgeBase

    from .test_warm_start import add_dataset

    storage, rng = InMemoryStorage(), np.random.default_rng(0)
    for i in range(10):
        add_dataset(storage, f"d{i}", f"d{i}", (-1) ** i * 2.0, rng, extra_configs=12)
    table = cost_model_table(KnowledgeBase(storage), n_folds=2)
    row = table.loc["classification"]
    assert row["trials"] > 140  # every distinct configuration of every dataset
    assert 1.0 <= row["median factor off"] < 1.5
    assert row["within-dataset Spearman"] > 0.8
