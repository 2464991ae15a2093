"""Fixed costs of a fit: what a tiny table's fit costs beyond its trials' own work.

    python -m automl_meta.benchmarks.fixed_costs [--repeats 5]

In fresh interpreters it times what a user's script does: ``from automl_meta import
AutoMLClassifier``, then a first and a second ``AutoMLClassifier(n_trials=2).fit`` of a
30 x 3 table with the defaults (warm start from the shipped knowledge base, a new SQLite
study file, a trial worker, the ensemble). One more fresh interpreter profiles the first
fit and prints where its time goes: the first-use imports in this process, waiting for
the trial worker (started at the beginning of the fit, beside this process's set-up),
the meta-features, the warm start, the trials and the final model. Phases are
cumulative times: a phase includes the imports it triggers.

This module imports only the standard library (and the package's light ``_system``) at
the top, so that its timed interpreters start as clean as a user's.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .._system import cpu_count

# (label, function, file suffix): the profile's cumulative times of the first fit.
FIT_PHASES = (
    ("first-use imports in this process", "_find_and_load", "_bootstrap>"),
    ("waiting for the trial worker", "_ensure_started", "search/executor.py"),
    ("meta-features", "extract_prepared", "meta_features/extract.py"),
    ("warm start (proposal model, first wave)", "warm_start_for", "warm_start/start.py"),
    ("search (the worker's wait included)", "run_search", "search/runner.py"),
    ("final model (ensemble)", "final_model", "search/final_model.py"),
)
TIMES = ("import_s", "first_fit_s", "second_fit_s")


def _child(profile: bool) -> dict[str, float]:
    """A user's script in this (fresh) interpreter; with ``profile``, the first fit's
    phases (:data:`FIT_PHASES`) instead of a second fit."""
    import numpy as np  # the user's own data; not timed

    started = time.perf_counter()
    from automl_meta import AutoMLClassifier

    out: dict[str, float] = {"import_s": time.perf_counter() - started}
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    with tempfile.TemporaryDirectory() as tmp:
        storage = f"sqlite:///{Path(tmp) / 'tiny.db'}"
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        AutoMLClassifier(n_trials=2, storage=storage, verbose=0).fit(X, y)
        if profiler is not None:
            profiler.disable()
        out["first_fit_s"] = time.perf_counter() - started
        if profiler is not None:
            stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
            for label, name, suffix in FIT_PHASES:
                # cProfile counts a recursive function's outermost calls only
                out[label] = sum(v[3] for (file, _, func), v in stats.items()
                                 if func == name and file.endswith(suffix))
            return out
        started = time.perf_counter()
        AutoMLClassifier(n_trials=2, storage=storage, verbose=0).fit(X, y)
        out["second_fit_s"] = time.perf_counter() - started
    return out


def _in_fresh_interpreter(profile: bool) -> dict[str, float]:
    args = [sys.executable, "-m", "automl_meta.benchmarks.fixed_costs", "--child"]
    done = subprocess.run(args + (["--profile"] if profile else []), capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"The timed fit failed (exit code {done.returncode}):\n"
                           f"{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(repeats: int) -> tuple[list[tuple[str, float, float, float]],
                                   list[tuple[str, float]]]:
    """(what, median, min, max) seconds over ``repeats`` fresh interpreters, and one
    profiled first fit's (phase, seconds)."""
    runs = [_in_fresh_interpreter(False) for _ in range(repeats)]
    summary = [(key, statistics.median(r[key] for r in runs), min(r[key] for r in runs),
                max(r[key] for r in runs)) for key in TIMES]
    profiled = _in_fresh_interpreter(True)
    phases = [("first fit, profiled", profiled["first_fit_s"])]
    phases += [(label, profiled[label]) for label, _, _ in FIT_PHASES]
    return summary, phases


def format_tables(summary: list[tuple[str, float, float, float]],
                  phases: list[tuple[str, float]]) -> str:
    """Two markdown tables.

    >>> print(format_tables([("import_s", 0.5, 0.4, 0.6)], [("meta-features", 0.25)]))
    | seconds | median | min | max |
    |---|---|---|---|
    | import_s | 0.50 | 0.40 | 0.60 |
    <BLANKLINE>
    | first fit, profiled | seconds |
    |---|---|
    | meta-features | 0.25 |
    """
    lines = ["| seconds | median | min | max |", "|---|---|---|---|"]
    lines += [f"| {k} | {m:.2f} | {lo:.2f} | {hi:.2f} |" for k, m, lo, hi in summary]
    lines += ["", "| first fit, profiled | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in phases]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5,
                        help="fresh interpreters to time (default 5)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.profile)))
        return
    summary, phases = measure(args.repeats)
    print(f"machine: {platform.processor() or platform.machine()}, {cpu_count()} cores, "
          f"Python {platform.python_version()}; 30 x 3, AutoMLClassifier(n_trials=2), "
          f"{args.repeats} fresh interpreters")
    print(format_tables(summary, phases))


if __name__ == "__main__":
    main()
