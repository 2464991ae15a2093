"""One conditional search space over every learner family.

A configuration is a flat dict, exactly Optuna's ``trial.params``: the ``"learner"`` key
picks the family and each hyperparameter is named ``"<learner>.<param>"``, so parameters of
different families never share a name and any configuration can be enqueued as a trial.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    distribution_to_json,
)

from .._types import Task

LEARNER_PARAM = "learner"


def _float(low: float, high: float, log: bool = False) -> FloatDistribution:
    return FloatDistribution(low, high, log=log)


def _int(low: int, high: int, log: bool = False) -> IntDistribution:
    return IntDistribution(low, high, log=log)


_FOREST = {
    "n_estimators": _int(50, 400, log=True),
    "max_features": _float(0.1, 1.0),
    "min_samples_leaf": _int(1, 20, log=True),
}

# learner -> {task or "any": {param: distribution}}
LEARNER_SPACES: dict[str, dict[str, dict[str, BaseDistribution]]] = {
    "baseline": {"any": {}},
    "linear": {
        "classification": {"C": _float(1e-4, 1e3, log=True)},
        "regression": {"alpha": _float(1e-4, 1e3, log=True)},
    },
    "knn": {
        "any": {
            "n_neighbors": _int(1, 50, log=True),
            "weights": CategoricalDistribution(["uniform", "distance"]),
            "p": _int(1, 2),
        }
    },
    "svm": {
        "classification": {"C": _float(1e-2, 1e3, log=True), "gamma": _float(1e-4, 1.0, log=True)},
        "regression": {
            "C": _float(1e-2, 1e3, log=True),
            "gamma": _float(1e-4, 1.0, log=True),
            "epsilon": _float(1e-3, 1.0, log=True),
        },
    },
    "random_forest": {"any": _FOREST},
    "extra_trees": {"any": _FOREST},
    "hist_gradient_boosting": {
        "any": {
            "learning_rate": _float(0.01, 0.3, log=True),
            "max_iter": _int(50, 500, log=True),
            "max_leaf_nodes": _int(8, 128, log=True),
            "min_samples_leaf": _int(2, 100, log=True),
            "l2_regularization": _float(1e-6, 10.0, log=True),
        }
    },
    "lightgbm": {
        "any": {
            "n_estimators": _int(50, 1000, log=True),
            "learning_rate": _float(0.01, 0.3, log=True),
            "num_leaves": _int(8, 256, log=True),
            "min_child_samples": _int(2, 100, log=True),
            "subsample": _float(0.5, 1.0),
            "colsample_bytree": _float(0.3, 1.0),
            "reg_lambda": _float(1e-6, 10.0, log=True),
        }
    },
    "catboost": {
        "any": {
            "iterations": _int(50, 1000, log=True),
            "learning_rate": _float(0.01, 0.3, log=True),
            "depth": _int(4, 8),
            "l2_leaf_reg": _float(0.5, 30.0, log=True),
        }
    },
    "mlp": {
        "any": {
            "hidden_size": _int(16, 256, log=True),
            "n_layers": _int(1, 3),
            "dropout": _float(0.0, 0.5),
            "learning_rate": _float(1e-4, 1e-2, log=True),
            "weight_decay": _float(1e-6, 1e-2, log=True),
            "epochs": _int(5, 100, log=True),
            "batch_size": CategoricalDistribution([32, 64, 128, 256]),
        }
    },
    # From the meta-learned initialisation (automl_meta.learners.torch.meta): SGD steps as
    # in meta-training's inner loop; adapt every layer or the output layer only; the output
    # layer starts from the meta-learned units or from the class prototypes; how many
    # views of the inputs to fine-tune and average.
    "mlp_meta": {
        "classification": {
            "steps": _int(1, 300, log=True),
            "learning_rate": _float(0.01, 1.0, log=True),
            "adapt": CategoricalDistribution(["all", "head"]),
            "head": CategoricalDistribution(["meta", "prototypes"]),
            "views": _int(1, 8),
        },
        "regression": {
            "steps": _int(1, 300, log=True),
            "learning_rate": _float(0.01, 1.0, log=True),
            "adapt": CategoricalDistribution(["all", "head"]),
            "views": _int(1, 8),
        },
    },
    "protonet": {
        "classification": {
            "distance": CategoricalDistribution(["euclidean", "cosine"]),
            "temperature": _float(0.05, 20.0, log=True),
        }
    },
    # Testing only: see automl_meta.testing.faults.
    "fault_injection": {
        "any": {"mode": CategoricalDistribution(
            ["ok", "raise", "hang", "segfault", "memory", "nan", "killed"])}
    },
}


def learner_space(learner: str, task: Task) -> dict[str, BaseDistribution]:
    """The distributions of one learner's hyperparameters, without the name prefix.

    Parameters
    ----------
    learner : str
        The family.
    task : {"classification", "regression"}
        The task.
    """
    spaces = LEARNER_SPACES[learner]
    return dict(spaces.get(task, spaces.get("any", {})))


def sample_config(trial: Any, learners: Sequence[str], task: Task) -> dict[str, Any]:
    """Draw one configuration with Optuna's define-by-run API.

    Works with any object that has Optuna's ``suggest_*`` methods (a ``Trial``, or a
    ``FixedTrial`` for tests). Returns the flat configuration, as in ``trial.params``.

    Parameters
    ----------
    trial : optuna.Trial or FixedTrial
        What draws the values.
    learners : sequence of str
        The families to choose among.
    task : {"classification", "regression"}
        The task.
    """
    learner = trial.suggest_categorical(LEARNER_PARAM, list(learners))
    config: dict[str, Any] = {LEARNER_PARAM: learner}
    for name, dist in learner_space(learner, task).items():
        key = f"{learner}.{name}"
        if isinstance(dist, CategoricalDistribution):
            config[key] = trial.suggest_categorical(key, list(dist.choices))
        elif isinstance(dist, IntDistribution):
            config[key] = trial.suggest_int(key, dist.low, dist.high, log=dist.log)
        elif isinstance(dist, FloatDistribution):
            config[key] = trial.suggest_float(key, dist.low, dist.high, log=dist.log)
        else:  # pragma: no cover - only the three kinds above are used
            raise TypeError(f"Unsupported distribution {dist!r} for {key}.")
    return config


def config_learner(config: dict[str, Any]) -> str:
    """The learner family of a configuration.

    Parameters
    ----------
    config : dict
        A flat configuration (``trial.params``).
    """
    return str(config[LEARNER_PARAM])


def learner_params(config: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters of a configuration with the ``"<learner>."`` prefix removed.

    Parameters
    ----------
    config : dict
        A flat configuration (``trial.params``).
    """
    prefix = f"{config_learner(config)}."
    return {k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)}


def format_params(params: dict[str, Any], digits: int = 4) -> str:
    """``"C=0.5, penalty=l2"``: hyperparameters for people (floats to ``digits``).

    Parameters
    ----------
    params : dict
        Hyperparameters.
    digits : int, default 4
        Significant digits of floats.

    Examples
    --------
    >>> format_params({"C": 0.123456, "weights": "uniform"}, 3)
    'C=0.123, weights=uniform'
    """
    return ", ".join(f"{k}={v:.{digits}g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items())


def search_space_description(learners: Sequence[str], task: Task) -> str:
    """A JSON description of the space (Optuna's distribution JSON), stored in the study.

    Parameters
    ----------
    learners : sequence of str
        The families.
    task : {"classification", "regression"}
        The task.
    """
    desc: dict[str, Any] = {
        LEARNER_PARAM: distribution_to_json(CategoricalDistribution(list(learners)))
    }
    for learner in learners:
        for name, dist in learner_space(learner, task).items():
            desc[f"{learner}.{name}"] = distribution_to_json(dist)
    return json.dumps(desc, sort_keys=True)
