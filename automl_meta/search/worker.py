"""The trial worker: a separate interpreter that evaluates trials until told to stop.

Started as ``python -m automl_meta.search.worker``. It speaks length-prefixed pickles on
file descriptors 0 (requests) and a private duplicate of 1 (replies); the real stdout is
pointed at stderr so that whatever a learner prints cannot corrupt the protocol.

Requests: ``("data", bytes)`` loads the pickled :class:`EvaluationData` (a worker can be
reused for another search), ``("evaluate", config, seed)``, ``("refit", config, seed)``,
``("fold_refit", config, seed)`` (the fold models of a configuration) and
``("stop",)``. Each evaluate or refit request is acknowledged with ``("started", None)``
once the learner family's first-use imports are done (:meth:`Evaluator.prepare`), with
the seconds they took (``{"prepare": s}``), then answered; the driver's time limit for the
trial starts at the acknowledgement. torch is imported only by a torch family's trial.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from multiprocessing.connection import Connection

from .._system import die_with_parent
from .evaluation import Evaluator, failure_from_exception


def limit_memory(limit_bytes: int | None) -> None:
    """Cap this process's address space so a runaway learner raises MemoryError."""
    if not limit_bytes or not sys.platform.startswith("linux"):
        return
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = limit_bytes if hard == resource.RLIM_INFINITY else min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def release_gpu_memory() -> None:
    """Give cached CUDA memory back after a trial (a torch trial, or one that ran out of GPU
    memory), so the next trial starts with the whole device."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        import gc

        gc.collect()
        torch.cuda.empty_cache()


def serve(requests: Connection, replies: Connection, imported_at: float = 0.0) -> None:
    """Answer requests until ``("stop",)`` or the driver goes away. ``imported_at`` (the
    monotonic time this interpreter's imports were done) goes back with each data load,
    with the load's seconds, so the driver knows what starting a worker costs."""
    evaluator: Evaluator | None = None
    while True:
        try:
            message = requests.recv()
        except (EOFError, OSError):
            return
        command = message[0]
        if command == "stop":
            return
        if command == "data":
            received = time.monotonic()
            evaluator = Evaluator(pickle.loads(message[1]))
            replies.send(("ready", {"imported_at": imported_at,
                                    "loading": time.monotonic() - received}))
            continue
        assert evaluator is not None, "the driver sends data before trials"
        _, config, seed = message
        preparing = time.monotonic()
        evaluator.prepare(config)  # first-use imports, before the trial's clock starts
        replies.send(("started", {"prepare": time.monotonic() - preparing}))
        if command == "evaluate":
            outcome = evaluator.evaluate(config, seed)
            release_gpu_memory()
            if "fold_models" in outcome.extra:  # plain pickle: torch's sharing reductions
                # (file descriptors) do not cross to an unrelated process
                outcome.extra["fold_models"] = pickle.dumps(outcome.extra["fold_models"],
                                                            protocol=pickle.HIGHEST_PROTOCOL)
            replies.send(("ok", outcome))
        elif command in ("refit", "fold_refit"):
            try:
                model = (evaluator.refit(config, seed) if command == "refit"
                         else evaluator.fold_refit(config, seed))
                replies.send(("ok", pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)))
            except Exception as exc:  # noqa: BLE001 - reported to the driver, which raises
                replies.send(("error", failure_from_exception(exc)))


def main() -> None:
    import signal

    die_with_parent(signal.SIGKILL)
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # learners' prints go to stderr, not into the protocol
    limit = os.environ.get("AUTOML_META_WORKER_MEMORY")
    limit_memory(int(limit) if limit else None)
    serve(Connection(0, writable=False), Connection(reply_fd, readable=False),
          imported_at=time.monotonic())


if __name__ == "__main__":
    main()
