"""One conditional search space over every learner family (each family's distributions
are in its :class:`~automl_meta.learners.LearnerSpec`).

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
from ..learners.registry import LEARNERS

LEARNER_PARAM = "learner"


def learner_space(learner: str, task: Task) -> dict[str, BaseDistribution]:
    """The distributions of one learner's hyperparameters, without the name prefix.

    Parameters
    ----------
    learner : str
        The family.
    task : {"classification", "regression"}
        The task.
    """
    return LEARNERS[learner].space_for(task)


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
