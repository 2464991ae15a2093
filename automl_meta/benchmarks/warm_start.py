"""Leave-one-dataset-out benchmark of the warm start, on a lookup table (HPO-B style).

    python -m automl_meta.benchmarks.warm_start --out benchmarks/warm_start [--workers 2]

Every dataset of the knowledge base is held out in turn, together with its family (its
near-duplicates and every variant derived from the same source, e.g. KEEL's imbalanced
cuts of ``yeast``): the proposal model is rebuilt without them. Each method then searches
the held-out dataset's *pool*, the configurations the corpus build evaluated on it (the
shared portfolios: 40 configurations and the 8 neural ones, or with ``--pool all`` also the
10 TPE trials searched on that very dataset, which flatter random search), reading each chosen
configuration's stored score instead of training it, so the whole benchmark takes
minutes. A method's proposal outside the pool is replaced by the nearest configuration of
the pool not yet tried (same learner first).

Scores are the knowledge base's normalised scores (1 is the dataset's best pool entry, 0
its worst), so the normalised regret after ``t`` trials is ``1 - best so far``. Time to
reach within 1 % of the best (regret <= 0.01) adds the stored fit times of the chosen
configurations to each method's own proposal time.

Results are written per family to ``--out`` (re-running skips the families done, so an
interrupted run resumes); the table is printed and written with a plotly figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import subprocess
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

METHODS = ("random", "tpe_cold", "gp_cold", "defaults_tpe", "knn", "surrogate", "full_tpe",
           "full", "full_cost")
DESCRIPTIONS = {
    "random": "random search",
    "tpe_cold": "TPE, cold (multivariate, grouped; as `warm_start=False`)",
    "gp_cold": "BoTorch GP, cold (5 random, then EI)",
    "defaults_tpe": "each family's defaults, then TPE",
    "knn": "kNN warm start (nearest datasets' bests), then TPE",
    "surrogate": "surrogate warm start (top predicted), then TPE",
    "full_tpe": "full warm start, then TPE",
    "full": "full method: warm start, then GP with the surrogate as prior mean",
    "full_cost": "the full method told the time budget: cost-aware warm start and GP",
}
HORIZONS = (1, 3, 5, 10, 25, 50)
WARM_K = 10
MAX_TRIALS = 50
# The time budget of the budgeted columns: this many times the mean fit time of the
# held-out dataset's pool (the stored fit times, 3-fold CV on the corpus's sample).
BUDGET_TRIALS = 10.0

_STATE: dict[str, Any] = {}


# ------------------------------------------------------------------ one dataset
class Lookup:
    """The pool of one held-out dataset: configurations, scores and fit times."""

    def __init__(self, configs: list[dict[str, Any]], scores: np.ndarray,
                 fit_times: np.ndarray, encoder: Any):
        self.configs, self.scores, self.fit_times = configs, scores, fit_times
        self.encoder = encoder
        self.X = np.nan_to_num(encoder.encode(configs), nan=0.5)
        self.learners = np.array([c["learner"] for c in configs])
        self.used = np.zeros(len(configs), dtype=bool)

    def snap(self, config: dict[str, Any]) -> int:
        """The nearest untried pool entry to ``config`` (its own learner first)."""
        x = np.nan_to_num(self.encoder.encode([config]), nan=0.5)[0]
        distance = ((self.X - x) ** 2).sum(axis=1) + 100.0 * (
            self.learners != config["learner"])
        distance[self.used] = np.inf
        return int(np.argmin(distance))

    def take(self, index: int) -> None:
        self.used[index] = True


def _tpe_next(configs: list[dict[str, Any]], values: list[float], learners: Sequence[str],
              task: str, seed: int) -> dict[str, Any]:
    import optuna

    from ..search.study import make_sampler
    from ..search_space import sample_config
    from ..search_space.space import learner_space

    study = optuna.create_study(direction="maximize", sampler=make_sampler(seed))
    trials = []
    for config, value in zip(configs, values, strict=True):
        space = learner_space(config["learner"], task)  # type: ignore[arg-type]
        dists = {"learner": optuna.distributions.CategoricalDistribution(list(learners))}
        dists.update({f"{config['learner']}.{k}": d for k, d in space.items()})
        trials.append(optuna.trial.create_trial(params=config, distributions=dists,
                                                value=value))
    study.add_trials(trials)
    trial = study.ask()
    return sample_config(trial, learners, task)  # type: ignore[arg-type]


def run_method(method: str, lookup: Lookup, task: str, learners: Sequence[str],
               warm: Callable[..., list[dict[str, Any]]], prior: Callable | None,
               seed: int, cost: Callable | None = None) -> dict[str, list[float]]:
    """Search the pool with ``method``; returns the chosen scores, fit times and the
    method's own seconds per trial. ``full_cost`` is told a budget of ``BUDGET_TRIALS``
    times the pool's mean fit time: its warm start and, with ``cost`` (configurations ->
    predicted seconds), its GP spend it knowingly."""
    from ..search.bayes import BayesianProposer
    from ..search_space import default_configs

    rng = np.random.default_rng(seed)
    n = min(MAX_TRIALS, len(lookup.configs))
    chosen: list[int] = []
    overhead: list[float] = []
    budget = float(np.nanmean(lookup.fit_times)) * BUDGET_TRIALS
    if method == "full_cost":
        queue = warm("full", budget)
    elif method in ("knn", "surrogate", "full_tpe", "full"):
        queue = warm("full" if method.startswith("full") else method)
    elif method == "defaults_tpe":
        queue = default_configs(learners, task)  # type: ignore[arg-type]
    else:
        queue = []
    proposer = None
    if method in ("gp_cold", "full", "full_cost"):
        proposer = BayesianProposer(learners, task, prior=None if method == "gp_cold" else prior,
                                    seed=seed, cost=cost if method == "full_cost" else None)
    order = rng.permutation(len(lookup.configs)) if method == "random" else None
    queue_time = 0.0
    for step in range(n):
        started = time.perf_counter()
        if order is not None:
            index = int(next(i for i in order if not lookup.used[i]))
        elif queue:
            index = lookup.snap(queue.pop(0))
        else:
            history = [lookup.configs[i] for i in chosen]
            values = [float(lookup.scores[i]) for i in chosen]
            if proposer is not None:
                pool = [i for i in range(len(lookup.configs)) if not lookup.used[i]]
                spent = float(np.nansum(lookup.fit_times[chosen]))
                config = proposer.propose(history, values, step,
                                          candidates=[lookup.configs[i] for i in pool],
                                          time_left=budget - spent)
            else:
                config = _tpe_next(history, values, learners, task, seed * 1000 + step)
            index = lookup.snap(config)
        lookup.take(index)
        chosen.append(index)
        overhead.append(time.perf_counter() - started + (queue_time if step == 0 else 0.0))
    return {"scores": [float(lookup.scores[i]) for i in chosen],
            "fit_times": [float(lookup.fit_times[i]) for i in chosen],
            "overhead": [round(x, 5) for x in overhead]}


def pool_scaled(scores: pd.DataFrame) -> pd.DataFrame:
    """Each row (a dataset's scores over a pool) scaled so that 1 is its best entry and 0
    its worst (a constant row stays at 0); missing scores stay missing.

    >>> pool_scaled(pd.DataFrame([[0.5, 1.0, 1.5], [2.0, 2.0, None]])).values.tolist()
    [[0.0, 0.5, 1.0], [0.0, 0.0, nan]]
    """
    lo, hi = scores.min(axis=1), scores.max(axis=1)
    return scores.sub(lo, axis=0).div((hi - lo).replace(0, 1.0), axis=0)


# ------------------------------------------------------------------ one family
def _init(url: str) -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("automl_meta").setLevel(logging.WARNING)
    import optuna
    import torch

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    from ..knowledge import KnowledgeBase
    from ..warm_start.build import shared_configs

    kb = KnowledgeBase(url)
    _STATE["kb"] = kb
    _STATE["datasets"] = kb.datasets()
    _STATE["matrix"] = {t: kb.score_matrix(t) for t in ("classification", "regression")}
    _STATE["shared"] = {t: shared_configs(m) for t, m in _STATE["matrix"].items()}


def _fit_times(kb: Any, fingerprint: str) -> dict[str, float]:
    trials = kb.trials(fingerprint)
    return trials.groupby("config")["fit_time"].mean().to_dict() if len(trials) else {}


def run_family(family: str, methods: Sequence[str], seed: int, pool: str = "shared"
               ) -> list[dict[str, Any]]:
    from ..learners import DEFAULT_LEARNERS, LEARNERS
    from ..warm_start import build_proposal_model
    from ..warm_start.encoding import ConfigEncoder
    from ..warm_start.suggest import follow_up_defaults

    kb, frame = _STATE["kb"], _STATE["datasets"]
    started = time.perf_counter()
    model = build_proposal_model(kb.exclude(families=[family]))
    build_seconds = time.perf_counter() - started
    rows = []
    for fp, info in frame[frame["family"] == family].iterrows():
        task = str(info["task"])
        matrix = _STATE["matrix"][task]
        if fp not in matrix.index or task not in model.tasks:
            continue
        row = matrix.loc[fp].dropna()
        if pool == "shared":  # only the configurations (almost) every dataset evaluated
            row = row[row.index.isin(_STATE["shared"][task])]
            row = pool_scaled(row.to_frame().T).iloc[0]
        learners = [lr for lr in DEFAULT_LEARNERS]
        encoder = ConfigEncoder(learners, task)  # type: ignore[arg-type]
        configs = [json.loads(k) for k in row.index]
        keep = [i for i, c in enumerate(configs) if encoder.supports(c)]
        if len(keep) < 20:
            continue
        times = _fit_times(kb, fp)
        meta = {k: float(info[k]) for k in model.tasks[task].feature_names}
        task_model = model.tasks[task]
        query = task_model.scale_meta(meta)

        def warm(strategy: str, budget: float | None = None, meta: dict = meta,
                 task: str = task, tm: Any = task_model,
                 learners: list[str] = learners) -> list[dict]:
            """The proposals, then the defaults ``fit`` runs after them."""
            proposed = [p.config for p in model.suggest(
                meta, task, k=WARM_K, strategy=strategy, seed=seed,  # type: ignore[arg-type]
                time_budget=budget, cv_folds=3)]  # the corpus's 3-fold CV
            able = [lr for lr in learners if task in LEARNERS[lr].tasks]
            return proposed + follow_up_defaults(proposed, able, tm.learners, task)

        def prior(configs: Sequence[dict], tm: Any = task_model, q: Any = query) -> np.ndarray:
            return tm.predict(q, configs)

        def cost(configs: Sequence[dict], tm: Any = task_model, q: Any = query,
                 n_rows: float = float(info["n_rows"])) -> np.ndarray:
            return tm.predict_seconds(q, configs, n_rows, 3)  # the corpus's 3-fold CV

        fit_times = np.array([times.get(row.index[i], np.nan) for i in keep])
        result = {"fingerprint": fp, "dataset": info["dataset"], "family": family,
                  "task": task, "pool": len(keep), "pool_kind": pool,
                  "mean_fit_time": float(np.nanmean(fit_times)),
                  "build_seconds": round(build_seconds, 2), "methods": {}}
        for method in methods:
            lookup = Lookup([configs[i] for i in keep], row.to_numpy()[keep], fit_times,
                            encoder)
            result["methods"][method] = run_method(method, lookup, task, learners, warm,
                                                   prior, seed, cost)
        rows.append(result)
    return rows


# ------------------------------------------------------------------ the table
def summarise(results: list[dict[str, Any]], methods: Sequence[str]) -> pd.DataFrame:
    """Mean normalised regret and mean rank at each horizon, and time to 1 %."""
    regret = {m: {h: [] for h in HORIZONS} for m in methods}
    ranks = {m: {h: [] for h in HORIZONS} for m in methods}
    to_one: dict[str, list[float]] = {m: [] for m in methods}
    reached: dict[str, list[bool]] = {m: [] for m in methods}
    budgeted: dict[str, list[float]] = {m: [] for m in methods}
    for r in results:
        for h in HORIZONS:
            values = {m: 1.0 - max(r["methods"][m]["scores"][:h]) for m in methods}
            order = pd.Series(values).rank(method="average")
            for m in methods:
                regret[m][h].append(values[m])
                ranks[m][h].append(float(order[m]))
        for m in methods:
            res = r["methods"][m]
            spent = np.cumsum(np.nan_to_num(res["fit_times"]) + np.array(res["overhead"]))
            hit = [i for i, s in enumerate(res["scores"]) if 1.0 - max(res["scores"][:i + 1])
                   <= 0.01]
            reached[m].append(bool(hit))
            to_one[m].append(float(spent[hit[0]] if hit else spent[-1]))
            budgeted[m].append(regret_within(res["scores"], res["fit_times"],
                                             BUDGET_TRIALS * r.get("mean_fit_time", np.nan)))
    rows = []
    for m in methods:
        row: dict[str, Any] = {"method": m}
        for h in HORIZONS:
            row[f"regret@{h}"] = np.mean(regret[m][h])
        for h in HORIZONS:
            row[f"rank@{h}"] = np.mean(ranks[m][h])
        row["s_to_1%"] = np.median(to_one[m])
        row["reached_1%"] = np.mean(reached[m])
        row["regret@budget"] = np.nanmean(budgeted[m]) if np.isfinite(budgeted[m]).any() \
            else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def regret_within(scores: Sequence[float], fit_times: Sequence[float], budget: float
                  ) -> float:
    """Regret of the best score among the trials done within ``budget`` seconds of stored
    fit time (1 when not even the first fits; NaN without a budget).

    >>> round(regret_within([0.5, 0.9, 1.0], [1.0, 2.0, 5.0], 3.5), 3)
    0.1
    """
    if not np.isfinite(budget):
        return float("nan")
    spent = np.cumsum(np.nan_to_num(np.asarray(fit_times, dtype=float)))
    done = [s for s, t in zip(scores, spent, strict=True) if t <= budget]
    return 1.0 - max(done) if done else 1.0


def markdown_table(table: pd.DataFrame, digits: int = 4) -> str:
    """``table`` as a GitHub markdown table (no tabulate dependency)."""
    header = [table.index.name or ""] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, *row in table.itertuples():  # (iterrows would turn ints into floats)
        cells = [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(index), *cells]) + " |")
    return "\n".join(lines)


def wins_ties_losses(diff: Any, tie: float) -> tuple[int, int, int]:
    """How many of the paired differences ``diff`` (> 0: ahead) are beyond ``+tie``,
    within it, and beyond ``-tie``.

    >>> wins_ties_losses(np.array([0.5, 0.001, -0.2, 0.0]), tie=0.01)
    (1, 2, 1)
    """
    diff = np.asarray(diff, dtype=float)
    wins, losses = int((diff > tie).sum()), int((diff < -tie).sum())
    return wins, len(diff) - wins - losses, losses


def mean_curves(results: list[dict[str, Any]], methods: Sequence[str]) -> dict[str, list]:
    """Mean normalised regret of each method after 1, 2, ... MAX_TRIALS trials."""
    out = {}
    for m in methods:
        curves = []
        for r in results:
            s = np.maximum.accumulate(r["methods"][m]["scores"])
            s = np.pad(s, (0, MAX_TRIALS - len(s)), mode="edge")
            curves.append(1.0 - s)
        out[m] = [round(float(v), 6) for v in np.mean(curves, axis=0)]
    return out


def figure(results: list[dict[str, Any]], methods: Sequence[str]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    steps = np.arange(1, MAX_TRIALS + 1)
    for m, curve in mean_curves(results, methods).items():
        fig.add_trace(go.Scatter(x=steps, y=curve, mode="lines", name=m,
                                 hovertemplate=f"{DESCRIPTIONS[m]}<br>trial %{{x}}: "
                                 "regret %{y:.4f}<extra></extra>"))
    fig.update_layout(
        title=f"Leave-one-dataset-out warm start, {len(results)} datasets (lookup)",
        xaxis_title="trials", yaxis_title="mean normalised regret", yaxis_type="log",
        template="plotly_white", height=420, width=980)
    return fig


# ------------------------------------------------------------------ one pick
def single_pick_table(kb: Any, neighbours: Sequence[int] = (1, 3, 5, 10),
                      seed: int = 0) -> pd.DataFrame:
    """How good can one configuration be? Regret at 1 trial of simple single-pick rules
    on the shared pool, each dataset held out with its family, against what 10 random
    picks reach.

    Rules: the configuration with the best mean normalised score over the other
    families (the greedy portfolio's first), and the best mean over the ``k`` nearest
    datasets in robust-scaled meta-features (auto-sklearn's kNN). Each rule also runs
    *leaky*: only the dataset itself is held out, so its near-duplicates and sibling
    variants stay in (not an honest evaluation: a bound on what more similar knowledge
    could give). The fast counterpart of the lookup benchmark's first trial.
    """
    from ..knowledge.neighbours import robust_scale
    from ..meta_features import feature_names
    from ..warm_start.build import shared_configs

    frame = kb.datasets()
    rows = []
    for task in ("classification", "regression"):
        matrix = kb.score_matrix(task)
        if matrix.empty:
            continue
        matrix = matrix[shared_configs(matrix)]
        matrix = matrix.loc[[fp for fp in matrix.index if fp in frame.index]]
        score = np.nan_to_num(pool_scaled(matrix).to_numpy(dtype=float))
        info = frame.loc[matrix.index]
        table = info[[n for n in feature_names() if n in info.columns]].to_numpy(float)
        family = info["family"].to_numpy()
        rng = np.random.default_rng(seed)
        regret: dict[str, list[float]] = {}
        for i in range(len(score)):
            for leaky in (False, True):
                train = (np.arange(len(score)) != i) if leaky else (family != family[i])
                median, scale = robust_scale(table[train])
                z = np.nan_to_num((table - median) / scale)
                order = np.argsort(np.sqrt(((z[train] - z[i]) ** 2).sum(axis=1)),
                                   kind="stable")
                known = score[train]
                picks = {"best mean over the knowledge base": known.mean(axis=0)}
                picks.update({f"best mean over the {k} nearest datasets":
                              known[order[:k]].mean(axis=0) for k in neighbours})
                for rule, value in picks.items():
                    key = rule + (" (leaky)" if leaky else "")
                    regret.setdefault(key, []).append(1.0 - score[i, int(np.argmax(value))])
            draws = [1.0 - score[i, rng.choice(score.shape[1], min(10, score.shape[1]),
                                               replace=False)].max() for _ in range(100)]
            regret.setdefault("10 random picks (for comparison)", []).append(
                float(np.mean(draws)))
        for rule, values in regret.items():
            rows.append({"task": task, "rule": rule, "datasets": len(values),
                         "regret@1": float(np.mean(values))})
    long = pd.DataFrame(rows)
    table = long.pivot(index="rule", columns="task", values="regret@1")
    sizes = long.groupby("task")["datasets"].first()
    table["all"] = (table * sizes).sum(axis=1) / sizes[table.columns].sum()
    table.columns = [f"{c} ({sizes[c]})" if c in sizes else f"all ({sizes.sum()})"
                     for c in table.columns]
    return table.loc[list(dict.fromkeys(long["rule"]))]


# ------------------------------------------------------------------ the cost model
def cost_model_table(kb: Any, n_folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """How well the proposal model's cost model predicts fit times on datasets it has not
    seen: the families are split into ``n_folds`` groups, the model is built without each
    group, and it predicts the stored fit time of every completed trial of the group's
    datasets (at their size and fold count). Reported per task: the median and 90th
    percentile of the factor by which a prediction is off (1 is exact), and the mean
    within-dataset Spearman correlation of predicted and stored times (does it order a
    dataset's configurations by cost)."""
    from scipy.stats import spearmanr

    from ..warm_start import build_proposal_model

    frame = kb.datasets()
    families = np.array(sorted(set(frame["family"])))
    np.random.default_rng(seed).shuffle(families)
    rows = []
    for task in ("classification", "regression"):
        costs = kb.fit_costs(task)
        factors, rhos = [], []
        for group in np.array_split(families, n_folds):
            model = build_proposal_model(kb.exclude(families=list(group)))
            tm = model.tasks.get(task)
            if tm is None:
                continue
            held = frame[(frame["task"] == task) & frame["family"].isin(group)]
            for fp, info in held.iterrows():
                mine = costs[costs["fingerprint"] == fp]
                if len(mine) < 5:
                    continue
                configs = [json.loads(k) for k in mine["config"]]
                query = tm.scale_meta({k: float(info[k]) for k in tm.feature_names})
                # the stored time over its seconds per row: (folds - 1) * n_rows
                rows_fitted = float((mine["fit_time"] / mine["seconds_per_row"]).iloc[0])
                predicted = tm.predict_seconds(query, configs, rows_fitted, 2)
                ok = np.isfinite(predicted)
                stored = mine["fit_time"].to_numpy()[ok]
                factors += np.exp(np.abs(np.log(predicted[ok] / stored))).tolist()
                rhos.append(spearmanr(predicted[ok], stored).statistic)
        if not factors:
            continue
        rows.append({"task": task, "trials": len(factors),
                     "median factor off": float(np.median(factors)),
                     "90th percentile factor off": float(np.quantile(factors, 0.9)),
                     "within-dataset Spearman": float(np.nanmean(rhos))})
    return pd.DataFrame(rows).set_index("task")


def commit_hash() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    from ..knowledge.storage import shipped_knowledge_url

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--knowledge", default=None,
                        help="knowledge base URL (default: the shipped one)")
    parser.add_argument("--out", default="benchmarks/warm_start",
                        help="results directory (resumed if it exists)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--families", nargs="+", help="only these families (a quick run)")
    parser.add_argument("--task", choices=["classification", "regression"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool", choices=["shared", "all"], default="shared",
                        help="shared: the 48 configurations every dataset evaluated (default); "
                             "all: also the 10 TPE trials searched on the held-out dataset")
    parser.add_argument("--single-pick", action="store_true",
                        help="only the regret at 1 trial of single-pick rules (seconds)")
    parser.add_argument("--cost-model", action="store_true",
                        help="only the cost model's fit-time predictions on held-out "
                             "families (about a minute)")
    args = parser.parse_args(argv)
    url = args.knowledge or shipped_knowledge_url()
    if args.single_pick:
        from ..knowledge import KnowledgeBase

        print(markdown_table(single_pick_table(KnowledgeBase(url), seed=args.seed)))
        return 0
    if args.cost_model:
        from ..knowledge import KnowledgeBase

        print(markdown_table(cost_model_table(KnowledgeBase(url), seed=args.seed), digits=3))
        return 0
    out = Path(args.out)
    (out / "families").mkdir(parents=True, exist_ok=True)

    from ..knowledge import KnowledgeBase

    frame = KnowledgeBase(url).datasets()
    if args.task:
        frame = frame[frame["task"] == args.task]
    families = sorted(set(frame["family"]))
    if args.families:
        families = [f for f in families if f in set(args.families)]
    tag = f"{'-'.join(args.methods)}-seed{args.seed}-{args.pool}"

    def path(family: str) -> Path:
        digest = hashlib.sha256(tag.encode()).hexdigest()[:8]
        return out / "families" / f"{family}.{digest}.json"

    todo = [f for f in families if not path(f).exists()]
    print(f"{len(families)} families, {len(families) - len(todo)} done before; "
          f"{args.workers} workers", flush=True)
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(url,)) as pool:
        futures = {pool.submit(run_family, f, args.methods, args.seed, args.pool): f
                   for f in todo}
        for i, future in enumerate(as_completed(futures), 1):
            family = futures[future]
            path(family).write_text(json.dumps(future.result()))
            print(f"[{i}/{len(todo)}] {family} ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    results = [r for f in families for r in json.loads(path(f).read_text())]
    if args.task is None:
        parts = [("all", results)] + [(t, [r for r in results if r["task"] == t])
                                      for t in ("classification", "regression")]
    else:
        parts = [(args.task, results)]
    lines = [f"# Warm start, leave one dataset family out (lookup benchmark, pool "
             f"{args.pool!r})\n",
             f"commit {commit_hash()}, {platform.node() or 'machine'}: "
             f"{platform.processor() or ''} {os.cpu_count()} CPUs; {len(results)} datasets, "
             f"{len(families)} families; "
             f"{time.perf_counter() - started:.0f} s\n"]
    for name, part in parts:
        if not part:
            continue
        table = summarise(part, args.methods)
        lines.append(f"\n## {name} ({len(part)} datasets)\n\n")
        lines.append(markdown_table(table) + "\n")
    text = "".join(lines)
    print(text)
    (out / "table.md").write_text(text)
    figure(results, args.methods).write_html(out / "regret.html", include_plotlyjs=True)
    # The curves, for `automl-meta report` (its warm-against-cold section).
    (out / "curves.json").write_text(json.dumps({
        "methods": mean_curves(results, args.methods),
        "descriptions": {m: DESCRIPTIONS[m] for m in args.methods},
        "n_datasets": len(results), "pool": args.pool, "commit": commit_hash(),
        "machine": f"{platform.node() or 'machine'}, {os.cpu_count()} CPUs"}, indent=1))
    print(f"wrote {out / 'table.md'}, {out / 'regret.html'} and {out / 'curves.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
