"""The budgeted search loop over an Optuna study (ask, evaluate in a worker, tell)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import optuna
from optuna.trial import TrialState

from .._types import Task, TrialOutcome
from ..search_space import sample_config
from .executor import InProcessExecutor, ProcessExecutor
from .progress import SearchProgress

logger = logging.getLogger(__name__)

# Trials never start with less than this much budget left (seconds).
MIN_TRIAL_SECONDS = 0.05


def trial_seed(random_state: int, trial_number: int) -> int:
    """The per-trial seed: derived from the search seed and the trial number.

    >>> trial_seed(0, 3) == trial_seed(0, 3) != trial_seed(0, 4)
    True
    """
    state = np.random.SeedSequence([int(random_state) & 0xFFFFFFFF, int(trial_number)])
    return int(state.generate_state(1)[0] % (2**31 - 1))


@dataclass
class SearchResult:
    """What a search did."""

    n_complete: int = 0
    n_failed: int = 0
    interrupted: bool = False
    out_of_time: bool = False
    failures: dict[str, int] = field(default_factory=dict)
    last_ok: bool = False


def _record(trial: optuna.Trial, study: optuna.Study, outcome: TrialOutcome) -> None:
    trial.set_user_attr("fit_time", round(outcome.fit_time, 4))
    if "device" in outcome.extra:
        trial.set_user_attr("device", outcome.extra["device"])
    if outcome.fold_scores:
        trial.set_user_attr("fold_scores", [round(float(s), 6) for s in outcome.fold_scores])
    if outcome.ok:
        study.tell(trial, outcome.score)
        return
    trial.set_user_attr("failure_reason", outcome.failure_reason)
    trial.set_user_attr("failure_message", outcome.failure_message)
    study.tell(trial, state=TrialState.FAIL)


def run_search(
    study: optuna.Study,
    executor: ProcessExecutor | InProcessExecutor,
    *,
    learners: Sequence[str],
    task: Task,
    n_trials: int | None,
    deadline: float | None,
    trial_timeout: float | None,
    random_state: int,
    progress: SearchProgress,
    initial_configs: Sequence[dict] = (),
    initial_attrs: Sequence[dict] | None = None,
) -> SearchResult:
    """Run trials until ``n_trials`` are done or the monotonic ``deadline`` passes.

    A trial's time limit is the smaller of ``trial_timeout`` and the time left; a trial
    cut off by the deadline is recorded as failed with reason ``"budget"``. Ctrl-C stops the
    search after recording the running trial as failed (reason ``"interrupted"``); the caller
    still refits the best trial so far.

    ``initial_configs`` run first, with the user attributes ``initial_attrs`` (one dict
    per configuration; default ``{"origin": "default"}``). Every trial records its
    ``origin`` user attribute, ``"sampler"`` for the sampler's own.
    """
    # Enqueued one at a time, just before they run: a search stopped early leaves no
    # waiting trials behind in the study.
    pending = list(zip(initial_configs, initial_attrs or [{"origin": "default"}] * len(
        initial_configs), strict=True))
    result = SearchResult()
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    best: list[float] = []
    while n_trials is None or result.n_complete + result.n_failed < n_trials:
        if deadline is not None and deadline - time.monotonic() < MIN_TRIAL_SECONDS:
            result.out_of_time = True
            break
        trial: optuna.Trial | None = None
        try:
            if pending:
                config, attrs = pending.pop(0)
                study.enqueue_trial(config, user_attrs=attrs)
            trial = study.ask()
            _run_one(study, trial, executor, learners, task, deadline, trial_timeout,
                     random_state, result, maximize, best)
        except KeyboardInterrupt:
            if trial is not None:
                _mark_interrupted(study, trial)
            result.interrupted = True
            logger.warning("Search interrupted; refitting the best trial so far.")
            break
        progress.update(result.last_ok, best[0] if best else None)
        if result.out_of_time:
            break
    return result


def _run_one(study: optuna.Study, trial: optuna.Trial,
             executor: ProcessExecutor | InProcessExecutor, learners: Sequence[str],
             task: Task, deadline: float | None, trial_timeout: float | None,
             random_state: int, result: SearchResult, maximize: bool,
             best: list[float]) -> None:
    """Sample, evaluate and record one trial; updates ``result`` and ``best`` in place."""
    config = sample_config(trial, learners, task)
    seed = trial_seed(random_state, trial.number)
    trial.set_user_attr("learner", config["learner"])
    if "origin" not in trial.user_attrs:
        trial.set_user_attr("origin", "sampler")
    trial.set_user_attr("seed", seed)
    limit, cut_by_budget = trial_timeout, False
    if deadline is not None:
        left = max(deadline - time.monotonic(), MIN_TRIAL_SECONDS)
        if limit is None or left < limit:
            limit, cut_by_budget = left, True
    outcome = executor.evaluate(config, seed, limit)
    if outcome.failure_reason == "timeout" and cut_by_budget:
        outcome.failure_reason = "budget"
        outcome.failure_message = "stopped: the search's time budget ran out"
        result.out_of_time = True
    _record(trial, study, outcome)
    result.last_ok = outcome.ok
    if outcome.ok:
        result.n_complete += 1
        if not best or (outcome.score > best[0] if maximize else outcome.score < best[0]):
            best[:] = [outcome.score]
    else:
        result.n_failed += 1
        reason = str(outcome.failure_reason)
        result.failures[reason] = result.failures.get(reason, 0) + 1
        logger.info("Trial %d (%s) failed: %s: %s", trial.number, config["learner"],
                    reason, outcome.failure_message)


def _mark_interrupted(study: optuna.Study, trial: optuna.Trial) -> None:
    frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == trial.number)
    if frozen.state.is_finished():
        return  # interrupted after its result was stored: keep the result
    trial.set_user_attr("failure_reason", "interrupted")
    trial.set_user_attr("failure_message", "the search was interrupted (Ctrl-C)")
    study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
