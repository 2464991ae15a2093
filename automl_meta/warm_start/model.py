"""The proposal model: what the knowledge base teaches about where to start a search.

Built offline from a :class:`~automl_meta.knowledge.KnowledgeBase` (``automl-meta
warm-start build``) and read at run time, like FLAML's portfolio, as a versioned,
self-describing JSON artifact. For each task it holds

- the past datasets' meta-features, robust-scaled (median and interquartile range, as
  auto-sklearn's kNN does), with each dataset's best configurations;
- a greedy portfolio: configurations chosen one by one to minimise the mean regret over
  the knowledge base (FLAML's zero-shot idea), for when nothing is known;
- a LightGBM surrogate ``(meta-features, configuration) -> percentile rank`` of the
  configuration among the dataset's trials (1 is the best; ``SURROGATE_TARGET`` can switch
  to the normalised score or LambdaRank), which ranks a candidate pool for a new dataset
  and serves the Bayesian optimisation that follows as its prior mean;
- a LightGBM cost model ``(meta-features, configuration) -> log seconds per training
  row``, which predicts what a configuration will take to cross-validate on a dataset of
  any size, so that under a time budget the proposals leave the search time to go on.

:meth:`ProposalModel.suggest` combines them at run time; :mod:`.build` builds the model
offline (the way FLAML's ``portfolio.py`` is apart from its ``suggest.py``), and
:mod:`automl_meta.warm_start.artifact` saves, loads and rebuilds the artifact.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._types import Task
from .._version import __version__
from ..learners import LEARNERS
from ..search_space import LEARNER_PARAM
from .encoding import ConfigEncoder

logger = logging.getLogger(__name__)

__all__ = ["ARTIFACT_VERSION", "Proposal", "ProposalModel", "TaskModel", "STRATEGIES"]

# Bumped whenever the artifact's layout or meaning changes; older artifacts are rebuilt.
ARTIFACT_VERSION = 2
STRATEGIES = ("full", "knn", "surrogate", "portfolio")

# Under a time budget, the warm start's proposals should take about WARM_SHARE of it
# together: a candidate predicted to take more than its fair share (WARM_SHARE * budget /
# k) loses COST_WEIGHT of predicted rank per doubling beyond it.
WARM_SHARE = 0.5
COST_WEIGHT = 0.1


@dataclass
class Proposal:
    """One proposed configuration, where it came from and what the surrogate expects.

    Attributes
    ----------
    config : dict
        The flat configuration.
    origin : str
        Where it came from (``"same-dataset"``, ``"neighbour"``, ``"surrogate"``,
        ``"portfolio"`` ...).
    predicted : float
        The surrogate's predicted score (NaN where none).
    seconds : float
        The cost model's predicted fit time of one cross-validation (NaN where none).
    """

    config: dict[str, Any]
    origin: str  # "same-dataset:<dataset>", "portfolio", "knn:<dataset>" or "surrogate"
    predicted: float = float("nan")
    seconds: float = float("nan")  # predicted cross-validation fit time, when asked for

    @property
    def source(self) -> str:
        return self.origin.split(":", 1)[0]


@dataclass
class TaskModel:
    """The proposal model of one task."""

    task: Task
    learners: list[str]
    feature_names: list[str]
    median: np.ndarray
    scale: np.ndarray
    datasets: list[dict[str, Any]]  # fingerprint, dataset, family, best (configs)
    meta: np.ndarray  # scaled meta-features, one row per dataset
    portfolio: list[dict[str, Any]]
    surrogate: Any = None  # lightgbm.Booster
    n_training_rows: int = 0
    cost: Any = None  # lightgbm.Booster: log seconds per training row

    @property
    def encoder(self) -> ConfigEncoder:
        return ConfigEncoder(self.learners, self.task)

    def scale_meta(self, meta_features: dict[str, float]) -> np.ndarray:
        raw = np.array([float(meta_features.get(n, np.nan)) for n in self.feature_names])
        return np.nan_to_num((raw - self.median) / self.scale)

    def nearest(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Indices and distances of the ``k`` datasets closest to a scaled query."""
        if not len(self.datasets):
            return []
        distance = np.sqrt(((self.meta - query) ** 2).sum(axis=1))
        order = np.argsort(distance, kind="stable")[:k]
        return [(int(i), float(distance[i])) for i in order]

    def predict(self, query: np.ndarray, configs: Sequence[dict[str, Any]]) -> np.ndarray:
        """The surrogate's predicted rank (percentile, 1 best) of each configuration on the
        queried dataset; 0.5 (no opinion) for families the knowledge base holds no trials
        of."""
        out = np.full(len(configs), 0.5)
        known = [i for i, c in enumerate(configs) if c.get(LEARNER_PARAM) in self.learners]
        if self.surrogate is None or not known:
            return out
        out[known] = np.asarray(self.surrogate.predict(self._rows(query, configs, known)),
                                dtype=float)
        return out

    def predict_seconds(self, query: np.ndarray, configs: Sequence[dict[str, Any]],
                        n_rows: float, cv_folds: int, n_features: float = np.nan
                        ) -> np.ndarray:
        """The predicted time (seconds, all folds together) of each configuration when
        cross-validated with ``cv_folds`` folds on ``n_rows`` rows of the queried dataset:
        the cost model's fit time, plus the prediction time of a family whose predictions
        dominate (:attr:`LearnerSpec.predict_seconds`, with ``n_features`` columns; k-NN);
        NaN where there is no cost model, the family is unknown or ``n_rows`` is not a
        number."""
        out = np.full(len(configs), np.nan)
        known = [i for i, c in enumerate(configs) if c.get(LEARNER_PARAM) in self.learners]
        if self.cost is None or not known or not np.isfinite(n_rows):
            return out
        per_row = np.exp(self.cost.predict(self._rows(query, configs, known)))
        rows, folds = max(float(n_rows), 1.0), max(cv_folds, 2)
        out[known] = per_row * (folds - 1) * rows
        width = float(n_features) if np.isfinite(n_features) else 1.0
        for i in known:
            spec = LEARNERS.get(configs[i][LEARNER_PARAM])
            predicting = spec.predict_seconds if spec is not None else None
            if predicting is not None:
                out[i] += folds * predicting(rows * (folds - 1) / folds, rows / folds, width)
        return out

    def _rows(self, query: np.ndarray, configs: Sequence[dict[str, Any]],
              known: list[int]) -> np.ndarray:
        enc = self.encoder.encode([configs[i] for i in known])
        return np.hstack([np.repeat(query[None, :], len(known), axis=0), enc])


@dataclass
class ProposalModel:
    """Warm-start proposals for new datasets; see the module docstring.

    Attributes
    ----------
    tasks : dict of str to TaskModel
        The per-task models (meta-feature scaling, neighbours, surrogate, cost model,
        portfolio).
    knowledge_digest : str
        Digest of the knowledge base it was built from (a stale artifact is rebuilt).
    knowledge_urls : list of str
        That knowledge base's storages (passwords removed).
    built_at : str
        When it was built (ISO 8601).
    version : int
        Artifact format version.
    package_version : str
        automl-meta's version that built it.

    Examples
    --------
    >>> model = ProposalModel.empty()
    >>> model.suggest({"n_rows": 100.0}, "classification", k=2, learners=["linear"])
    []
    """

    tasks: dict[str, TaskModel] = field(default_factory=dict)
    knowledge_digest: str = ""
    knowledge_urls: list[str] = field(default_factory=list)
    built_at: str = ""
    version: int = ARTIFACT_VERSION
    package_version: str = __version__

    @classmethod
    def empty(cls) -> ProposalModel:
        return cls()

    def with_history(self, kb: Any, fingerprint: str | None = None, n_best: int = 3
                     ) -> ProposalModel:
        """This model, with the datasets of ``kb`` (say, your own past fits) added to its
        nearest-neighbour table: their meta-features scaled as the model's own, and each
        one's best configuration. The dataset ``fingerprint``, the one about to be
        searched, gets the best of each of its ``n_best`` best learner families, even if
        the model holds it already, so that :meth:`suggest` leads with what your own
        searches found on it. Every fit is then a lesson for the next, at the cost of one
        query per past study, not of a rebuild: the portfolio and the surrogate stay as
        built (``automl-meta warm-start build --knowledge ...`` retrains them on several
        knowledge bases). Other datasets the model already holds, and tasks it has no
        model of, are skipped. Returns ``self`` when nothing is added.
        """
        frame = kb.datasets()
        known = {d["fingerprint"] for tm in self.tasks.values() for d in tm.datasets}
        known.discard(fingerprint)
        frame = frame[frame["task"].isin(list(self.tasks)) & ~frame.index.isin(known)]
        if frame.empty:
            return self
        best = kb.best_configs(1, fingerprints=[fp for fp in frame.index if fp != fingerprint])
        if fingerprint in frame.index:
            best.update(kb.best_configs(n_best, fingerprints=[fingerprint],
                                        one_per_learner=True))
        tasks = dict(self.tasks)
        added = 0
        for task, tm in self.tasks.items():
            enc = tm.encoder
            extra, meta = [], []
            for fp, row in frame[frame["task"] == task].iterrows():
                configs = [c for c in best.get(str(fp), []) if enc.supports(c)]
                if configs:
                    extra.append({"fingerprint": str(fp), "dataset": str(row["dataset"]),
                                  "family": str(row["family"]), "best": configs})
                    meta.append(tm.scale_meta(row.to_dict()))
            if extra:
                tasks[task] = replace(tm, datasets=tm.datasets + extra,
                                      meta=np.vstack([tm.meta, *meta]))
                added += len(extra)
        if not added:
            return self
        logger.info("Warm start: %d past dataset(s) of %s join the nearest neighbours.",
                    added, ", ".join(kb.urls))
        digest = hashlib.sha256(f"{self.knowledge_digest}+{kb.digest()}".encode())
        return replace(self, tasks=tasks, knowledge_digest=digest.hexdigest()[:16],
                       knowledge_urls=self.knowledge_urls + list(kb.urls))

    @property
    def n_datasets(self) -> int:
        return sum(len(t.datasets) for t in self.tasks.values())

    def suggest(self, meta_features: dict[str, float], task: Task, k: int = 10,
                learners: Sequence[str] | None = None, strategy: str = "full",
                n_neighbours: int = 10, n_random: int = 256, seed: int = 0,
                fingerprint: str | None = None, time_budget: float | None = None,
                cv_folds: int = 5, query: np.ndarray | None = None,
                neighbours: list[tuple[int, float]] | None = None) -> list[Proposal]:
        """Up to ``k`` configurations to try first on a dataset with ``meta_features``.

        ``strategy`` is ``"full"`` (surrogate ranking over the portfolio, the nearest
        datasets' bests and random samples, spread across learner families), or one
        ingredient alone for comparison: ``"knn"`` (the nearest datasets' best
        configurations), ``"surrogate"`` (the surrogate's top ``k``) or ``"portfolio"``
        (the greedy zero-shot portfolio). If the model holds the very dataset (the same
        ``fingerprint``: a dataset fitted before, or shipped in the knowledge base), its
        best configurations come first, with origin ``same-dataset:<name>``.

        With a ``time_budget`` (seconds; the search's, cross-validating with ``cv_folds``
        folds), the ranking of ``"full"`` and ``"surrogate"`` is cost-aware: a candidate
        whose predicted fit time (:meth:`TaskModel.predict_seconds`, at the dataset's
        ``n_rows`` meta-feature) is above its fair share, ``WARM_SHARE * time_budget /
        k``, loses ``COST_WEIGHT`` of predicted rank per doubling beyond it, so that a
        short budget starts with cheap near-best configurations rather than a few costly
        ones. Every proposal's ``seconds`` holds its predicted fit time (NaN without a
        cost model).

        ``query`` (``meta_features`` scaled by the task's model) and ``neighbours`` (its
        :meth:`TaskModel.nearest`, at least ``n_neighbours`` of them) are used as given
        where the caller has them already (:func:`~.start.warm_start_for`).
        """
        if strategy not in STRATEGIES:
            raise ValueError(f"Unknown warm-start strategy {strategy!r}; use one of "
                             f"{', '.join(STRATEGIES)}.")
        model = self.tasks.get(task)
        if model is None or k <= 0:
            return []
        allowed = list(learners) if learners is not None else model.learners
        enc = ConfigEncoder([lr for lr in model.learners if lr in allowed], task)
        if query is None:
            query = model.scale_meta(meta_features)
        neighbours = model.nearest(query, n_neighbours) if neighbours is None \
            else neighbours[:n_neighbours]

        candidates: dict[str, Proposal] = {}

        def add(config: dict[str, Any], origin: str) -> None:
            if enc.supports(config):
                candidates.setdefault(_key(config),
                                      Proposal(dict(config), origin))

        if strategy in ("full", "portfolio", "surrogate"):
            for config in model.portfolio:
                add(config, "portfolio")
        if strategy in ("full", "knn", "surrogate"):
            for rank in range(3):  # each neighbour's best, then second best, ...
                for i, _ in neighbours:
                    best = model.datasets[i]["best"]
                    if rank < len(best):
                        add(best[rank], f"knn:{model.datasets[i]['dataset']}")
        if strategy in ("full", "surrogate") and n_random:
            rng = np.random.default_rng(seed)
            for config in enc.random_configs(n_random, rng):
                add(config, "surrogate")
        pool = list(candidates.values())
        if not pool:
            return []
        n_rows = float(meta_features.get("n_rows", np.nan))
        n_features = float(meta_features.get("n_features", np.nan))

        def annotate(proposals: list[Proposal]) -> tuple[np.ndarray, np.ndarray]:
            configs = [p.config for p in proposals]
            predicted = model.predict(query, configs)
            seconds = model.predict_seconds(query, configs, n_rows, cv_folds, n_features)
            for p, score, t in zip(proposals, predicted, seconds, strict=True):
                p.predicted, p.seconds = round(float(score), 4), round(float(t), 4)
            return predicted, seconds

        predicted, seconds = annotate(pool)
        utility = predicted - cost_penalty(seconds, time_budget, k)
        if strategy in ("knn", "portfolio"):
            chosen = pool[:k]  # in insertion order: nearest first / greedy order
        else:
            order = sorted(range(len(pool)), key=lambda i: -utility[i])
            chosen = ([pool[i] for i in order[:k]] if strategy == "surrogate"
                      else _diverse(pool, order, k, enc.encode([p.config for p in pool]),
                                    predicted, seconds))
        first = _same_dataset(model, fingerprint, enc) if fingerprint else []
        if first:
            annotate(first)
            keys = {_key(p.config) for p in first}
            chosen = first + [p for p in chosen
                              if _key(p.config) not in keys]
        return chosen[:k]


SAME_DATASET_LEADS = 3


def cost_penalty(seconds: np.ndarray, time_budget: float | None, k: int) -> np.ndarray:
    """What each candidate's predicted fit time costs it in predicted rank under
    ``time_budget`` when ``k`` proposals share ``WARM_SHARE`` of it: ``COST_WEIGHT`` per
    doubling beyond the fair share, nothing within it (or without a budget or a
    prediction).

    >>> cost_penalty(np.array([0.1, 1.0, 4.0, np.nan]), 20.0, 10).round(3).tolist()
    [0.0, 0.0, 0.2, 0.0]
    """
    if time_budget is None:
        return np.zeros(len(seconds))
    return COST_WEIGHT * np.log2(times_over_share(seconds, WARM_SHARE * time_budget
                                                  / max(k, 1)))


def times_over_share(seconds: np.ndarray, share: float) -> np.ndarray:
    """How many times each predicted fit time is over ``share`` seconds; 1 within it,
    without a prediction (NaN), or when there is no time to share.

    >>> times_over_share(np.array([0.5, 4.0, np.nan]), 2.0).tolist()
    [1.0, 2.0, 1.0]
    """
    seconds = np.nan_to_num(np.asarray(seconds, dtype=float), nan=0.0)
    if not np.isfinite(share) or share <= 0:
        return np.ones(len(seconds))
    return np.maximum(seconds / share, 1.0)


def _key(config: dict[str, Any]) -> str:
    """One configuration's identity, for removing duplicates among proposals."""
    return json.dumps(config, sort_keys=True)


def _same_dataset(model: TaskModel, fingerprint: str, enc: ConfigEncoder) -> list[Proposal]:
    """Up to :data:`SAME_DATASET_LEADS` best configurations the model holds for the
    dataset ``fingerprint`` itself, the latest added first (your own past fits, from
    :meth:`ProposalModel.with_history`, before the knowledge base's)."""
    out: dict[str, Proposal] = {}
    for d in reversed(model.datasets):
        if d["fingerprint"] == fingerprint:
            for config in d["best"]:
                if enc.supports(config):
                    out.setdefault(_key(config),
                                   Proposal(dict(config), f"same-dataset:{d['dataset']}"))
    return list(out.values())[:SAME_DATASET_LEADS]


# Two proposals of one family are near-duplicates, and the later is not proposed, when
# they are closer than NEAR_DUPLICATE in every hyperparameter (on the unit scale the
# encoder maps each distribution to), or when the knowledge base cannot tell them apart:
# predicted ranks within SAME_PREDICTION and predicted times within SAME_SECONDS (two
# linear models at C = 994 and 937 scored 0.856617 and 0.856618 on 100,000 rows; the
# surrogate had given both 0.698).
NEAR_DUPLICATE = 0.05
SAME_PREDICTION = 1e-3
SAME_SECONDS = 0.05


def _diverse(pool: list[Proposal], order: list[int], k: int, encoded: np.ndarray,
             predicted: np.ndarray, seconds: np.ndarray) -> list[Proposal]:
    """The best-predicted candidates, at most ``max(1, k // 4)`` per learner family while
    other families have candidates left (then the rest by prediction), never one that is a
    near-duplicate of a candidate already chosen (``encoded``: the pool's encodings;
    ``predicted``, ``seconds``: its predicted ranks and times)."""
    cap = max(1, k // 4)
    chosen: list[int] = []
    per_family: dict[str, int] = {}

    def alike(i: int, j: int) -> bool:
        if pool[i].config[LEARNER_PARAM] != pool[j].config[LEARNER_PARAM]:
            return False
        if _near_duplicate(encoded[i], encoded[j]):
            return True
        same_time = (np.isfinite(seconds[i]) and np.isfinite(seconds[j]) and abs(
            seconds[i] - seconds[j]) <= SAME_SECONDS * max(seconds[i], seconds[j]))
        return bool(same_time and abs(predicted[i] - predicted[j]) < SAME_PREDICTION)

    def fresh(i: int) -> bool:
        return not any(alike(i, j) for j in chosen)

    for i in order:
        family = str(pool[i].config[LEARNER_PARAM])
        if per_family.get(family, 0) < cap and fresh(i):
            chosen.append(i)
            per_family[family] = per_family.get(family, 0) + 1
        if len(chosen) == k:
            break
    for i in order:
        if len(chosen) == k:
            break
        if i not in chosen and fresh(i):
            chosen.append(i)
    return [pool[i] for i in chosen]


def _near_duplicate(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two encoded configurations are of one family and within
    :data:`NEAR_DUPLICATE` of each other in every hyperparameter.

    >>> enc = ConfigEncoder(["linear", "knn"], "classification")
    >>> a, b, c, d = enc.encode([{"learner": "linear", "linear.C": 994.0},
    ...                          {"learner": "linear", "linear.C": 937.0},
    ...                          {"learner": "linear", "linear.C": 1.0},
    ...                          {"learner": "knn"}])
    >>> _near_duplicate(a, b), _near_duplicate(a, c), _near_duplicate(a, d)
    (True, False, False)
    """
    missing = np.isnan(a)
    if not np.array_equal(missing, np.isnan(b)):
        return False  # other families (or other parameters present)
    return bool(np.all(np.abs(a[~missing] - b[~missing]) < NEAR_DUPLICATE))
