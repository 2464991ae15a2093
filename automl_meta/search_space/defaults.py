"""Hand-picked starting configurations: each family's well-known defaults.

A fresh search enqueues these first (cheapest and most reliable first), so that even a
tiny budget yields a sound model before the sampler explores. The learned warm start
replaces them with configurations proposed from the knowledge base.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._types import Task
from ..learners.registry import LEARNERS
from .space import LEARNER_PARAM


def default_configs(learners: Sequence[str], task: Task) -> list[dict[str, Any]]:
    """The default configuration of each of ``learners`` that has one, as flat trial
    params, cheapest and most reliable first (:attr:`LearnerSpec.default_rank`).

    Parameters
    ----------
    learners : sequence of str
        The families.
    task : {"classification", "regression"}
        The task.
    """
    known = (LEARNERS[n] for n in dict.fromkeys(learners) if n in LEARNERS)
    specs = sorted((spec for spec in known if spec.defaults), key=lambda s: s.default_rank)
    configs = []
    for spec in specs:
        space = spec.space_for(task)
        config: dict[str, Any] = {LEARNER_PARAM: spec.name}
        config.update({f"{spec.name}.{k}": v for k, v in spec.defaults.items() if k in space})
        configs.append(config)
    return configs
