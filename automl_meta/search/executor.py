"""Trial executors: where a configuration is evaluated.

:class:`ProcessExecutor` (the default) runs trials in a persistent worker process. The
data crosses to it once per search; each trial is one message. A trial that raises is a
failed trial; one that outlives its time limit, or kills its process (segfault, the
kernel's OOM killer), costs a restart of the worker, not the search.

Workers are separate interpreters (``python -m automl_meta.search.worker``), never forks of
the driver: no fork of a threaded process, CUDA starts only in the worker, and the user's
``__main__`` is never re-imported. Starting one costs about a second (importing the
scientific stack), so an idle worker is kept for the next search of this process instead
of being stopped (see :data:`MAX_IDLE_WORKERS`).

:class:`InProcessExecutor` evaluates in the calling process: no isolation, no time limit,
for debugging.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any, Literal, Protocol

from .._system import child_env, total_memory_bytes
from .._types import TrialOutcome
from ..exceptions import AutoMLError
from ..learners import TORCH_IMPORT_SECONDS, uses_torch
from .evaluation import EvaluationData, Evaluator

logger = logging.getLogger(__name__)

Isolation = Literal["process", "none"]
# Default per-worker address-space cap, as a share of physical memory.
DEFAULT_MEMORY_SHARE = 0.8
# Idle workers kept for reuse by later searches in this process.
MAX_IDLE_WORKERS = 2
# Seconds a worker may take to start and load the data.
WORKER_START_TIMEOUT = 300


class Executor(Protocol):
    """What the search loop needs of an executor: evaluate a configuration under a time
    limit, refit it (on all rows, or as its fold models), and release what it holds.

    Attributes
    ----------
    start_seconds : float
        What starting its trial worker took (imports and data loading; 0 in-process):
        the refit reserve keeps a restart's worth.
    import_seconds : dict of str to float
        What each learner family's first-use imports took in a trial worker (torch's
        import is seconds): a restarted worker pays them again for the refit, so the
        reserve keeps them too (empty in-process, where imports stay done).
    """

    start_seconds: float
    import_seconds: dict[str, float]

    def evaluate(self, config: dict[str, Any], seed: int, timeout: float | None,
                 *, count_preparation: bool = False) -> TrialOutcome:
        """Cross-validate ``config`` with trial seed ``seed`` within ``timeout`` seconds
        (None: no limit); ``count_preparation``: the family's first-use imports count
        against the limit."""
        ...

    def refit(self, config: dict[str, Any], seed: int) -> Any:
        """``config`` fitted on all rows."""
        ...

    def fold_refit(self, config: dict[str, Any], seed: int, timeout: float | None = None
                   ) -> list[Any]:
        """``config``'s fold models (one per cross-validation fold)."""
        ...

    def preparing_seconds(self, config: dict[str, Any]) -> float:
        """What evaluating ``config`` next costs before its fit starts: its family's
        first-use imports where they are not done yet (the most measured so far, else
        :data:`~automl_meta.learners.TORCH_IMPORT_SECONDS` for a torch family), plus a
        worker's start where none is running."""
        ...

    def close(self) -> None:
        """Release the worker (or nothing)."""
        ...


def _import_estimate(family: str, prepared: set[str], measured: dict[str, float]) -> float:
    """The first-use imports ``family`` still needs where the families in ``prepared``
    have imported theirs (torch families share torch's)."""
    if family in prepared or (uses_torch(family) and any(uses_torch(f) for f in prepared)):
        return 0.0
    if family in measured:
        return measured[family]
    return TORCH_IMPORT_SECONDS if uses_torch(family) else 0.0


class _Worker:
    """One worker interpreter and its two pipes."""

    def __init__(self, memory_limit: int):
        env = child_env(AUTOML_META_WORKER_MEMORY=str(memory_limit))
        self.memory_limit = memory_limit
        self.spawned = time.monotonic()
        self.prepared: set[str] = set()  # families whose first-use imports are done here
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "automl_meta.search.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
            start_new_session=True)  # Ctrl-C in the terminal reaches the driver only
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.requests = Connection(os.dup(self.proc.stdin.fileno()), readable=False)
        self.replies = Connection(os.dup(self.proc.stdout.fileno()), writable=False)
        self.proc.stdin.close()
        self.proc.stdout.close()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait(10)
        self.requests.close()
        self.replies.close()

    def stop(self) -> None:
        if self.alive():
            try:
                self.requests.send(("stop",))
                self.proc.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()


class _IdlePool:
    """Workers whose search ended, kept for the next search of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        atexit.register(self.clear)

    def take(self, memory_limit: int) -> _Worker | None:
        with self._lock:
            for i, worker in enumerate(self._idle):
                if worker.memory_limit == memory_limit and worker.alive():
                    return self._idle.pop(i)
        return None

    def give(self, worker: _Worker) -> None:
        with self._lock:
            if worker.alive() and len(self._idle) < MAX_IDLE_WORKERS:
                self._idle.append(worker)
                return
        worker.stop()

    def clear(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


_POOL = _IdlePool()


def prewarm(memory_limit: int | None = None) -> None:
    """Start a worker now, into the idle pool, unless one is idle already: its interpreter
    starts and imports the scientific stack (about a second) while this process works out
    meta-features and the warm start; the search's executor then takes it."""
    limit = int(memory_limit or total_memory_bytes() * DEFAULT_MEMORY_SHARE)
    with _POOL._lock:
        if any(w.memory_limit == limit and w.alive() for w in _POOL._idle):
            return
    _POOL.give(_Worker(limit))


class InProcessExecutor:
    """Evaluate trials in this process (``isolation="none"``); no time limit applies.

    Parameters
    ----------
    data : EvaluationData
        What every trial is evaluated on.
    """

    def __init__(self, data: EvaluationData):
        self._evaluator = Evaluator(data)
        self.start_seconds = 0.0
        self.import_seconds: dict[str, float] = {}

    def evaluate(self, config: dict[str, Any], seed: int, timeout: float | None,
                 *, count_preparation: bool = False) -> TrialOutcome:
        return self._evaluator.evaluate(config, seed)

    def preparing_seconds(self, config: dict[str, Any]) -> float:
        # imports stay done in this process; torch's is the one that takes seconds
        if uses_torch(str(config.get("learner"))) and "torch" not in sys.modules:
            return TORCH_IMPORT_SECONDS
        return 0.0

    def refit(self, config: dict[str, Any], seed: int) -> Any:
        return self._evaluator.refit(config, seed)

    def fold_refit(self, config: dict[str, Any], seed: int, timeout: float | None = None
                   ) -> list[Any]:
        return self._evaluator.fold_refit(config, seed)

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """Evaluate trials in a persistent, restartable worker process.

    Parameters
    ----------
    data : EvaluationData
        Sent to the worker once per (re)start.
    memory_limit : int, optional
        Address-space cap of the worker in bytes; default 80 % of physical memory.
    """

    def __init__(self, data: EvaluationData, memory_limit: int | None = None):
        self._payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        self._memory_limit = int(memory_limit or total_memory_bytes() * DEFAULT_MEMORY_SHARE)
        self._worker: _Worker | None = None
        self._started = False
        self.restarts = 0  # workers started again after a kill or a crash
        # What starting a worker costs (its interpreter and imports, then the data), as
        # last measured: a refit after a trial was killed pays it, and the first-use
        # imports of the refit's family (the most each took, per family).
        self.start_seconds = 0.0
        self.import_seconds: dict[str, float] = {}

    def _ensure_started(self, limit: float | None = None) -> _Worker | None:
        """The worker, started (and sent the data) if need be; None when it is not ready
        within ``limit`` seconds (a trial's budget-set limit), and it is then killed."""
        if self._worker is not None and self._worker.alive():
            return self._worker
        if self._worker is not None:
            self._worker.kill()
        self.restarts += int(self._started)
        self._started = True
        worker = _POOL.take(self._memory_limit) or _Worker(self._memory_limit)
        worker.requests.send(("data", self._payload))
        wait = WORKER_START_TIMEOUT if limit is None else min(limit, WORKER_START_TIMEOUT)
        if not worker.replies.poll(wait):
            worker.kill()
            if limit is not None and limit < WORKER_START_TIMEOUT:
                return None
            raise AutoMLError(f"The trial worker did not start within {WORKER_START_TIMEOUT} s.")
        try:
            _, info = worker.replies.recv()
        except (EOFError, OSError) as exc:
            code = worker.proc.wait(5)
            raise AutoMLError(f"The trial worker died while loading the data (exit code "
                              f"{code}); see the messages above.") from exc
        if isinstance(info, dict) and info.get("imported_at"):
            # the interpreter's start and imports (not the time it sat idle in the pool),
            # plus loading the data
            self.start_seconds = (float(info["imported_at"]) - worker.spawned
                                  + float(info["loading"]))
        self._worker = worker
        return worker

    def _death_outcome(self, worker: _Worker) -> TrialOutcome:
        try:
            code = worker.proc.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        worker.kill()
        self._worker = None
        if code is not None and code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
            if sig == signal.SIGKILL:
                return TrialOutcome(ok=False, failure_reason="memory",
                                    failure_message="the worker was killed (SIGKILL), most "
                                    "likely by the kernel's out-of-memory killer")
            return TrialOutcome(ok=False, failure_reason="crash",
                                failure_message=f"the worker died from signal {name}")
        return TrialOutcome(ok=False, failure_reason="crash",
                            failure_message=f"the worker exited with code {code}")

    def _call(self, command: str, config: dict[str, Any], seed: int,
              timeout: float | None, count_preparation: bool = False
              ) -> tuple[str, Any] | TrialOutcome:
        # A limit set by a time budget counts the worker's start and the data's loading
        # too (a busy machine can take seconds over them): wall time is wall time.
        called = time.monotonic()
        worker = self._ensure_started(timeout if count_preparation else None)
        if worker is None:
            return TrialOutcome(ok=False, failure_reason="timeout",
                                failure_message="the trial worker did not start (loading "
                                "the data) in time")
        try:
            sent = called if count_preparation else time.monotonic()
            worker.requests.send((command, config, seed))
            # the worker acknowledges once the family's first-use imports are done
            if not worker.replies.poll(max(timeout - (time.monotonic() - sent), 0.0)
                                       if count_preparation and timeout is not None
                                       else WORKER_START_TIMEOUT):
                worker.kill()
                self._worker = None
                return TrialOutcome(ok=False, failure_reason="timeout",
                                    failure_message="the worker did not start the trial "
                                    "(importing its learner) in time")
            _, started = worker.replies.recv()
            family = str(config.get("learner"))
            worker.prepared.add(family)
            if isinstance(started, dict) and started.get("prepare"):
                self.import_seconds[family] = max(self.import_seconds.get(family, 0.0),
                                                  float(started["prepare"]))
            left = timeout
            if timeout is not None and count_preparation:
                left = max(timeout - (time.monotonic() - sent), 0.0)
            if not worker.replies.poll(left):
                worker.kill()
                self._worker = None
                return TrialOutcome(ok=False, failure_reason="timeout",
                                    failure_message=f"no result within {timeout:.1f} s")
            return worker.replies.recv()
        except (EOFError, OSError):
            return self._death_outcome(worker)
        except BaseException:
            # Ctrl-C, or anything else mid-exchange: the worker may still send replies to
            # this request, so it must never serve another search (whose messages would
            # be out of step); its trial is abandoned and a later search starts afresh.
            worker.kill()
            self._worker = None
            raise

    def evaluate(self, config: dict[str, Any], seed: int, timeout: float | None,
                 *, count_preparation: bool = False) -> TrialOutcome:
        """Cross-validate ``config``; a crash, hang or memory blow-up is a failed outcome.

        ``timeout`` counts from the worker's acknowledgement, after the learner family's
        first-use imports in that worker (a trial's own time), unless
        ``count_preparation`` (a limit set by a time budget: wall time is wall time)."""
        result = self._call("evaluate", config, seed, timeout, count_preparation)
        return result if isinstance(result, TrialOutcome) else result[1]

    def refit(self, config: dict[str, Any], seed: int) -> Any:
        """Fit ``config`` on all rows in the worker and return the fitted pipeline."""
        return _fitted(self._call("refit", config, seed, None),
                       "Refitting the best configuration")

    def fold_refit(self, config: dict[str, Any], seed: int, timeout: float | None = None
                   ) -> list[Any]:
        """Fit ``config``'s fold models in the worker (within ``timeout`` seconds)."""
        return _fitted(self._call("fold_refit", config, seed, timeout, True),
                       "Refitting an ensemble member's folds")

    def preparing_seconds(self, config: dict[str, Any]) -> float:
        """What evaluating ``config`` next costs before its fit: a worker's start where
        none is running (as last measured), then its family's first-use imports where
        that worker has not done them."""
        worker = self._worker if self._worker is not None and self._worker.alive() else None
        start = self.start_seconds if worker is None else 0.0
        prepared = worker.prepared if worker is not None else set()
        return start + _import_estimate(str(config.get("learner")), prepared,
                                        self.import_seconds)

    def close(self) -> None:
        """Hand the worker back to the idle pool for the next search."""
        if self._worker is not None:
            _POOL.give(self._worker)
            self._worker = None


def _fitted(result: tuple[str, Any] | TrialOutcome, what: str) -> Any:
    """The fitted model a worker sent back for a refit request, or AutoMLError saying
    ``what`` failed and why."""
    if isinstance(result, TrialOutcome):
        raise AutoMLError(f"{what} failed: {result.failure_reason}: {result.failure_message}")
    status, value = result
    if status != "ok":
        raise AutoMLError(f"{what} failed: {value.failure_message}")
    return pickle.loads(value)


def make_executor(data: EvaluationData, isolation: Isolation = "process",
                  memory_limit: int | None = None) -> Executor:
    """Build the executor for ``isolation`` (``"process"`` or ``"none"``).

    Parameters
    ----------
    data : EvaluationData
        What every trial is evaluated on.
    isolation : {"process", "none"}, default "process"
        A worker process (time and memory limits hold) or this process.
    memory_limit : int, optional
        Bytes of address space the worker process may use.
    """
    if isolation == "process":
        return ProcessExecutor(data, memory_limit)
    if isolation == "none":
        return InProcessExecutor(data)
    raise ValueError(f"isolation must be 'process' or 'none'; got {isolation!r}.")
