"""Hand-picked starting configurations: each family's well-known defaults.

A fresh search enqueues these first (cheapest and most reliable first), so that even a
tiny budget yields a sound model before the sampler explores. The learned warm start
replaces them with configurations proposed from the knowledge base.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._types import Task
from .space import LEARNER_PARAM

_DEFAULTS: list[dict[str, Any]] = [
    {LEARNER_PARAM: "lightgbm", "n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31,
     "min_child_samples": 20, "subsample": 1.0, "colsample_bytree": 1.0, "reg_lambda": 1e-6},
    {LEARNER_PARAM: "linear", "C": 1.0, "alpha": 1.0},
    {LEARNER_PARAM: "random_forest", "n_estimators": 100, "max_features": 0.5,
     "min_samples_leaf": 1},
    {LEARNER_PARAM: "hist_gradient_boosting", "learning_rate": 0.1, "max_iter": 100,
     "max_leaf_nodes": 31, "min_samples_leaf": 20, "l2_regularization": 1e-6},
    {LEARNER_PARAM: "knn", "n_neighbors": 5, "weights": "uniform", "p": 2},
    {LEARNER_PARAM: "extra_trees", "n_estimators": 100, "max_features": 0.5,
     "min_samples_leaf": 1},
    {LEARNER_PARAM: "catboost", "iterations": 300, "learning_rate": 0.08, "depth": 6,
     "l2_leaf_reg": 3.0},
    {LEARNER_PARAM: "svm", "C": 1.0, "gamma": 0.01, "epsilon": 0.1},
    {LEARNER_PARAM: "mlp", "hidden_size": 64, "n_layers": 2, "dropout": 0.1,
     "learning_rate": 1e-3, "weight_decay": 1e-5, "epochs": 20, "batch_size": 64},
    {LEARNER_PARAM: "protonet", "distance": "euclidean", "temperature": 1.0},
    {LEARNER_PARAM: "mlp_meta", "steps": 25, "learning_rate": 0.1, "adapt": "all",
     "head": "meta", "views": 5},
]


def default_configs(learners: Sequence[str], task: Task) -> list[dict[str, Any]]:
    """The default configuration of each of ``learners``, as flat trial params.

    Parameters
    ----------
    learners : sequence of str
        The families.
    task : {"classification", "regression"}
        The task.
    """
    from .space import learner_space

    configs = []
    for entry in _DEFAULTS:
        learner = entry[LEARNER_PARAM]
        if learner not in learners:
            continue
        space = learner_space(learner, task)
        config = {LEARNER_PARAM: learner}
        config.update({f"{learner}.{k}": v for k, v in entry.items() if k in space})
        configs.append(config)
    return configs
