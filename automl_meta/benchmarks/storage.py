"""Storage overhead of parallel workers, and the speed-up of a real search with 2 workers.

Part 1: 1, 2 and 4 worker processes run a near-zero-cost trial (ask, sample a learner and
three parameters, set four user attributes, tell: what automl-meta's loop writes) on
SQLite, Optuna's JournalStorage (a local file) and PostgreSQL, so what is timed is the
storage. Part 2: ``fit`` with ``n_jobs=1`` and ``n_jobs=2`` on a real dataset.

    python -m automl_meta.benchmarks.storage [--trials 400] [--postgres URL] [--out DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _open(kind: str, where: str):
    import optuna

    from ..knowledge.storage import get_storage

    if kind == "journal":
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(where))
    return get_storage(where, wal=True)  # as fit and workers open it


def _worker(kind: str, where: str, study_name: str, n_trials: int, seed: int) -> float:
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    study = optuna.load_study(study_name=study_name, storage=_open(kind, where),
                              sampler=optuna.samplers.RandomSampler(seed=seed))
    started = time.perf_counter()
    for i in range(n_trials):
        trial = study.ask()
        learner = trial.suggest_categorical("learner", ["a", "b", "c"])
        trial.suggest_float(f"{learner}.x", 0.0, 1.0)
        trial.suggest_int(f"{learner}.n", 1, 100, log=True)
        trial.suggest_float(f"{learner}.y", 1e-4, 1.0, log=True)
        for key in ("learner", "origin", "seed", "fit_time"):
            trial.set_user_attr(key, i)
        study.tell(trial, float(i))
    return time.perf_counter() - started


def storage_overhead(kind: str, where: str, workers: int, total: int) -> dict:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = f"bench-{uuid.uuid4().hex[:10]}"
    optuna.create_study(storage=_open(kind, where), study_name=name)
    per = total // workers
    ctx = mp.get_context("spawn")
    started = time.perf_counter()
    with ctx.Pool(workers) as pool:
        busy = pool.starmap(_worker, [(kind, where, name, per, i) for i in range(workers)])
    wall = time.perf_counter() - started
    done = len(optuna.load_study(study_name=name, storage=_open(kind, where)).trials)
    if kind == "postgres":
        optuna.delete_study(study_name=name, storage=_open(kind, where))
    return {"storage": kind, "workers": workers, "trials": done,
            "trials/s": done / max(busy), "ms/trial": 1000 * sum(busy) / done, "wall": wall}


def real_search(n_jobs: int, trials: int, storage: str) -> dict:
    from sklearn.datasets import load_breast_cancer

    from ..automl import AutoMLClassifier

    X, y = load_breast_cancer(return_X_y=True)
    started = time.perf_counter()
    model = AutoMLClassifier(n_trials=trials, n_jobs=n_jobs, storage=storage,
                             learners=["random_forest", "extra_trees", "lightgbm",
                                       "hist_gradient_boosting"],
                             warm_start=False, verbose=0).fit(X, y)
    wall = time.perf_counter() - started
    return {"n_jobs": n_jobs, "trials": len(model.study_.trials), "wall s": wall,
            "trials/s": len(model.study_.trials) / wall, "best roc_auc": model.best_score_}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=400,
                        help="trials per storage × worker count (part 1)")
    parser.add_argument("--search-trials", type=int, default=24,
                        help="trials of the real search (part 2)")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES,
                        help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--out", default="benchmarks/storage")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="automl-meta-storage-"))
    rows = []
    for workers in (1, 2, 4):
        targets = [("sqlite", f"sqlite:///{tmp / f'{workers}.db'}"),
                   ("journal", str(tmp / f"{workers}.journal"))]
        if args.postgres:
            targets.append(("postgres", args.postgres))
        for kind, where in targets:
            row = storage_overhead(kind, where, workers, args.trials)
            rows.append(row)
            print(row, flush=True)
    search = [real_search(n, args.search_trials, f"sqlite:///{tmp / f'search{n}.db'}")
              for n in (1, 2)]
    for row in search:
        print(row, flush=True)
    import pandas as pd

    from .warm_start import commit_hash, markdown_table

    text = (f"# Storage overhead and parallel speed-up\n\ncommit {commit_hash()}, "
            f"{platform.node()}: {os.cpu_count()} CPUs\n\n## Near-zero-cost trials\n\n"
            f"{markdown_table(pd.DataFrame(rows).set_index('storage'), 2)}\n\n"
            f"## Real search (breast_cancer, tree learners, {args.search_trials} trials, "
            f"SQLite)\n\n{markdown_table(pd.DataFrame(search).set_index('n_jobs'), 4)}\n")
    (out / "table.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
