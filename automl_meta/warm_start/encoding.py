"""Configurations as numeric vectors, for the surrogate and the Gaussian process.

One column per learner (one-hot) and one per ``"<learner>.<param>"``, scaled to [0, 1]
(log-scaled where the distribution is, categorical choices by index). A parameter of
another family is missing: ``NaN`` (LightGBM treats it natively; the GP imputes it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from .._types import Task
from ..search_space import LEARNER_PARAM
from ..search_space.space import learner_space

__all__ = ["ConfigEncoder"]


class ConfigEncoder:
    """Encode and decode the flat configurations of ``learners`` for ``task``.

    Parameters
    ----------
    learners : sequence of str
        The families whose configurations are encoded.
    task : {"classification", "regression"}
        The task.

    Examples
    --------
    >>> enc = ConfigEncoder(["knn", "linear"], "classification")
    >>> enc.encode([{"learner": "linear", "linear.C": 1.0}]).round(2).tolist()
    [[0.0, 1.0, nan, nan, nan, 0.57]]
    """

    def __init__(self, learners: Sequence[str], task: Task):
        self.learners = list(learners)
        self.task = task
        self.params: list[tuple[str, str, BaseDistribution]] = [
            (learner, f"{learner}.{name}", dist)
            for learner in self.learners
            for name, dist in learner_space(learner, task).items()]
        self.columns = [f"{LEARNER_PARAM}={lr}" for lr in self.learners] + [
            key for _, key, _ in self.params]

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    def encode(self, configs: Sequence[dict[str, Any]]) -> np.ndarray:
        out = np.full((len(configs), self.n_columns), np.nan)
        n_learners = len(self.learners)
        for i, config in enumerate(configs):
            learner = config.get(LEARNER_PARAM)
            if learner in self.learners:
                out[i, :n_learners] = 0.0
                out[i, self.learners.index(learner)] = 1.0
            for j, (_, key, dist) in enumerate(self.params):
                if key in config:
                    out[i, n_learners + j] = _to_unit(config[key], dist)
        return out

    def decode(self, learner: str, unit: np.ndarray) -> dict[str, Any]:
        """The configuration of ``learner`` whose parameters sit at ``unit`` (a full
        encoded row; only that learner's parameter columns are read)."""
        config: dict[str, Any] = {LEARNER_PARAM: learner}
        n_learners = len(self.learners)
        for j, (owner, key, dist) in enumerate(self.params):
            if owner == learner:
                config[key] = _from_unit(float(unit[n_learners + j]), dist)
        return config

    def learner_columns(self, learner: str) -> np.ndarray:
        """Indices of the parameter columns of ``learner``."""
        n_learners = len(self.learners)
        return np.array([n_learners + j for j, (owner, _, _) in enumerate(self.params)
                         if owner == learner], dtype=int)

    def supports(self, config: dict[str, Any]) -> bool:
        """Whether ``config`` belongs to this space (its learner is searched and every
        parameter lies inside its distribution)."""
        learner = config.get(LEARNER_PARAM)
        if learner not in self.learners:
            return False
        space = learner_space(learner, self.task)
        for name, dist in space.items():
            value = config.get(f"{learner}.{name}")
            if value is None or not dist._contains(dist.to_internal_repr(value)):
                return False
        return True

    def random_configs(self, n: int, rng: np.random.Generator,
                       learners: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """``n`` configurations drawn uniformly (in the encoded scale), learners in turn."""
        pool = list(learners) if learners else self.learners
        return [self.decode(pool[i % len(pool)], rng.random(self.n_columns))
                for i in range(n)]

    def perturb(self, config: dict[str, Any], rng: np.random.Generator, scale: float = 0.1
                ) -> dict[str, Any]:
        """A neighbour of ``config``: its parameters moved by Gaussian noise in [0, 1]."""
        learner = str(config[LEARNER_PARAM])
        row = self.encode([config])[0]
        cols = self.learner_columns(learner)
        row[cols] = np.clip(row[cols] + rng.normal(0.0, scale, len(cols)), 0.0, 1.0)
        return self.decode(learner, row)


def _to_unit(value: Any, dist: BaseDistribution) -> float:
    if isinstance(dist, CategoricalDistribution):
        choices = list(dist.choices)
        index = choices.index(value) if value in choices else 0
        return index / max(len(choices) - 1, 1)
    assert isinstance(dist, (FloatDistribution, IntDistribution))
    lo, hi, v = float(dist.low), float(dist.high), float(value)
    if hi <= lo:
        return 0.0
    if dist.log:
        lo, hi, v = math.log(lo), math.log(hi), math.log(max(v, float(dist.low)))
    return float(min(max((v - lo) / (hi - lo), 0.0), 1.0))


def _from_unit(u: float, dist: BaseDistribution) -> Any:
    u = min(max(u, 0.0), 1.0)
    if isinstance(dist, CategoricalDistribution):
        choices = list(dist.choices)
        return choices[min(int(round(u * (len(choices) - 1))), len(choices) - 1)]
    assert isinstance(dist, (FloatDistribution, IntDistribution))
    lo, hi = float(dist.low), float(dist.high)
    if dist.log:
        value = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    else:
        value = lo + u * (hi - lo)
    if isinstance(dist, IntDistribution):
        return int(min(max(round(value), dist.low), dist.high))
    return float(min(max(value, lo), hi))
