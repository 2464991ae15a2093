"""One search's machinery (:class:`SearchDriver`), the one driver of the search loop for
``fit``, for workers that join a study (:func:`join_study`) and for the corpus build.

It owns the trial executor (a worker process, or this process), the progress display
and, where other workers share the search, the run's shared settings and data in the
database (:func:`~.scale_out.share_run`), the local helper workers and the out-of-fold
predictions those workers store. It offers :meth:`~SearchDriver.run` and
:meth:`~SearchDriver.refit`; closing it (it is a context manager) stops the helpers and
the worker and deletes the shared data that no worker may still need.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import optuna

from .._system import cpu_count
from .._types import Task
from .._version import __version__
from ..attributes import (
    STUDY_BUDGET,
    STUDY_LEARNERS,
    STUDY_METRIC,
    STUDY_RANDOM_STATE,
    STUDY_RUN,
    STUDY_TASK,
    STUDY_UID,
    STUDY_VERSION,
)
from ..exceptions import AutoMLError
from ..knowledge.storage import get_storage
from ..learners import LEARNER_MODULES_ENV, LEARNERS, load_learner_modules
from ..params import ParameterError, check_count, check_seconds
from ..search_space import LEARNER_PARAM
from .evaluation import EvaluationData, Evaluator
from .executor import Isolation, make_executor
from .payload import delete_oof, load_oof, load_payload, save_oof
from .progress import SearchProgress
from .runner import SearchResult, run_search, with_retry
from .scale_out import (
    LocalWorkers,
    share_run,
    study_budget_left,
    unshare_run,
    worker_sampler,
)

logger = logging.getLogger(__name__)

__all__ = ["SearchDriver", "join_study"]


class SearchDriver:
    """Run trials of ``study`` on ``data``.

    Parameters
    ----------
    study : optuna.Study
        The study the trials go into.
    data : EvaluationData
        What every trial is evaluated on.
    learners : list of str
        The learner families searched.
    task : {"classification", "regression"}
    random_state : int
        The search's seed (each trial's seed derives from it and the trial number).
    trial_timeout : float, optional
        Seconds one trial may take.
    isolation : {"process", "none"}, default "process"
        A worker process (time and memory limits hold) or this process.
    memory_limit : int, optional
        Bytes of address space the worker process may use.
    progress : SearchProgress, optional
        The progress display (default: silent).
    """

    def __init__(self, study: optuna.Study, data: EvaluationData, *,
                 learners: Sequence[str], task: Task, random_state: int,
                 trial_timeout: float | None = None, isolation: Isolation = "process",
                 memory_limit: int | None = None, progress: SearchProgress | None = None):
        self.study, self.data = study, data
        self.learners, self.task, self.random_state = list(learners), task, random_state
        self.trial_timeout, self.memory_limit = trial_timeout, memory_limit
        self.progress = progress if progress is not None else SearchProgress(
            False, None, None, data.metric)
        self.executor = make_executor(data, isolation, memory_limit)
        self._storage: Any = None  # where the run is shared (share)
        self._sharing = False  # other workers may join: the budget and the data are shared
        self._keep_shared = False
        self._helpers: LocalWorkers | None = None

    def __enter__(self) -> SearchDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ sharing
    def share(self, storage: Any, n_trials: int | None, deadline: float | None, *,
              share_data: bool, keep: bool = False) -> None:
        """Record the run's budget and settings in the study (:func:`~.scale_out.share_run`);
        with ``share_data``, the data too, so that workers can join, and the search's
        budget becomes the study's, shared with them. Unless ``keep``, closing the driver
        deletes the shared data (no worker can join an ended search)."""
        if share_data and not isinstance(storage, optuna.storages.RDBStorage):
            raise ParameterError("share_data=True needs a database storage the workers can "
                                 "reach (SQLite file or PostgreSQL), not in-memory storage.")
        share_run(self.study, storage, self.data, n_trials, deadline,
                  trial_timeout=self.trial_timeout, memory_limit=self.memory_limit,
                  share_data=share_data)
        self._storage, self._sharing, self._keep_shared = storage, share_data, keep

    def stored_oof(self, result: SearchResult) -> dict[int, np.ndarray]:
        """The out-of-fold predictions other workers stored for the study's trials (none
        when the search is not shared)."""
        if not self._sharing:
            return {}
        return load_oof(self._storage, self.study.user_attrs[STUDY_UID],
                        [t.number for t in self.study.get_trials(deepcopy=False)
                         if t.number not in result.oof])

    # ------------------------------------------------------------ the search
    def run(self, n_trials: int | None, deadline: float | None, *,
            initial: Sequence[dict] = (), initial_attrs: Sequence[dict] | None = None,
            helpers: Sequence[int | None] = (),
            budget_left: Callable[[], bool] | None = None, reserve_refit: bool = False,
            ensemble_reserve: float | None = None,
            oof_sink: Callable[[int, Any], None] | None = None) -> SearchResult:
        """Run up to ``n_trials`` trials until the monotonic ``deadline``
        (:func:`~.runner.run_search`), the ``initial`` configurations first.

        ``helpers`` are the trial quotas of local worker processes that help (the run
        must be shared): the initial configurations go into the study's queue, which
        every worker takes from, and the helpers are waited for (until a minute past the
        deadline) before this returns. A shared run checks the study's budget before
        each trial unless ``budget_left`` says otherwise.
        """
        if self._sharing and budget_left is None:
            def budget_left() -> bool:
                return study_budget_left(self.study)
        if helpers:
            if not self._sharing:
                raise ValueError("Helper workers need a shared run (share(share_data=True)).")
            for config, attrs in zip(initial, initial_attrs or [{}] * len(initial),
                                     strict=True):
                self.study.enqueue_trial(config, user_attrs=attrs)
            initial, initial_attrs = [], []
            self._helpers = LocalWorkers.start(self._storage.url, self.study.study_name,
                                               list(helpers), self.data.n_threads)
        result = run_search(self.study, self.executor, learners=self.learners,
                            task=self.task, n_trials=n_trials, deadline=deadline,
                            trial_timeout=self.trial_timeout,
                            random_state=self.random_state, progress=self.progress,
                            initial_configs=initial, initial_attrs=initial_attrs,
                            budget_left=budget_left, reserve_refit=reserve_refit,
                            ensemble_reserve=ensemble_reserve, oof_sink=oof_sink)
        if self._helpers is not None:
            self.progress.close()
            left = None if deadline is None else deadline - time.monotonic()
            self._helpers.wait(None if left is None else max(left, 0) + 60)
            self._helpers = None
        return result

    def refit(self, config: dict[str, Any], seed: int) -> Any:
        """``config`` fitted on all rows (the baseline in this process: no worker needs
        to start for it)."""
        if config[LEARNER_PARAM] == "baseline":
            return Evaluator(self.data).refit(config, seed)
        return self.executor.refit(config, seed)

    def close(self) -> None:
        """Stop the helpers left (an interrupted or failed search), the progress display
        and the worker; delete the shared data unless it is kept."""
        if self._helpers is not None:
            self._helpers.stop()
            self._helpers = None
        self.progress.close()
        self.executor.close()
        if self._sharing and not self._keep_shared:  # no worker can join an ended search
            self._sharing = False
            try:
                unshare_run(self.study, self._storage)
                delete_oof(self._storage, self.study.user_attrs[STUDY_UID])
            except Exception as exc:  # noqa: BLE001 - must not mask the search's own end
                logger.warning("The search's shared data could not be deleted (%s); "
                               "`automl-meta studies --purge-data` deletes it.", exc)


def join_study(storage: Any, study_name: str, *, n_trials: int | None = None,
               time_budget: float | None = None, threads: int | None = None,
               worker: int | None = None, verbose: int = 1) -> SearchResult:
    """Evaluate trials of an existing study until its budget (or this worker's own
    ``n_trials`` / ``time_budget``) is used up; returns what this worker did.

    What ``automl-meta worker`` runs: the study must have been started by a fit that
    shares its data (``n_jobs > 1`` or ``share_data=True``), with this version of
    automl-meta and learner families this process knows.

    Parameters
    ----------
    storage : str or optuna storage
        The study database (SQLite file or PostgreSQL URL).
    study_name : str
        The study to join.
    n_trials : int, optional
        At most this many trials from this worker.
    time_budget : float, optional
        At most this many seconds (the study's own deadline holds too).
    threads : int, optional
        Threads per trial (default: every core).
    worker : int, optional
        This worker's number, which seeds its sampler (default: the process id).
    verbose : int, default 1
        Show a progress bar.
    """
    check_count("n_trials", n_trials)
    check_seconds("time_budget", time_budget)
    store = get_storage(storage, create=False, wal=True)
    worker = os.getpid() if worker is None else worker
    try:
        study = with_retry(lambda: optuna.load_study(
            study_name=study_name, storage=store,
            sampler=worker_sampler(0, worker)), "loading the study")
    except KeyError:
        raise AutoMLError(f"No study {study_name!r} in that storage; start the search with "
                          "fit() or `automl-meta fit` first.") from None
    attrs = study.user_attrs
    if "payload" not in attrs.get(STUDY_RUN, {}):
        raise AutoMLError(f"Study {study_name!r} was not started by automl-meta with worker "
                          "support (it records no run settings); it cannot be joined.")
    if attrs.get(STUDY_VERSION) != __version__:
        raise AutoMLError(
            f"Study {study_name!r} was started by automl-meta "
            f"{attrs.get(STUDY_VERSION)}; this worker is {__version__}. Install the "
            "same version on every worker.")
    load_learner_modules()
    unknown = [n for n in attrs[STUDY_LEARNERS] if n not in LEARNERS]
    if unknown:
        raise AutoMLError(
            f"Study {study_name!r} searches learner(s) {unknown} that this worker does not "
            f"know. Name the module(s) registering them in {LEARNER_MODULES_ENV}.")
    study.sampler = worker_sampler(int(attrs.get(STUDY_RANDOM_STATE, 0)), worker)
    run = attrs[STUDY_RUN]
    if run.get("payload") is None:
        raise AutoMLError(
            f"Study {study_name!r} shares no data for workers: its search has ended, or "
            "was started with n_jobs=1. Start it with fit(..., n_jobs=K) or "
            "fit(..., share_data=True) to let workers join.")
    data = load_payload(store, run["payload"])
    data.n_threads = threads or cpu_count()
    deadlines = []
    wall = (attrs.get(STUDY_BUDGET) or {}).get("deadline")
    if wall is not None:
        deadlines.append(time.monotonic() + wall - time.time())
    if time_budget is not None:
        deadlines.append(time.monotonic() + time_budget)
    deadline = min(deadlines) if deadlines else None
    if deadline is not None and deadline <= time.monotonic():
        logger.warning("Study %r is past its deadline: nothing to do.", study_name)
        return SearchResult(out_of_time=True)
    progress = SearchProgress(verbose > 0, n_trials, None if deadline is None else
                              deadline - time.monotonic(), str(attrs.get(STUDY_METRIC)))
    with SearchDriver(study, data, learners=attrs[STUDY_LEARNERS], task=attrs[STUDY_TASK],
                      random_state=int(attrs.get(STUDY_RANDOM_STATE, 0)),
                      trial_timeout=run.get("trial_timeout"),
                      memory_limit=run.get("memory_limit"), progress=progress) as driver:
        return driver.run(n_trials, deadline, budget_left=lambda: study_budget_left(study),
                          # the fit's ensemble uses the trials this worker scores
                          oof_sink=lambda number, oof: save_oof(store, attrs[STUDY_UID],
                                                                number, oof))
