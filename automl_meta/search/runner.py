"""The budgeted search loop over an Optuna study (ask, evaluate in a worker, tell)."""

from __future__ import annotations

import functools
import logging
import os
import random
import signal
import socket
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import optuna
from optuna.trial import TrialState

from .._optuna import study_storage, trial_id
from .._types import Task, TrialOutcome
from ..attributes import (
    DEFAULT,
    DEVICE,
    FAILURE_MESSAGE,
    FAILURE_REASON,
    FIT_TIME,
    FOLD_SCORES,
    LEARNER,
    ORIGIN,
    PREDICTED_SECONDS,
    SAMPLER,
    SEED,
    WORKER,
)
from ..search_space import sample_config
from .executor import Executor
from .progress import SearchProgress

logger = logging.getLogger(__name__)

# Trials never start with less than this much budget left (seconds).
MIN_TRIAL_SECONDS = 0.05
# With ``reserve_refit``, the search leaves this multiple of the best trial's estimated
# refit time (its fit time over k folds, scaled to all rows), plus REFIT_OVERHEAD seconds,
# for the final refit, so that ``fit`` as a whole keeps to its time budget.
REFIT_SAFETY = 1.5
REFIT_OVERHEAD = 0.3
# A queued warm-start trial whose predicted fit time (its ``predicted_seconds``) is more
# than this multiple of the time left is not started (the cost model is within 2x for
# nine trials in ten), nor one whose worker start and first-use imports
# (:meth:`Executor.preparing_seconds`) plus its predicted fit over this multiple take
# longer than the time left; the search goes on with the next one.
PREDICTED_SLACK = 2.0
# Out-of-fold predictions kept in memory for the ensemble: this many best trials.
KEEP_OOF = 32
# A storage call that fails because the database went away is retried with exponential
# backoff (0.5, 1, 2, ... s) for about this long before the worker gives up.
STORAGE_RETRY_SECONDS = 60.0

T = TypeVar("T")
# Which process ran a trial (the ``worker`` user attribute): host and process id.
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def signals_deferred():
    """Hold Ctrl-C and SIGTERM until the block is done, then act on them.

    A storage write cut in half by ``KeyboardInterrupt`` can leave its database
    transaction open (SQLite then stays locked for the next writer, up to the lock
    timeout); so storage calls finish first and the interrupt follows. Only the main
    thread receives signals: elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        received.append(signum)

    old = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        if received:
            sig, handler = received[0], old[received[0]]
            if callable(handler):
                handler(sig, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(sig)


def with_retry(call: Callable[[], T], what: str) -> T:
    """Run a storage ``call``, retrying while the database is unreachable (a PostgreSQL
    restart, a dropped connection); other errors propagate at once. Signals wait until
    the call is done (:func:`signals_deferred`)."""
    from optuna.exceptions import StorageInternalError

    delay, waited = 0.5, 0.0
    while True:
        try:
            with signals_deferred():
                return call()
        except Exception as exc:  # noqa: BLE001 - filtered just below
            transient = isinstance(exc, StorageInternalError) or (
                type(exc).__module__.startswith("sqlalchemy")
                and type(exc).__name__ in ("OperationalError", "InterfaceError",
                                           "DisconnectionError"))
            if not transient or waited >= STORAGE_RETRY_SECONDS:
                raise
            logger.warning("Storage unreachable while %s (%s); retrying in %.1f s.", what,
                           type(exc).__name__, delay)
            time.sleep(delay * (0.75 + 0.5 * random.random()))
            waited += delay
            delay = min(delay * 2, 8.0)


@contextmanager
def heartbeat(study: optuna.Study, trial: optuna.Trial):
    """Record the trial's heartbeat in the storage while it runs (when the storage has
    heartbeats on), so that other workers can fail it if this process dies."""
    storage: Any = study_storage(study)
    interval = storage.get_heartbeat_interval() if hasattr(
        storage, "get_heartbeat_interval") else None
    if not interval:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while True:
            try:
                storage.record_heartbeat(trial_id(trial))
            except Exception as exc:  # noqa: BLE001 - a missed beat is logged, not fatal
                logger.warning("Heartbeat of trial %d not recorded: %s", trial.number, exc)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, name=f"heartbeat-{trial.number}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def fail_stale_trials(study: optuna.Study) -> None:
    """Fail the running trials of dead workers (no heartbeat for the grace period); the
    storage's failed-trial callback enqueues a retry."""
    def call() -> None:
        with warnings.catch_warnings():  # "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)

    with_retry(call, "failing stale trials")


def trial_seed(random_state: int, trial_number: int) -> int:
    """The per-trial seed: derived from the search seed and the trial number.

    Parameters
    ----------
    random_state : int
        The search's seed.
    trial_number : int
        The trial's number in its study.

    Examples
    --------
    >>> trial_seed(0, 3) == trial_seed(0, 3) != trial_seed(0, 4)
    True
    """
    state = np.random.SeedSequence([int(random_state) & 0xFFFFFFFF, int(trial_number)])
    return int(state.generate_state(1)[0] % (2**31 - 1))


@dataclass
class SearchResult:
    """What a search did.

    Attributes
    ----------
    n_complete : int
        Trials this search completed.
    n_failed : int
        Trials that failed (any reason).
    interrupted : bool
        Stopped by Ctrl-C or SIGTERM.
    out_of_time : bool
        Stopped by its deadline.
    budget_met : bool
        The study's shared trial budget (all workers') is used up.
    failures : dict of str to int
        Failed trials per failure reason.
    last_ok : bool
        Whether the last trial completed.
    refit_seconds : float
        The best trial's estimated refit time on all rows.
    trial_seconds : dict of str to list of float
        Wall seconds of the completed trials, per learner family.
    oof : dict of int to ndarray
        Out-of-fold predictions of the best completed trials, by trial number.
    oof_scores : dict of int to float
        Their scores, signed so that higher is better.
    fold_models : dict of int to list
        Their fitted fold models, where the worker handed them back.
    fixed_reserve : float or None
        Seconds kept for building the ensemble instead of a refit.
    restart_seconds : float
        What starting the trial worker again costs, as last measured: kept for the refit
        too, since a trial stopped at the deadline kills the worker.
    refit_import_seconds : float
        What the best trial's family's first-use imports took in the worker (torch's are
        seconds): a restarted worker pays them again before the refit.
    """

    n_complete: int = 0
    n_failed: int = 0
    interrupted: bool = False
    out_of_time: bool = False
    budget_met: bool = False  # the study's shared budget (all workers' trials) is used up
    failures: dict[str, int] = field(default_factory=dict)
    last_ok: bool = False
    refit_seconds: float = 0.0  # the best trial's estimated refit time on all rows
    # wall seconds of this search's completed trials, per learner family
    trial_seconds: dict[str, list[float]] = field(default_factory=dict)
    # out-of-fold predictions of this search's best completed trials, by trial number,
    # with their scores signed so that higher is better (at most KEEP_OOF of them)
    oof: dict[int, Any] = field(default_factory=dict)
    oof_scores: dict[int, float] = field(default_factory=dict)
    # their fold models, where the worker handed them back (its best trials)
    fold_models: dict[int, list[Any]] = field(default_factory=dict)
    fixed_reserve: float | None = None  # seconds kept for building an ensemble instead
    restart_seconds: float = 0.0  # what starting the trial worker again costs (measured)
    refit_import_seconds: float = 0.0  # the best family's first-use imports (measured)

    def reserve(self) -> float:
        """Seconds to keep for the final model: the refit of the best trial so far, or a
        fixed amount for building an ensemble from the trials' fold models."""
        if not self.n_complete:
            return 0.0
        if self.fixed_reserve is not None:
            return self.fixed_reserve
        # A trial stopped at the deadline kills the worker, so the refit starts another,
        # which imports the best family's modules again.
        return (REFIT_SAFETY * self.refit_seconds + REFIT_OVERHEAD + self.restart_seconds
                + self.refit_import_seconds)

    def keep_oof(self, number: int, signed_score: float, oof: Any,
                 fold_models: list[Any] | None = None) -> None:
        """Keep a trial's out-of-fold predictions (and fold models, if any) if it is
        among the best KEEP_OOF."""
        self.oof[number], self.oof_scores[number] = oof, signed_score
        if fold_models is not None:
            self.fold_models[number] = fold_models
        if len(self.oof) > KEEP_OOF:
            worst = min(self.oof_scores, key=lambda n: (self.oof_scores[n], -n))
            del self.oof[worst], self.oof_scores[worst]
            self.fold_models.pop(worst, None)


def _record(trial: optuna.Trial, study: optuna.Study, outcome: TrialOutcome) -> None:
    """Store the outcome. A trial that another worker has meanwhile failed as stale (this
    worker paused past the grace period) keeps that state: the late result is logged."""
    try:
        with_retry(lambda: _store(trial, study, outcome), f"storing trial {trial.number}")
    except optuna.exceptions.UpdateFinishedTrialError:
        logger.warning("Trial %d was failed as stale by another worker (no heartbeat within "
                       "the grace period); its late result (%s) is not stored.",
                       trial.number, outcome.score if outcome.ok else outcome.failure_reason)


def _store(trial: optuna.Trial, study: optuna.Study, outcome: TrialOutcome) -> None:
    trial.set_user_attr(FIT_TIME, round(outcome.fit_time, 4))
    if "device" in outcome.extra:
        trial.set_user_attr(DEVICE, outcome.extra["device"])
    if outcome.fold_scores:
        trial.set_user_attr(FOLD_SCORES, [round(float(s), 6) for s in outcome.fold_scores])
    if outcome.ok:
        study.tell(trial, outcome.score)
        return
    trial.set_user_attr(FAILURE_REASON, outcome.failure_reason)
    trial.set_user_attr(FAILURE_MESSAGE, outcome.failure_message)
    study.tell(trial, state=TrialState.FAIL)


def run_search(
    study: optuna.Study,
    executor: Executor,
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
    budget_left: Callable[[], bool] | None = None,
    reserve_refit: bool = False,
    ensemble_reserve: float | None = None,
    oof_sink: Callable[[int, Any], None] | None = None,
) -> SearchResult:
    """Run trials until ``n_trials`` are done or the monotonic ``deadline`` passes.

    A trial's time limit is the smaller of ``trial_timeout`` and the time left; a trial
    cut off by the deadline is recorded as failed with reason ``"budget"``. With
    ``reserve_refit`` (the driver of a ``fit``, which refits the best afterwards), the time
    left excludes the best trial's estimated refit time, and a sampled trial whose learner
    family's trials have so far all taken longer than the time left is not started
    (failed with reason ``"budget"``, the search stops): killing it at the deadline would
    waste its time and the worker process the refit is about to use. A queued trial
    whose ``predicted_seconds`` (the warm start's cost model) exceed ``PREDICTED_SLACK``
    times the time left is not started either, and the search goes on with the next; nor
    is a trial whose worker start and first-use imports
    (:meth:`~automl_meta.search.executor.Executor.preparing_seconds`; torch's take
    seconds), plus its predicted fit over ``PREDICTED_SLACK``, exceed the time left (a
    sampled one stops the search).
    Ctrl-C stops the search after recording the running trial as failed (reason
    ``"interrupted"``); the caller still refits the best trial so far.

    ``initial_configs`` run first, with the user attributes ``initial_attrs`` (one dict
    per configuration; default ``{"origin": "default"}``). Every trial records its
    ``origin`` user attribute, ``"sampler"`` for the sampler's own.

    Several workers can run this loop on one study: ``budget_left`` (checked before each
    trial) says whether the study's shared budget allows another trial; trials of dead
    workers are failed (and retried) once their heartbeat is stale; storage calls are
    retried while the database is unreachable.

    The best trials' out-of-fold predictions are kept in the result (``oof``), and each
    completed trial's are handed to ``oof_sink(trial_number, oof)`` if given (a worker of
    a shared search stores them for the driver's ensemble). With ``ensemble_reserve``
    the time kept back for the final model is that many seconds (an ensemble is built
    from the trials' fold models, nothing is refit) instead of the best trial's refit.

    Parameters
    ----------
    study : optuna.Study
        The study the trials are asked from and told to.
    executor : Executor
        Evaluates each trial (:func:`make_executor`).
    learners : sequence of str
        The families searched.
    task : {"classification", "regression"}
        The task.
    n_trials : int or None
        Trials to run (None: until the deadline).
    deadline : float or None
        A :func:`time.monotonic` time after which no trial runs.
    trial_timeout : float or None
        Seconds one trial may take.
    random_state : int
        The search's seed (per-trial seeds derive from it).
    progress : SearchProgress
        Receives a line per trial.
    initial_configs : sequence of dict
        Configurations to run first (the warm start's first wave).
    initial_attrs : sequence of dict, optional
        Their user attributes, one dict each (default: origin ``default``).
    budget_left : callable, optional
        Checked before each trial: whether the study's shared budget has room (workers of
        one study).
    reserve_refit : bool, default False
        Keep the best trial's estimated refit time out of the time left.
    ensemble_reserve : float, optional
        Seconds to keep for the ensemble instead (with ``reserve_refit``).
    oof_sink : callable, optional
        Called as ``oof_sink(trial_number, oof)`` with each completed trial's out-of-fold
        predictions.
    """
    # Enqueued one at a time, just before they run: a search stopped early leaves no
    # waiting trials behind in the study.
    pending = list(zip(initial_configs, initial_attrs or [{ORIGIN: DEFAULT}] * len(
        initial_configs), strict=True))
    result = SearchResult(fixed_reserve=ensemble_reserve)
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    best: list[float] = []
    def deadline_now() -> float | None:
        """The deadline for trials: the budget's end, less the refit's share if kept."""
        if deadline is None or not reserve_refit:
            return deadline
        return deadline - result.reserve()

    while n_trials is None or result.n_complete + result.n_failed < n_trials:
        result.restart_seconds = executor.start_seconds
        end = deadline_now()
        if end is not None and end - time.monotonic() < MIN_TRIAL_SECONDS:
            result.out_of_time = True
            break
        trial: optuna.Trial | None = None
        asked: list[optuna.Trial] = []
        try:
            fail_stale_trials(study)
            if budget_left is not None and not with_retry(budget_left, "reading the budget"):
                result.budget_met = True
                break
            if pending:
                config, attrs = pending.pop(0)
                with_retry(functools.partial(study.enqueue_trial, config, user_attrs=attrs),
                           "enqueuing a trial")
            trial = with_retry(functools.partial(_ask, study, asked), "asking for a trial")
            _run_one(study, trial, executor, learners, task, end, trial_timeout,
                     random_state, result, maximize, best, skip_hopeless=reserve_refit,
                     oof_sink=oof_sink)
            progress.update(result.last_ok, best[0] if best else None)
        except KeyboardInterrupt:
            # A Ctrl-C held during the ask fires once the ask is done, before its trial
            # is assigned: ``asked`` still has it, and it must not stay RUNNING.
            trial = trial or (asked[0] if asked else None)
            if trial is not None:
                _mark_failed(study, trial, "interrupted", "the search was interrupted "
                             "(Ctrl-C or SIGTERM)")
            result.interrupted = True
            logger.warning("Search interrupted; refitting the best trial so far.")
            break
        except Exception as exc:
            # Not a learner's failure (those are failed outcomes): the search itself broke,
            # e.g. the storage is gone. The trial must not stay RUNNING.
            if trial is not None:
                _mark_failed(study, trial, "error", f"{type(exc).__name__}: {exc}"[:2000])
            raise
        if result.out_of_time:
            break
    return result


def _ask(study: optuna.Study, into: list[optuna.Trial]) -> optuna.Trial:
    """``study.ask()``; the new trial is also appended to ``into``."""
    with warnings.catch_warnings():
        # Optuna warns that heartbeats are meant for Study.optimize: this loop runs its own
        # heartbeat thread (``heartbeat``) and fails stale trials itself.
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
        into.append(study.ask())
    return into[-1]


def _run_one(study: optuna.Study, trial: optuna.Trial,
             executor: Executor, learners: Sequence[str],
             task: Task, deadline: float | None, trial_timeout: float | None,
             random_state: int, result: SearchResult, maximize: bool,
             best: list[float], skip_hopeless: bool = False,
             oof_sink: Callable[[int, Any], None] | None = None) -> None:
    """Sample, evaluate and record one trial; updates ``result`` and ``best`` in place.
    With ``skip_hopeless``, a trial whose family's trials all took longer than the time
    left is recorded as failed (``"budget"``) without running, and the search stops."""
    seed = trial_seed(random_state, trial.number)

    def prepare() -> dict:
        config = sample_config(trial, learners, task)
        trial.set_user_attr(LEARNER, config["learner"])
        if ORIGIN not in trial.user_attrs:
            trial.set_user_attr(ORIGIN, SAMPLER)
        trial.set_user_attr(SEED, seed)
        trial.set_user_attr(WORKER, WORKER_ID)
        return config

    config = with_retry(prepare, f"preparing trial {trial.number}")
    limit, cut_by_budget = trial_timeout, False
    if deadline is not None:
        left = max(deadline - time.monotonic(), MIN_TRIAL_SECONDS)
        if limit is None or left < limit:
            limit, cut_by_budget = left, True
        past = result.trial_seconds.get(config["learner"], [])
        predicted = trial.user_attrs.get(PREDICTED_SECONDS) or 0.0
        # a worker's start and the family's first-use imports (torch's take seconds) come
        # before the fit, and count against a budget-set limit; known better than a fit
        preparing = executor.preparing_seconds(config) if skip_hopeless and best else 0.0
        hopeless = None
        if skip_hopeless and best and past and min(past) > left:
            hopeless = (f"not started: {config['learner']} trials took at least "
                        f"{min(past):.1f} s here, and {left:.1f} s of the time budget were "
                        "left")
            result.out_of_time = True
        elif skip_hopeless and best and (predicted or preparing) and (
                preparing + predicted / PREDICTED_SLACK > left):
            hopeless = ("not started: "
                        + (f"predicted to take {predicted:.1f} s" if predicted else "")
                        + (" after " if predicted and preparing else "")
                        + (f"{preparing:.1f} s of starting and importing" if preparing
                           else "")
                        + f", and {left:.1f} s of the time budget were left")
            # the sampler would ask for a sampled trial's family again; a queued one
            # gives way to the next in the queue
            if trial.user_attrs.get(ORIGIN) == SAMPLER:
                result.out_of_time = True
        if hopeless is not None:
            _mark_failed(study, trial, "budget", hopeless)
            result.n_failed += 1
            result.failures["budget"] = result.failures.get("budget", 0) + 1
            return
    started = time.monotonic()
    with heartbeat(study, trial):
        outcome = executor.evaluate(config, seed, limit, count_preparation=cut_by_budget)
    if outcome.failure_reason == "timeout" and cut_by_budget:
        outcome.failure_reason = "budget"
        outcome.failure_message = "stopped: the search's time budget ran out"
        result.out_of_time = True
    # kept here (and shared), never in the study
    oof = outcome.extra.pop("oof", None)
    models = outcome.extra.pop("fold_models", None)
    _record(trial, study, outcome)
    if outcome.ok and oof is not None:
        result.keep_oof(trial.number, outcome.score if maximize else -outcome.score, oof,
                        models)
        if oof_sink is not None:
            try:
                oof_sink(trial.number, oof)
            except Exception as exc:  # noqa: BLE001 - the ensemble goes on without it
                logger.warning("Trial %d's out-of-fold predictions were not shared (%s).",
                               trial.number, exc)
    result.last_ok = outcome.ok
    if outcome.ok:
        result.n_complete += 1
        result.trial_seconds.setdefault(config["learner"], []).append(
            time.monotonic() - started)
        if not best or (outcome.score > best[0] if maximize else outcome.score < best[0]):
            best[:] = [outcome.score]
            folds = max(len(outcome.fold_scores), 2)
            result.refit_seconds = outcome.fit_time / (folds - 1)
            result.refit_import_seconds = executor.import_seconds.get(config["learner"], 0.0)
    else:
        result.n_failed += 1
        reason = str(outcome.failure_reason)
        result.failures[reason] = result.failures.get(reason, 0) + 1
        logger.info("Trial %d (%s) failed: %s: %s", trial.number, config["learner"],
                    reason, outcome.failure_message)


def _mark_failed(study: optuna.Study, trial: optuna.Trial, reason: str, message: str
                 ) -> None:
    """Record an unfinished trial as FAIL with ``reason`` (a finished one keeps its result);
    best effort: the storage may be what failed."""
    def mark() -> None:
        frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == trial.number)
        if frozen.state.is_finished():
            return  # stopped after its result was stored: keep the result
        trial.set_user_attr(FAILURE_REASON, reason)
        trial.set_user_attr(FAILURE_MESSAGE, message)
        study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)

    try:
        with signals_deferred():
            mark()
    except Exception as exc:  # noqa: BLE001 - logged; the heartbeat grace period covers it
        logger.warning("Could not record trial %d as failed (%s); other workers will fail "
                       "it once its heartbeat is stale.", trial.number, exc)
