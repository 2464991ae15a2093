"""Candidate learners: one registry from learner name to :class:`LearnerSpec`."""

from __future__ import annotations

from .registry import (
    DEFAULT_LEARNERS,
    LEARNER_MODULES_ENV,
    LEARNERS,
    available_learners,
    build_estimator,
    load_learner_modules,
    register_learner,
    uses_torch,
)
from .spec import TORCH_IMPORT_SECONDS, BuildContext, LearnerSpec

__all__ = ["DEFAULT_LEARNERS", "LEARNERS", "LEARNER_MODULES_ENV", "TORCH_IMPORT_SECONDS",
           "BuildContext", "LearnerSpec", "available_learners", "build_estimator",
           "load_learner_modules", "register_learner", "uses_torch"]
