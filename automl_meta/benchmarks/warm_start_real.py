"""Confirm the warm start with real training: ``fit`` on held-out corpus datasets.

    python -m automl_meta.benchmarks.warm_start_real --out benchmarks/warm_start_real \\
        [--datasets 20] [--trials 20] [--workers 2]

For each of ``--datasets`` real corpus datasets (one per family, chosen with a fixed seed,
classification and regression), the proposal model is rebuilt without the dataset's
family (leave-one-family-out), and ``fit`` runs ``--trials`` trials with 3-fold CV on the
same (at most 2,000-row) sample the knowledge base used, one core per search, for each
method:

- ``cold``: ``warm_start=False`` (each family's defaults, then TPE: the cold ``fit``);
- ``cold_bo``: ``warm_start=False, sampler="bo"`` (the defaults, then the BoTorch GP
  with no prior);
- ``warm``: the warm start, then TPE;
- ``warm_bo``: the warm start, then the BoTorch GP with the surrogate as prior mean (the
  full method, ``fit``'s default).

Regret is normalised per dataset between the worst and the best trial any method found
there. The table gives the mean regret at 1, 3, 5, 10, 20 and 50 trials (those up to
``--trials``), the median time to come within 1 % of the best, and, per method, how the
full method compares at the last horizon, dataset by dataset: wins / ties / losses (a tie
is within 0.01) with a two-sided sign test. Results are stored per dataset and method
(re-running resumes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .warm_start import commit_hash, markdown_table, wins_ties_losses

METHODS = ("cold", "cold_bo", "warm", "warm_bo")
FULL = "warm_bo"
HORIZONS = (1, 3, 5, 10, 20, 50)
TIE = 0.01  # normalised regret: differences within this are ties


def choose(n: int, knowledge: str, seed: int = 0) -> list[str]:
    """Corpus keys of ``n`` real datasets of the knowledge base, one per family, about 3
    classification to 1 regression, drawn with a fixed seed."""
    from ..knowledge import KnowledgeBase

    frame = KnowledgeBase(knowledge).datasets()
    frame = frame[frame["source"].isin(["sklearn", "keel", "keel-regression"])]
    rng = np.random.default_rng(seed)
    picked: list[str] = []
    for task, share in (("classification", 0.75), ("regression", 0.25)):
        rows = frame[frame["task"] == task]
        families = sorted(set(rows["family"]))
        count = round(n * share) if task == "classification" else n - len(picked)
        for family in rng.permutation(families)[:count]:
            options = rows[rows["family"] == family].sort_values("dataset")
            row = options.iloc[int(rng.integers(len(options)))]
            picked.append(f"{row['source']}:{row['dataset']}")
    return picked


def _pin(counter: Any) -> None:
    """Give each benchmark process its own core (inherited by its trial worker), so two
    searches side by side do not oversubscribe OpenMP/BLAS threads."""
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[index % len(cores)]})


def run_one(key: str, method: str, n_trials: int, knowledge: str) -> dict[str, Any]:
    warnings.filterwarnings("ignore")
    logging.getLogger("automl_meta").setLevel(logging.ERROR)
    from ..automl import AutoMLClassifier, AutoMLRegressor
    from ..corpus.build import _subsample
    from ..corpus.datasets import corpus_datasets
    from ..knowledge import KnowledgeBase
    from ..warm_start.artifact import load_or_build

    dataset = next(d for d in corpus_datasets([key.split(":")[0]]) if d.key == key)
    X, y = dataset.load()
    X, y = _subsample(X, y, dataset.task, 2_000)
    warm: Any = False
    build_seconds = 0.0
    if method.startswith("warm"):
        started = time.perf_counter()
        warm = load_or_build(KnowledgeBase(knowledge).exclude(families=[dataset.family]))
        build_seconds = time.perf_counter() - started
    cls = AutoMLClassifier if dataset.task == "classification" else AutoMLRegressor
    model = cls(n_trials=n_trials, cv=3, storage="memory", warm_start=warm,
                sampler="bo" if method.endswith("_bo") else "tpe", random_state=0, verbose=0,
                trial_timeout=60)
    started = time.perf_counter()
    model.fit(X, y, dataset_name=dataset.name)
    seconds = time.perf_counter() - started
    study = model.study_
    sign = 1.0 if study.direction.name == "MAXIMIZE" else -1.0
    t0 = min(t.datetime_start for t in study.trials)
    trials = sorted(study.trials, key=lambda t: t.number)
    return {"key": key, "family": dataset.family, "task": dataset.task, "method": method,
            "values": [sign * t.value if t.value is not None else None for t in trials],
            "elapsed": [(t.datetime_complete - t0).total_seconds() for t in trials],
            "origins": [t.user_attrs.get("origin") for t in trials],
            "fit_seconds": seconds, "build_seconds": build_seconds}


def summarise(results: list[dict[str, Any]], methods: Sequence[str]) -> pd.DataFrame:
    """Per method: mean normalised regret at each horizon up to the longest run, the
    median seconds to come within 1 % of the best, and (with the full method among
    ``methods``) the full method against it at the last horizon, dataset by dataset.

    >>> runs = [{"key": k, "method": m, "values": v, "elapsed": [1.0, 2.0, 3.0]}
    ...         for k, m, v in (("a", "cold", [0.5, 0.6, 0.9]), ("a", "warm_bo", [0.8, 1.0, 1.0]),
    ...                         ("b", "cold", [0.2, 0.4, 0.4]), ("b", "warm_bo", [0.4, 0.4, 0.3]))]
    >>> table = summarise(runs, ["cold", "warm_bo"])
    >>> table[["regret@1", "regret@3"]].round(3).values.tolist()
    [[1.0, 0.1], [0.2, 0.0]]
    >>> table.loc["cold", "full method W/T/L"], table.loc["warm_bo", "full method W/T/L"]
    ('1/1/0', '')
    """
    from scipy.stats import binomtest

    by_key: dict[str, dict[str, dict]] = {}
    for r in results:
        by_key.setdefault(r["key"], {})[r["method"]] = r
    longest = max(len(r["values"]) for r in results)
    horizons = [h for h in HORIZONS if h <= longest]
    rows = {m: {f"regret@{h}": [] for h in horizons} for m in methods}
    to_one: dict[str, list[float]] = {m: [] for m in methods}
    for runs in by_key.values():
        if not all(m in runs for m in methods):
            continue
        values = [v for m in methods for v in runs[m]["values"] if v is not None]
        if not values:
            continue
        lo, hi = min(values), max(values)
        span = hi - lo or 1.0
        for m in methods:
            vals = np.array([lo if v is None else v for v in runs[m]["values"]], dtype=float)
            best = np.maximum.accumulate(vals)
            regret = (hi - best) / span
            for h in horizons:
                rows[m][f"regret@{h}"].append(float(regret[min(h, len(regret)) - 1]))
            hit = np.flatnonzero(regret <= 0.01)
            elapsed = runs[m]["elapsed"]
            to_one[m].append(float(elapsed[hit[0]]) if len(hit) else float(elapsed[-1]))
    table = pd.DataFrame({m: {k: float(np.mean(v)) for k, v in rows[m].items()}
                          for m in methods}).T
    table["s_to_1%"] = [float(np.median(to_one[m])) for m in methods]
    if FULL in methods:
        last = f"regret@{horizons[-1]}"
        full = np.array(rows[FULL][last])
        record, p_values = [], []
        for m in methods:
            # > 0: the full method is ahead
            wins, ties, losses = wins_ties_losses(np.array(rows[m][last]) - full, TIE)
            record.append("" if m == FULL else f"{wins}/{ties}/{losses}")
            p_values.append(np.nan if m == FULL or wins + losses == 0
                            else binomtest(wins, wins + losses).pvalue)
        table["full method W/T/L"] = record
        table["sign test p"] = p_values
    return table.rename_axis("method")


def main(argv: Sequence[str] | None = None) -> int:
    from ..knowledge.storage import shipped_knowledge_url

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/warm_start_real")
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--knowledge", default=None)
    args = parser.parse_args(argv)
    knowledge = args.knowledge or shipped_knowledge_url()
    out = Path(args.out) / "runs"
    out.mkdir(parents=True, exist_ok=True)
    keys = choose(args.datasets, knowledge)

    def path(key: str, method: str) -> Path:
        digest = hashlib.sha256(f"{key}-{method}-{args.trials}".encode()).hexdigest()[:12]
        return out / f"{digest}.json"

    jobs = [(k, m) for k in keys for m in args.methods if not path(k, m).exists()]
    print(f"{len(keys)} datasets x {len(args.methods)} methods, {args.trials} trials each; "
          f"{len(jobs)} runs to do on {args.workers} workers", flush=True)
    started = time.perf_counter()
    import multiprocessing

    counter = multiprocessing.Value("i", 0)
    with ProcessPoolExecutor(args.workers, initializer=_pin, initargs=(counter,)) as pool:
        futures = {pool.submit(run_one, k, m, args.trials, knowledge): (k, m) for k, m in jobs}
        for i, future in enumerate(as_completed(futures), 1):
            key, method = futures[future]
            path(key, method).write_text(json.dumps(future.result()))
            print(f"[{i}/{len(jobs)}] {key} {method} ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    results = [json.loads(path(k, m).read_text()) for k in keys for m in args.methods]
    table = summarise(results, args.methods)
    text = (f"# Warm start with real training ({len(keys)} held-out datasets, {args.trials} "
            f"trials, 3-fold CV)\n\ncommit {commit_hash()}, "
            f"{time.perf_counter() - started:.0f} s, {os.cpu_count()} CPUs; datasets: "
            f"{', '.join(keys)}\n\n{markdown_table(table)}\n")
    print(text)
    (Path(args.out) / "table.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
