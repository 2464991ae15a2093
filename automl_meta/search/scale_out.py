"""Several workers on one study: local worker processes and workers that join from anywhere.

A study written by ``fit`` records everything a worker needs: the search space
(``learners``, ``task``), the budget (``budget``: trial count and wall-clock deadline),
the run settings (``run``: trial timeout, memory limit) and, in the database beside it,
the data (:mod:`.payload`); :func:`share_run` writes them. So ``automl-meta worker
--storage URL --study NAME`` on any machine that reaches the database helps the search;
``fit(n_jobs=k)`` starts k-1 such workers on this machine and is the k-th itself. The
search loop they all run is :class:`~.driver.SearchDriver`'s (a joining worker's:
:func:`~.driver.join_study`).

Workers continue with seeded multivariate TPE (its constant liar accounts for the trials
other workers are running), each seeded differently; every trial's own seed still derives
from its number, so a trial's result does not depend on which worker ran it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from .._system import child_env
from ..attributes import STUDY_BUDGET, STUDY_RUN, STUDY_UID
from .evaluation import EvaluationData
from .payload import delete_payload, save_payload
from .study import make_sampler

logger = logging.getLogger(__name__)

# States of trials that count against the study's trial budget.
COUNTED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.RUNNING, TrialState.PRUNED)


def budget_attrs(n_trials: int | None, seconds: float | None) -> dict[str, Any]:
    """The study's shared budget: a trial count and an absolute (epoch) deadline."""
    return {"n_trials": n_trials,
            "deadline": None if seconds is None else round(time.time() + seconds, 3)}


def study_budget_left(study: optuna.Study) -> bool:
    """Whether the study's recorded trial budget allows another trial (the deadline is
    checked by each worker's own clock)."""
    n_trials = (study.user_attrs.get(STUDY_BUDGET) or {}).get("n_trials")
    if n_trials is None:
        return True
    return len(study.get_trials(deepcopy=False, states=COUNTED)) < n_trials


def worker_count(n_jobs: Any, storage: Any, trivial: bool, n_trials: int | None) -> int:
    """The number of worker processes a fit uses: ``n_jobs`` validated (several need a
    database storage they can share), one for a trivial search, never more than trials."""
    if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or \
            n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, not {n_jobs!r}.")
    if n_jobs > 1 and not isinstance(storage, optuna.storages.RDBStorage):
        raise ValueError(
            f"n_jobs={n_jobs} needs a database storage the worker processes can share "
            "(the default SQLite file, another sqlite:/// path or PostgreSQL), not "
            f"{type(storage).__name__}.")
    if trivial:
        return 1
    return int(min(n_jobs, n_trials)) if n_trials else int(n_jobs)


def share_run(study: optuna.Study, storage: Any, data: EvaluationData,
              n_trials: int | None, deadline: float | None, *,
              trial_timeout: float | None, memory_limit: Any, share_data: bool) -> None:
    """Record the budget (``n_trials`` more than the study counts so far; the monotonic
    ``deadline``) and the run settings in the study; with ``share_data`` (workers may
    join: a database storage is needed), the data beside it in the database, so that
    workers elsewhere need only the storage URL and the study name."""
    counted = len(study.get_trials(deepcopy=False, states=COUNTED))
    seconds = None if deadline is None else deadline - time.monotonic()
    study.set_user_attr(STUDY_BUDGET, budget_attrs(
        None if n_trials is None else counted + n_trials, seconds))
    payload = None
    if share_data:
        payload = study.user_attrs[STUDY_UID]
        save_payload(storage, payload, data)
    study.set_user_attr(STUDY_RUN, {"trial_timeout": trial_timeout,
                                "memory_limit": memory_limit, "payload": payload})


def unshare_run(study: optuna.Study, storage: Any) -> bool:
    """Delete the data a search shared (its search has ended); whether there was any."""
    payload = study.user_attrs.get(STUDY_RUN, {}).get("payload")
    if payload is None:
        return False
    study.set_user_attr(STUDY_RUN, {**study.user_attrs[STUDY_RUN], "payload": None})
    return delete_payload(storage, payload)


def worker_sampler(random_state: int, worker: int) -> optuna.samplers.BaseSampler:
    """The default sampler (:func:`.study.make_sampler`), a different stream per worker."""
    return make_sampler(zlib.crc32(f"{random_state}:{worker}".encode()) & 0x7FFFFFFF)


@dataclass
class LocalWorkers:
    """``automl-meta worker`` processes on this machine, helping the calling process."""

    procs: list[subprocess.Popen]

    @classmethod
    def start(cls, url: str, study_name: str, quotas: list[int | None], threads: int
              ) -> LocalWorkers:
        # the URL not on the command line (secrets); the helpers stop if this process dies
        env = child_env(AUTOML_META_STORAGE=url, AUTOML_META_HELPER_OF=str(os.getpid()))
        procs = []
        for i, quota in enumerate(quotas, 1):
            cmd = [sys.executable, "-m", "automl_meta.cli", "worker", "--study", study_name,
                   "--threads", str(threads), "--worker-id", str(i), "--verbose", "0"]
            if quota is not None:
                cmd += ["--trials", str(quota)]
            procs.append(subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                          start_new_session=True))
        return cls(procs)

    def wait(self, timeout: float | None) -> list[int | None]:
        """Wait for the workers (at most ``timeout`` seconds), then stop any left; returns
        their exit codes."""
        end = None if timeout is None else time.monotonic() + timeout
        for proc in self.procs:
            try:
                proc.wait(None if end is None else max(end - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                logger.warning("Worker %d outlived the search; stopping it.", proc.pid)
                self.stop()
        codes = [p.returncode for p in self.procs]
        failed = [c for c in codes if c not in (0, None, -signal.SIGTERM, 130)]
        if failed:
            logger.warning("Local worker(s) exited with %s; their trials are in the study.",
                           failed)
        return codes

    def stop(self) -> None:
        """SIGTERM every worker (each records its running trial as interrupted), then
        SIGKILL those still there after 10 s."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def split_trials(n_trials: int | None, n_jobs: int) -> list[int | None]:
    """Each of ``n_jobs`` workers' share of ``n_trials`` (they add up to it exactly).

    >>> split_trials(10, 4), split_trials(None, 2)
    ([3, 3, 2, 2], [None, None])
    """
    if n_trials is None:
        return [None] * n_jobs
    return [n_trials // n_jobs + (i < n_trials % n_jobs) for i in range(n_jobs)]
