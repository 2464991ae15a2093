"""Running a search: the objective, trial isolation in worker processes, the budgeted loop."""

from __future__ import annotations

from .evaluation import EvaluationData, Evaluator
from .executor import Executor, InProcessExecutor, ProcessExecutor, make_executor
from .runner import SearchResult, run_search, trial_seed

__all__ = [
    "EvaluationData",
    "Evaluator",
    "Executor",
    "InProcessExecutor",
    "ProcessExecutor",
    "SearchResult",
    "make_executor",
    "run_search",
    "trial_seed",
]
