"""The offline build of the proposal model (:func:`build_proposal_model`): the scaled
meta-features and best configurations of every past dataset, the greedy portfolio, the
LightGBM surrogate and the cost model, from a knowledge base's studies.

The run-time side, what a fit reads, is :mod:`.model` (:class:`~.model.ProposalModel`)
and :mod:`.artifact`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np

from .._types import Task
from ..knowledge.neighbours import robust_scale
from ..learners import DEFAULT_LEARNERS
from ..meta_features import feature_names
from ..search_space import LEARNER_PARAM
from .encoding import ConfigEncoder
from .model import ProposalModel, TaskModel

logger = logging.getLogger(__name__)

__all__ = ["SHARED_SHARE", "SURROGATE_TARGET", "build_proposal_model", "shared_configs"]

_SURROGATE_PARAMS = {
    "objective": "regression", "learning_rate": 0.05, "num_leaves": 31,
    "min_data_in_leaf": 20, "feature_fraction": 0.8, "bagging_fraction": 0.8,
    "bagging_freq": 1, "lambda_l2": 1.0, "verbose": -1, "num_threads": 1, "seed": 0,
    "deterministic": True,
}
_SURROGATE_ROUNDS = 300
SURROGATE_TARGET = "rank"  # "score", "rank" (percentile within a dataset) or "lambdarank"

SHARED_SHARE = 0.9


def shared_configs(matrix: Any) -> Any:
    """The columns of a score matrix evaluated on at least 90 % of its datasets: the
    shared portfolio every corpus dataset was evaluated on."""
    return matrix.columns[matrix.notna().mean(axis=0) >= SHARED_SHARE]


def build_proposal_model(kb: Any, learners: Sequence[str] | None = None,
                         portfolio_size: int = 20, n_best: int = 3) -> ProposalModel:
    """Build the proposal model from a :class:`~automl_meta.knowledge.KnowledgeBase`.

    Every finished trial of every dataset is a training row of the surrogate; the greedy
    portfolio is chosen among configurations evaluated on at least 90 % of a task's
    datasets (the shipped corpus's shared portfolio).

    Parameters
    ----------
    kb : KnowledgeBase
        The past datasets and trials.
    learners : sequence of str, optional
        Families to model (default: all).
    portfolio_size : int, default 20
        Configurations in each task's greedy portfolio.
    n_best : int, default 3
        Best configurations kept per past dataset (the neighbours' proposals).
    """
    learners = list(learners) if learners is not None else list(DEFAULT_LEARNERS)
    frame = kb.datasets()
    model = ProposalModel(knowledge_digest=kb.digest(), knowledge_urls=list(kb.urls),
                          built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    for task in ("classification", "regression"):
        rows = frame[frame["task"] == task] if not frame.empty else frame
        matrix = kb.score_matrix(task) if len(rows) else None
        if matrix is None or matrix.empty:
            continue
        rows = rows.loc[[fp for fp in rows.index if fp in matrix.index]]
        matrix = matrix.loc[rows.index]
        model.tasks[task] = _build_task(task, rows, matrix, learners,
                                        [n for n in feature_names() if n in rows.columns],
                                        portfolio_size, n_best, kb.fit_costs(task))
    return model


def _build_task(task: Task, rows: Any, matrix: Any, learners: list[str],
                names: list[str], portfolio_size: int, n_best: int,
                costs: Any = None) -> TaskModel:
    table = rows[names].to_numpy(dtype=float)
    median, scale = robust_scale(table)
    meta = np.nan_to_num((table - median) / scale)
    configs = {key: json.loads(key) for key in matrix.columns}
    # Only families with trials in the knowledge base: the surrogate knows nothing of others.
    seen = {str(c.get(LEARNER_PARAM)) for c in configs.values()}
    enc = ConfigEncoder([lr for lr in learners if lr in seen], task)
    usable = [key for key, c in configs.items() if enc.supports(c)]
    matrix = matrix[usable]

    datasets = []
    for fp, row in matrix.iterrows():
        ranked = row.dropna().sort_values(ascending=False, kind="stable")
        datasets.append({"fingerprint": str(fp), "dataset": str(rows.at[fp, "dataset"]),
                         "family": str(rows.at[fp, "family"]),
                         "best": [configs[key] for key in ranked.index[:n_best]]})

    # Greedy portfolio over the configurations (almost) every dataset evaluated.
    dense = matrix[shared_configs(matrix)].fillna(0.0)
    portfolio: list[dict[str, Any]] = []
    if dense.shape[1]:
        values = dense.to_numpy()
        covered = np.zeros(values.shape[0])
        remaining = list(range(values.shape[1]))
        while remaining and len(portfolio) < portfolio_size:
            gains = [np.maximum(covered, values[:, j]).mean() for j in remaining]
            j = remaining.pop(int(np.argmax(gains)))
            covered = np.maximum(covered, values[:, j])
            portfolio.append(configs[dense.columns[j]])

    # Surrogate rows: (scaled meta-features, encoded config) -> SURROGATE_TARGET.
    long = matrix.stack().dropna().rename("score").reset_index()
    index = {fp: i for i, fp in enumerate(matrix.index)}
    X_meta = meta[[index[fp] for fp in long["fingerprint"]]]
    X_conf = enc.encode([configs[key] for key in long["config"]])
    X = np.hstack([X_meta, X_conf])
    y = long["score"].to_numpy(dtype=float)
    if SURROGATE_TARGET == "rank":  # the score's percentile among the dataset's trials
        y = long.groupby("fingerprint")["score"].rank(pct=True).to_numpy(dtype=float)
    feature_names = [f"meta__{n}" for n in names] + [
        c.replace("=", "__").replace(".", "__") for c in enc.columns]
    surrogate = None
    if len(y) >= 50:
        import lightgbm as lgb

        params = dict(_SURROGATE_PARAMS)
        group = None
        if SURROGATE_TARGET == "lambdarank":
            params["objective"] = "lambdarank"
            y = np.floor(long.groupby("fingerprint")["score"].rank(pct=True).to_numpy() * 10)
            group = long.groupby("fingerprint", sort=False).size().loc[
                long["fingerprint"].unique()].to_numpy()
        data = lgb.Dataset(X, y, group=group, feature_name=feature_names, free_raw_data=True)
        surrogate = lgb.train(params, data, num_boost_round=_SURROGATE_ROUNDS)
    logger.info("Proposal model (%s): %d datasets, %d configurations, %d training rows.",
                task, len(datasets), matrix.shape[1], len(y))
    return TaskModel(task=task, learners=enc.learners, feature_names=names, median=median,
                     scale=scale, datasets=datasets, meta=meta, portfolio=portfolio,
                     surrogate=surrogate, n_training_rows=int(len(y)),
                     cost=_cost_model(costs, index, meta, enc, feature_names))


def _cost_model(costs: Any, index: dict[str, int], meta: np.ndarray, enc: ConfigEncoder,
                feature_names: list[str]) -> Any:
    """LightGBM on ``(scaled meta-features, encoded configuration) -> log seconds per
    training row`` (:meth:`KnowledgeBase.fit_costs`); ``None`` with under 50 rows."""
    if costs is None or costs.empty:
        return None
    configs = [json.loads(key) for key in costs["config"]]
    keep = [i for i, (fp, c) in enumerate(zip(costs["fingerprint"], configs, strict=True))
            if fp in index and enc.supports(c) and costs["seconds_per_row"].iat[i] > 0]
    if len(keep) < 50:
        return None
    import lightgbm as lgb

    X = np.hstack([meta[[index[costs["fingerprint"].iat[i]] for i in keep]],
                   enc.encode([configs[i] for i in keep])])
    y = np.log(costs["seconds_per_row"].to_numpy(dtype=float)[keep])
    data = lgb.Dataset(X, y, feature_name=feature_names, free_raw_data=True)
    return lgb.train(dict(_SURROGATE_PARAMS), data, num_boost_round=_SURROGATE_ROUNDS)
