"""Per-trial overhead of a search: what a trial costs beyond its model's own fit.

    python -m automl_meta.benchmarks.trial_overhead [--trials 40]

For each storage (in-memory, SQLite) and isolation mode (worker process, in-process) it
runs a search of cheap ``linear`` trials on breast_cancer (569 x 30) and prints the wall
time per trial, the model fit time per trial (summed over the 5 folds, measured in the
worker) and their difference: sampling, storage writes, message passing, prediction and
scoring. The worker is started (and so warm) before timing, as in a search that reuses it.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

from .._system import cpu_count


def measure(storage: str, isolation: str, n_trials: int) -> dict[str, object]:
    from ..automl import AutoMLClassifier

    X, y = load_breast_cancer(return_X_y=True)
    # Cold (defaults, then TPE): the GP sampler after a warm start costs its own time.
    kwargs = dict(learners=["linear"], verbose=0, isolation=isolation, random_state=0,
                  warm_start=False)
    AutoMLClassifier(n_trials=1, storage="memory", **kwargs).fit(X, y)  # warm the worker
    model = AutoMLClassifier(n_trials=n_trials, storage=storage, **kwargs)
    start = time.perf_counter()
    model.fit(X, y)
    wall = time.perf_counter() - start
    trials = model.study_.trials
    searched = [t for t in trials if t.datetime_complete is not None]
    search_wall = (searched[-1].datetime_complete - searched[0].datetime_start).total_seconds()
    fit_time = float(np.sum([t.user_attrs["fit_time"] for t in searched]))
    per_trial = search_wall / len(searched)
    return {
        "storage": storage.split(":")[0],
        "isolation": isolation,
        "trials": len(searched),
        "wall_ms_per_trial": round(1000 * per_trial, 1),
        "fit_ms_per_trial": round(1000 * fit_time / len(searched), 1),
        "overhead_ms_per_trial": round(1000 * (per_trial - fit_time / len(searched)), 1),
        "whole_fit_s": round(wall, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for storage in ("memory", f"sqlite:///{Path(tmp) / 'bench.db'}"):
            for isolation in ("process", "none"):
                rows.append(measure(storage, isolation, args.trials))
    print(f"machine: {platform.processor() or platform.machine()}, {cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
