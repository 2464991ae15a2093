"""Small shared types used across layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .attributes import FailureReason

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")

@dataclass
class TrialOutcome:
    """What evaluating one configuration produced, as sent back by a worker."""

    ok: bool
    score: float = float("nan")
    fold_scores: list[float] = field(default_factory=list)
    fit_time: float = 0.0
    failure_reason: FailureReason | None = None
    failure_message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
