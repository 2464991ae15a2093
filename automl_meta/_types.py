"""Small shared types used across layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")

# Why a trial failed; stored in the trial's ``failure_reason`` user attribute, except
# "heartbeat", which readers give a failed trial that has none (see failure_reason).
FailureReason = Literal["error", "timeout", "memory", "crash", "nan-score", "cuda-oom", "budget",
                        "interrupted", "heartbeat"]


def failure_reason(trial: Any) -> str | None:
    """Why a finished Optuna trial failed: its ``failure_reason`` user attribute; or
    ``"heartbeat"`` for a failed trial without one, which only Optuna's stale-trial check
    fails (its worker stopped sending heartbeats: killed, or hung), and which cannot be
    annotated once failed; None for a trial that did not fail."""
    reason = trial.user_attrs.get("failure_reason")
    if reason is None and getattr(trial.state, "name", "") == "FAIL":
        return "heartbeat"
    return None if reason is None else str(reason)


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
