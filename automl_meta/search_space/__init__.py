"""The conditional search space: learner name → Optuna distributions."""

from __future__ import annotations

from .defaults import default_configs
from .space import (
    LEARNER_PARAM,
    config_learner,
    format_params,
    learner_params,
    learner_space,
    sample_config,
    search_space_description,
)

__all__ = [
    "LEARNER_PARAM",
    "config_learner",
    "default_configs",
    "format_params",
    "learner_params",
    "learner_space",
    "sample_config",
    "search_space_description",
]
