"""The trial attributes automl-meta writes: one home for their keys, the trial origins
and the failure reasons.

Studies are plain Optuna studies, so these are what a person reads in optuna-dashboard
(a trial's "User Attributes") and what the knowledge base, the report and joining
workers read back; every module writes and reads them through these names. A trial
records :data:`LEARNER`, :data:`SEED`, :data:`WORKER`, :data:`FIT_TIME` (seconds of the
cross-validated fits), :data:`FOLD_SCORES`, :data:`DEVICE` (where a torch trial
trained), :data:`ORIGIN` (who proposed the configuration: one of :data:`ORIGINS`, or
:func:`warm_start_origin` of the warm start's source), for a warm-start proposal
:data:`WARM_START_SOURCE` (the past dataset or portfolio entry it came from),
:data:`PREDICTED_SCORE` and :data:`PREDICTED_SECONDS` (what the warm start expected),
:data:`RESUMES` (the interrupted trial it runs again), and for a failed trial
:data:`FAILURE_REASON` (a :data:`FailureReason`) and :data:`FAILURE_MESSAGE`. The study's
own attributes are listed on the storage guide page.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["DEFAULT", "DEVICE", "FAILURE_MESSAGE", "FAILURE_REASON", "FIT_TIME", "FOLD_SCORES",
           "LEARNER", "ORIGIN", "ORIGINS", "PORTFOLIO", "PREDICTED_SCORE", "PREDICTED_SECONDS",
           "RESUMES", "SAMPLER", "SEED", "WARM_START", "WARM_START_SOURCE", "WORKER",
           "FailureReason", "failure_reason", "warm_start_origin"]

# -- trial user attributes
LEARNER = "learner"
SEED = "seed"
WORKER = "worker"
FIT_TIME = "fit_time"
FOLD_SCORES = "fold_scores"
DEVICE = "device"
ORIGIN = "origin"
WARM_START_SOURCE = "warm_start_source"
PREDICTED_SCORE = "predicted_score"
PREDICTED_SECONDS = "predicted_seconds"
RESUMES = "resumes"
FAILURE_REASON = "failure_reason"
FAILURE_MESSAGE = "failure_message"

# -- trial origins (ORIGIN's values)
DEFAULT = "default"  # a family's well-known default configuration
SAMPLER = "sampler"  # drawn by the study's sampler (TPE or the GP)
PORTFOLIO = "portfolio"  # the corpus build's shared portfolio
WARM_START = "warm-start"  # a proposal of the warm start: "warm-start:<source>"
ORIGINS = (DEFAULT, SAMPLER, PORTFOLIO)


def warm_start_origin(source: str) -> str:
    """The origin of a warm-start proposal from ``source``.

    Parameters
    ----------
    source : str
        What proposed it: ``"knn"``, ``"surrogate"``, ``"portfolio"`` or
        ``"same-dataset"``.

    Examples
    --------
    >>> warm_start_origin("knn")
    'warm-start:knn'
    """
    return f"{WARM_START}:{source}"


# Why a trial failed; stored in the trial's FAILURE_REASON attribute, except
# "heartbeat", which readers give a failed trial that has none (see failure_reason).
FailureReason = Literal["error", "timeout", "memory", "crash", "nan-score", "cuda-oom", "budget",
                        "interrupted", "heartbeat"]


def failure_reason(trial: Any) -> str | None:
    """Why a finished Optuna trial failed: its ``failure_reason`` user attribute; or
    ``"heartbeat"`` for a failed trial without one, which only Optuna's stale-trial check
    fails (its worker stopped sending heartbeats: killed, or hung), and which cannot be
    annotated once failed; None for a trial that did not fail.

    Parameters
    ----------
    trial : optuna.trial.FrozenTrial
        A finished trial.
    """
    reason = trial.user_attrs.get(FAILURE_REASON)
    if reason is None and getattr(trial.state, "name", "") == "FAIL":
        return "heartbeat"
    return None if reason is None else str(reason)
