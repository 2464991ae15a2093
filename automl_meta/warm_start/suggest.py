"""Run-time side of the warm start: find the proposal model, and propose configurations
for a dataset without fitting anything (:func:`suggest_configs`)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._types import Task
from ..attributes import (
    DEFAULT,
    ORIGIN,
    PREDICTED_SCORE,
    PREDICTED_SECONDS,
    WARM_START_SOURCE,
    warm_start_origin,
)
from ..data import infer_task, load_dataset, prepare_dataset
from ..data.validation import check_target
from ..exceptions import StorageError
from ..knowledge import KnowledgeBase
from ..knowledge.neighbours import nearest_datasets
from ..knowledge.storage import default_storage_url, shipped_knowledge_url
from ..learners import TORCH_IMPORT_SECONDS, available_learners, uses_torch
from ..meta_features import extract_prepared
from ..search_space import default_configs, learner_params
from .artifact import artifact_path, load_or_build
from .model import WARM_SHARE, Proposal, ProposalModel, TaskModel

logger = logging.getLogger(__name__)

__all__ = ["ALWAYS_TRIED", "DEFAULT_FIRST_WAVE", "FIRST_WAVES", "WARM_START_TRIALS",
           "first_trials", "fit_proposal_model",
           "follow_up_defaults", "nearest_past_datasets", "proposal_model_for",
           "suggest_configs", "surrogate_functions", "warm_start_description",
           "with_own_history"]

# How many proposals a fresh search starts with.
WARM_START_TRIALS = 10
# Families whose default configuration follows the proposals when none of theirs is among
# them: the meta-learned learners, made for small data and cheap at any size (a fixed
# number of steps), so every search tries them once.
ALWAYS_TRIED: tuple[str, ...] = ("mlp_meta", "protonet")


def follow_up_defaults(proposed: list[dict[str, Any]], learners: list[str], known: list[str],
                       task: str) -> list[dict[str, Any]]:
    """The default configurations that follow the warm start's ``proposed`` ones: of the
    ``learners`` the knowledge base holds no trials of (not in ``known``), and of the
    :data:`ALWAYS_TRIED` ones not proposed.

    >>> known = ["linear", "mlp_meta", "protonet"]
    >>> [c["learner"] for c in follow_up_defaults(
    ...     [{"learner": "linear"}, {"learner": "protonet"}],
    ...     ["linear", "knn", "mlp_meta", "protonet"], known, "classification")]
    ['knn', 'mlp_meta']
    """
    tried = {c["learner"] for c in proposed}
    wanted = [lr for lr in learners
              if lr not in known or (lr in ALWAYS_TRIED and lr not in tried)]
    return default_configs(wanted, task)  # type: ignore[arg-type]


# The first-wave recipes a fit can start from (``warm_start=<name>``; True means
# DEFAULT_FIRST_WAVE): the model's proposals; the greedy zero-shot portfolio; each
# family's defaults (the knowledge then only guides the sampler); each family's defaults
# in the order of the surrogate's predicted rank for the dataset; or proposals and
# defaults interleaved, one family at a time.
FIRST_WAVES: tuple[str, ...] = ("proposals", "portfolio", "defaults", "ranked", "mixed")
DEFAULT_FIRST_WAVE = "proposals"
# Without a time budget, the first wave is cost-aware against the cold start's: the fair
# share of one proposal is COLD_TIME_FACTOR x the mean predicted time of the family
# defaults it stands in for, and a proposal predicted over MAX_TIMES_SHARE x that share
# is left out of the first wave.
COLD_TIME_FACTOR = 1.5
MAX_TIMES_SHARE = 4.0
# With ``n_trials`` and no time budget, the first ``n_trials`` trials together are
# predicted to take at most COLD_TIME_FACTOR x what the cold start's first ``n_trials``
# family defaults are predicted to take. A torch family's first trial in a fit also pays
# for importing torch in the trial worker: TORCH_IMPORT_SECONDS (learners/spec.py).
# ... and no one of them takes more than SLOT_SHARE x its fair share of what is left.
SLOT_SHARE = 2.0


def _implicit_budget(model: ProposalModel, meta_features: dict[str, float], task: Task,
                     learners: list[str], cv_folds: int, k: int,
                     query: np.ndarray | None = None) -> float | None:
    """The time budget whose fair share per proposal is ``COLD_TIME_FACTOR`` x the mean
    predicted fit time of the first ``k`` family defaults (None without a cost model)."""
    task_model = model.tasks.get(task)
    defaults = default_configs(learners, task)[:k]  # type: ignore[arg-type]
    if task_model is None or not defaults:
        return None
    seconds = _seconds_of(task_model, meta_features, query, cv_folds)(defaults)
    if not np.isfinite(seconds).any():
        return None
    share = COLD_TIME_FACTOR * float(np.nanmean(seconds))
    return share * k / WARM_SHARE


def _is_torch(config: dict[str, Any]) -> bool:
    """Whether a configuration's family runs on torch."""
    return uses_torch(str(config.get("learner")))


def _within_cold_time(proposed: list[tuple[dict[str, Any], dict[str, Any]]],
                      defaults: list[dict[str, Any]], n_trials: int,
                      seconds_of: Callable[[list[dict[str, Any]]], np.ndarray]
                      ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The first wave reordered so that its first ``n_trials`` trials are predicted to
    take at most :data:`COLD_TIME_FACTOR` x the first ``n_trials`` ``defaults`` (the cold
    start's; ``seconds_of`` predicts, the torch import included once).

    Each slot takes the first proposal, in order, that fits what is left of that
    allowance and at most :data:`SLOT_SHARE` x its fair share of it; a slot none fits
    takes the cold start's next default that fits (so a wave whose proposals are all too
    costly is the cold start's), else the cheapest remaining proposal. What was passed
    over follows, in order. A ``same-dataset`` proposal always leads. Without finite
    predictions, nothing changes.
    """
    n = min(n_trials, len(proposed))
    cold = seconds_of(defaults[:n])
    if n <= 0 or not np.isfinite(cold).all():
        return proposed
    allowance = COLD_TIME_FACTOR * float(cold.sum() + TORCH_IMPORT_SECONDS * any(
        _is_torch(c) for c in defaults[:n]))
    configs = [c for c, _ in proposed]
    own = np.nan_to_num(seconds_of(configs), nan=np.inf)
    torch_used = False
    first: list[tuple[dict[str, Any], dict[str, Any]]] = []
    rest = list(range(len(proposed)))
    spare = [c for c in defaults if c not in configs]
    spent = 0.0

    def cost(config: dict[str, Any], seconds: float) -> float:
        return seconds + (TORCH_IMPORT_SECONDS if _is_torch(config) and not torch_used
                          else 0.0)

    spare_seconds = np.nan_to_num(seconds_of(spare), nan=np.inf) if spare else np.zeros(0)
    while len(first) < n and (rest or spare):
        left = min(allowance - spent, SLOT_SHARE * (allowance - spent) / (n - len(first)))
        pick = next((i for i in rest if proposed[i][1].get(ORIGIN) ==
                     warm_start_origin("same-dataset")
                     or cost(proposed[i][0], own[i]) <= left), None)
        if pick is not None:
            item, seconds = proposed[pick], cost(proposed[pick][0], own[pick])
            rest.remove(pick)
        else:
            fits = [j for j in range(len(spare))
                    if cost(spare[j], spare_seconds[j]) <= left]
            if fits:
                j = fits[0]
                item = (spare[j], {ORIGIN: DEFAULT})
                seconds = cost(spare[j], spare_seconds[j])
                spare.pop(j)
                spare_seconds = np.delete(spare_seconds, j)
            elif rest:
                pick = min(rest, key=lambda i: cost(proposed[i][0], own[i]))
                item, seconds = proposed[pick], cost(proposed[pick][0], own[pick])
                rest.remove(pick)
            else:
                break
        first.append(item)
        spent += seconds
        torch_used = torch_used or _is_torch(item[0])
    return first + [proposed[i] for i in rest]


def _interleave(proposed: list[tuple[dict[str, Any], dict[str, Any]]],
                defaults: list[dict[str, Any]]
                ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Proposals and defaults taken in turn, each family once, until both run out of
    new families; then the remaining proposals."""
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    seen: set[str] = set()
    queues = [list(proposed), [(c, {ORIGIN: DEFAULT}) for c in defaults]]
    turn = 0
    while any(queues):
        queue = queues[turn % 2]
        while queue:
            config, attrs = queue.pop(0)
            if config["learner"] not in seen:
                seen.add(config["learner"])
                out.append((config, attrs))
                break
        turn += 1
        if all(all(c["learner"] in seen for c, _ in q) for q in queues):
            break
    taken = {id(c) for c, _ in out}
    return out + [(c, a) for c, a in proposed if id(c) not in taken]


def first_trials(model: ProposalModel | None, meta_features: dict[str, float], task: Task,
                 learners: list[str], *, seed: int = 0, fingerprint: str | None = None,
                 time_budget: float | None = None, cv_folds: int = 5,
                 recipe: str = DEFAULT_FIRST_WAVE, query: np.ndarray | None = None,
                 neighbours: list[tuple[int, float]] | None = None,
                 n_trials: int | None = None
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What a fresh search runs first, with each trial's user attributes.

    With a model, the first wave follows ``recipe`` (:data:`FIRST_WAVES`): the model's
    :data:`WARM_START_TRIALS` proposals (``origin = "warm-start:<source>"``, where they
    came from, the predicted score and fit time), the greedy portfolio's, the family
    defaults, the family defaults in the surrogate's predicted order, or proposals and
    defaults interleaved; then :func:`follow_up_defaults`.
    A dataset the model holds (same ``fingerprint``) leads with its own best configurations
    in every recipe but ``"defaults"`` and ``"ranked"``. Without a ``time_budget`` the
    proposals are cost-aware against the cold start's defaults (:data:`COLD_TIME_FACTOR`,
    :data:`MAX_TIMES_SHARE`), and with ``n_trials`` too, the first ``n_trials`` of them
    together (:func:`_within_cold_time`). With no model, or no proposal, each family's
    default configuration (``origin = "default"``). ``query`` and ``neighbours`` are the
    scaled meta-features and their nearest past datasets where the caller has them
    (:meth:`ProposalModel.suggest`).
    """
    if recipe not in FIRST_WAVES:
        raise ValueError(f"Unknown first-wave recipe {recipe!r}; use one of "
                         f"{', '.join(FIRST_WAVES)}.")
    task_model = model.tasks.get(task) if model is not None else None
    defaults = default_configs(learners, task)
    if model is None or task_model is None or recipe == "defaults":
        return defaults, [{ORIGIN: DEFAULT} for _ in defaults]
    if recipe == "ranked":
        return _ranked_defaults(task_model, meta_features, defaults, query=query,
                                n_trials=None if time_budget is not None else n_trials,
                                cv_folds=cv_folds)
    budget, implicit = time_budget, False
    if budget is None:
        budget = _implicit_budget(model, meta_features, task, learners, cv_folds,
                                  WARM_START_TRIALS, query)
        implicit = budget is not None
    proposals = model.suggest(meta_features, task, k=WARM_START_TRIALS, learners=learners,
                              strategy="portfolio" if recipe == "portfolio" else "full",
                              seed=seed, fingerprint=fingerprint, time_budget=budget,
                              cv_folds=cv_folds, query=query, neighbours=neighbours)
    if implicit:
        limit = MAX_TIMES_SHARE * WARM_SHARE * budget / WARM_START_TRIALS  # type: ignore
        proposals = [p for p in proposals if not p.seconds > limit
                     or p.source == "same-dataset"]
    proposed = []
    for p in proposals:
        attr: dict[str, Any] = {ORIGIN: warm_start_origin(p.source),
                                WARM_START_SOURCE: p.origin, PREDICTED_SCORE: p.predicted}
        if np.isfinite(p.seconds):
            attr[PREDICTED_SECONDS] = p.seconds
        proposed.append((p.config, attr))
    if not proposed:
        return defaults, [{ORIGIN: DEFAULT} for _ in defaults]
    if recipe == "mixed":
        leads = [x for x in proposed if x[1][ORIGIN] == warm_start_origin("same-dataset")]
        rest = [x for x in proposed if x[1][ORIGIN] != warm_start_origin("same-dataset")]
        proposed = leads + _interleave(rest, defaults)
    if implicit and n_trials is not None:
        proposed = _within_cold_time(proposed, defaults, n_trials, _seconds_of(
            task_model, meta_features, query, cv_folds))
    configs = [c for c, _ in proposed]
    attrs = [a for _, a in proposed]
    # Families the warm start cannot propose (none of their trials in the knowledge base)
    # or did not, of those every search tries: their defaults follow.
    tried = {c["learner"] for c, a in proposed if a[ORIGIN] == DEFAULT}
    extra = [c for c in follow_up_defaults(configs, learners, task_model.learners, task)
             if c["learner"] not in tried]
    return configs + extra, attrs + [{ORIGIN: DEFAULT} for _ in extra]


def _ranked_defaults(task_model: Any, meta_features: dict[str, float],
                     defaults: list[dict[str, Any]], *, query: np.ndarray | None,
                     n_trials: int | None, cv_folds: int
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``"ranked"`` first wave: every family's default configuration, best predicted
    rank first (ties in the cold start's order), each with its predicted rank; with
    ``n_trials``, held to the cold start's time like the proposals
    (:func:`_within_cold_time`)."""
    if query is None:
        query = task_model.scale_meta(meta_features)
    predicted = task_model.predict(query, defaults)
    order = sorted(range(len(defaults)), key=lambda i: -predicted[i])
    ranked = [(defaults[i], {ORIGIN: DEFAULT, PREDICTED_SCORE: round(float(predicted[i]), 4)})
              for i in order]
    if n_trials is not None:
        ranked = _within_cold_time(ranked, defaults, n_trials, _seconds_of(
            task_model, meta_features, query, cv_folds))
    return [c for c, _ in ranked], [a for _, a in ranked]


def _seconds_of(task_model: Any, meta_features: dict[str, float], query: np.ndarray | None,
                cv_folds: int) -> Callable[[list[dict[str, Any]]], np.ndarray]:
    """The task model's predicted fit times of configurations on this dataset."""
    scaled = query if query is not None else task_model.scale_meta(meta_features)

    def seconds_of(configs: list[dict[str, Any]]) -> np.ndarray:
        return task_model.predict_seconds(scaled, configs,
                                          float(meta_features.get("n_rows", np.nan)),
                                          cv_folds,
                                          float(meta_features.get("n_features", np.nan)))
    return seconds_of


def proposal_model_for(knowledge: Any = None) -> ProposalModel:
    """The proposal model of ``knowledge``.

    ``knowledge`` is a :class:`ProposalModel` (returned as is), a
    :class:`~automl_meta.knowledge.KnowledgeBase`, or storage URL(s); ``None`` means the
    shipped knowledge base. A single SQLite knowledge base keeps its artifact beside it
    (``warm_start.json.gz``), rebuilt when the knowledge base has grown; other knowledge
    bases are built in memory (a few seconds). A missing shipped knowledge base gives a
    warning and an empty model (a cold start).
    """
    if isinstance(knowledge, ProposalModel):
        return knowledge
    if knowledge is None:
        url = shipped_knowledge_url()
        if not _sqlite_exists(url):
            warnings.warn(f"No shipped knowledge base at {url}; the search starts cold. "
                          "Pass knowledge=<storage URL> or set $AUTOML_META_KNOWLEDGE.",
                          UserWarning, stacklevel=3)
            return ProposalModel.empty()
        knowledge = url
    if not isinstance(knowledge, KnowledgeBase):
        urls = knowledge if isinstance(knowledge, (list, tuple)) else [knowledge]
        for url in urls:
            if isinstance(url, str) and not _sqlite_exists(url) and url.startswith("sqlite"):
                raise StorageError(f"Knowledge base {url!r} does not exist.")
        knowledge = KnowledgeBase(knowledge)
    kb = knowledge
    path = None
    if len(kb.urls) == 1 and not kb.excluded and not kb.excluded_families:
        path = artifact_path(kb.urls[0])
    return load_or_build(kb, path)


def with_own_history(model: ProposalModel, storage: Any = None,
                     fingerprint: str | None = None) -> ProposalModel:
    """``model`` with the past fits of the study ``storage`` (default: the default study
    storage) in its nearest-neighbour table (:meth:`ProposalModel.with_history`, which
    reads the best configurations of the dataset ``fingerprint`` in full); as is when
    that storage is a SQLite file that does not exist yet, or holds no past fit."""
    if isinstance(storage, str) or storage is None:
        url = default_storage_url() if storage is None else storage
        if url == "memory" or not _sqlite_exists(url):
            return model
    if not model.tasks:
        return model
    return model.with_history(KnowledgeBase(storage), fingerprint=fingerprint)


def fit_proposal_model(warm_start: Any, knowledge: Any, storage: Any,
                       fingerprint: str) -> ProposalModel:
    """The proposal model a fit warm-starts from: ``warm_start`` itself if it is one (else
    it must be True), else the model of the ``knowledge`` storages; by default the shipped
    knowledge base's, with the past fits in the study ``storage`` added to its nearest
    neighbours (:func:`with_own_history`)."""
    if isinstance(warm_start, ProposalModel):
        return warm_start
    if warm_start is not True and warm_start not in FIRST_WAVES:
        raise TypeError(f"warm_start must be True, False, a first-wave recipe "
                        f"({', '.join(FIRST_WAVES)}) or a ProposalModel, not "
                        f"{warm_start!r}.")
    model = proposal_model_for(knowledge)
    if knowledge is not None:
        return model
    return with_own_history(model, storage, fingerprint)


def surrogate_functions(task_model: TaskModel, meta_features: dict[str, float],
                        cv_folds: int, *, query: np.ndarray | None = None
                        ) -> tuple[Callable, Callable]:
    """The warm start's surrogate for the BO sampler, on this dataset: configurations ->
    predicted scores (the GP's prior mean), and configurations -> predicted seconds of a
    ``cv_folds``-fold trial (its cost model). ``query`` is ``meta_features`` scaled by
    ``task_model``, where the caller has it."""
    if query is None:
        query = task_model.scale_meta(meta_features)
    n_rows = float(meta_features.get("n_rows", np.nan))
    n_features = float(meta_features.get("n_features", np.nan))

    def prior(configs: Sequence[dict[str, Any]]) -> np.ndarray:
        return task_model.predict(query, configs)

    def cost(configs: Sequence[dict[str, Any]]) -> np.ndarray:
        return task_model.predict_seconds(query, configs, n_rows, cv_folds, n_features)

    return prior, cost


def nearest_past_datasets(meta_features: dict[str, float], fingerprint: str, task: Task,
                          task_model: TaskModel | None, knowledge: Any = None, *,
                          query: np.ndarray | None = None,
                          neighbours: list[tuple[int, float]] | None = None
                          ) -> list[dict[str, Any]]:
    """The (up to 5) past datasets closest in meta-feature space: those the warm start
    learned from (``task_model``; ``query`` is ``meta_features`` scaled by it and
    ``neighbours`` its nearest datasets, at least 6, where the caller has them), or, cold,
    those of ``knowledge`` if given; the dataset ``fingerprint`` is left out."""
    if task_model is not None:
        if neighbours is None:
            neighbours = task_model.nearest(task_model.scale_meta(meta_features)
                                            if query is None else query, 6)
        near = neighbours[:6]
        return [{"dataset": task_model.datasets[i]["dataset"],
                 "fingerprint": task_model.datasets[i]["fingerprint"],
                 "family": task_model.datasets[i]["family"], "distance": round(d, 4)}
                for i, d in near if task_model.datasets[i]["fingerprint"] != fingerprint
                ][:5]
    if knowledge is None or isinstance(knowledge, ProposalModel):
        return []
    kb = knowledge if isinstance(knowledge, KnowledgeBase) else KnowledgeBase(knowledge)
    return nearest_datasets(kb.exclude([fingerprint]), meta_features, task, k=5)


def warm_start_description(model: ProposalModel | None, task_model: TaskModel | None
                           ) -> dict[str, Any]:
    """What a study records of its warm start: whether there was one, and of which
    knowledge (digest, build time, datasets, storages)."""
    if model is None or task_model is None:
        return {"enabled": False}
    return {"enabled": True, "knowledge_digest": model.knowledge_digest,
            "built_at": model.built_at, "n_datasets": len(task_model.datasets),
            "knowledge": model.knowledge_urls}


def _sqlite_exists(url: str) -> bool:
    if not url.startswith("sqlite:///"):
        return True
    return Path(url[len("sqlite:///"):].split("?", 1)[0]).exists()


def proposals_frame(proposals: list[Proposal]) -> pd.DataFrame:
    return pd.DataFrame([{"learner": p.config["learner"], "params": learner_params(p.config),
                          "origin": p.origin, "predicted_score": p.predicted,
                          "predicted_seconds": p.seconds, "config": p.config}
                         for p in proposals],
                        columns=["learner", "params", "origin", "predicted_score",
                                 "predicted_seconds", "config"])


def suggest_configs(data: Any, target: Any = None, *, k: int = WARM_START_TRIALS,
                    knowledge: Any = None, task: str = "auto", strategy: str = "full",
                    learners: Any = None, random_state: int = 0,
                    storage: Any = None, time_budget: float | None = None,
                    cv: int = 5) -> pd.DataFrame:
    """Propose ``k`` configurations for a dataset, without fitting anything.

    Parameters
    ----------
    data, target
        As for :func:`automl_meta.fit`: a DataFrame or CSV/Parquet path with the ``target``
        column, or an ``(X, y)`` pair.
    k : int, default 10
        Number of proposals.
    knowledge : optional
        Storage URL(s), a ``KnowledgeBase`` or a ``ProposalModel``; default the shipped
        knowledge base plus the past fits in ``storage``, as :func:`automl_meta.fit` uses.
    storage : str, optional
        The study storage whose past fits join the default knowledge (default: the default
        study storage; ``"memory"``: none).
    strategy : {"full", "knn", "surrogate", "portfolio"}
        See :meth:`ProposalModel.suggest`.
    learners : list of str, optional
        Restrict the proposals to these learner families.
    time_budget : float, optional
        The search's time budget in seconds: the proposals become cost-aware, as in
        :func:`automl_meta.fit` (a configuration predicted to take more than its share of
        the budget ranks lower; see :meth:`ProposalModel.suggest`).
    cv : int, default 5
        Cross-validation folds the search would use (for the predicted fit times).
    task : {"auto", "classification", "regression"}
        As for :func:`automl_meta.fit`.
    random_state : int, default 0
        Seed of the proposals' random parts (the TPE draws among the surrogate's
        candidates).

    Returns
    -------
    DataFrame
        One row per proposal, in the order a search would try them: ``learner``,
        ``params``, ``origin`` (``same-dataset:<name>``, ``portfolio``,
        ``knn:<dataset>`` or ``surrogate``),
        ``predicted_score`` (the surrogate's predicted percentile rank of the configuration
        among a dataset's trials: 1 means the best), ``predicted_seconds`` (the cost
        model's predicted fit time, all ``cv`` folds together) and ``config`` (flat, ready
        for ``study.enqueue_trial``).

    Examples
    --------
    >>> from sklearn.datasets import load_wine
    >>> frame = suggest_configs(load_wine(return_X_y=True), k=3)  # doctest: +SKIP
    >>> list(frame.columns)  # doctest: +SKIP
    ['learner', 'params', 'origin', 'predicted_score', 'predicted_seconds', 'config']
    """
    X, y, _ = load_dataset(data, target)
    y_series, _ = check_target(y)
    dataset = prepare_dataset(X, y, infer_task(y_series, task), cv=cv,
                              random_state=random_state)
    meta = extract_prepared(dataset, random_state=random_state)
    model = fit_proposal_model(True, knowledge, storage, dataset.fingerprint)
    allowed = available_learners(learners, len(dataset.frame), dataset.task)
    return proposals_frame(model.suggest(meta, dataset.task, k=k, learners=allowed,
                                         strategy=strategy, seed=random_state,
                                         fingerprint=dataset.fingerprint,
                                         time_budget=time_budget, cv_folds=cv))
