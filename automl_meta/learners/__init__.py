"""Candidate learners: one registry from learner name to estimator."""

from __future__ import annotations

from .registry import (
    DEFAULT_LEARNERS,
    LEARNERS,
    LearnerSpec,
    available_learners,
    build_estimator,
)

__all__ = ["DEFAULT_LEARNERS", "LEARNERS", "LearnerSpec", "available_learners", "build_estimator"]
