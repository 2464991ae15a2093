"""The warm start of one fit, in one value (:class:`WarmStart`): what the search takes
from the knowledge base for a dataset, found once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .model import ProposalModel, TaskModel
from .suggest import (
    DEFAULT_FIRST_WAVE,
    first_trials,
    fit_proposal_model,
    nearest_past_datasets,
    surrogate_functions,
    warm_start_description,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..data import PreparedDataset

# Past datasets found per query: the proposals' neighbours (ProposalModel.suggest's
# n_neighbours); the nearest datasets a study records are the first of them.
NEIGHBOURS = 10

__all__ = ["WarmStart", "warm_start_for"]


@dataclass(frozen=True)
class WarmStart:
    """What a search takes from the warm start for one dataset.

    Attributes
    ----------
    model : ProposalModel or None
        The proposal model (None for a cold start).
    task_model : TaskModel or None
        Its part for the dataset's task (None: the knowledge base knows no such task).
    nearest : list of dict
        The past datasets closest in meta-feature space (``nearest_datasets_``).
    prior : callable or None
        Configurations -> predicted scores (the BO sampler's prior mean).
    cost : callable or None
        Configurations -> predicted seconds of a trial (the BO sampler's cost model).
    recipe : str
        The first-wave recipe (:data:`~.suggest.FIRST_WAVES`).
    query : ndarray or None
        The dataset's meta-features scaled by ``task_model``.
    neighbours : list of (int, float)
        The past datasets nearest to ``query`` (indices into ``task_model.datasets``,
        distances), found once for the nearest datasets and the proposals.
    """

    model: ProposalModel | None
    task_model: TaskModel | None
    nearest: list[dict[str, Any]]
    prior: Callable[..., Any] | None
    cost: Callable[..., Any] | None
    recipe: str
    query: np.ndarray | None = None
    neighbours: list[tuple[int, float]] | None = None

    @property
    def enabled(self) -> bool:
        """Whether there is knowledge to start from (for this task)."""
        return self.task_model is not None

    def description(self) -> dict[str, Any]:
        """What the study records of its warm start (:func:`~.suggest.warm_start_description`)."""
        return warm_start_description(self.model, self.task_model)

    def first_trials(self, dataset: PreparedDataset, meta_features: dict[str, float],
                     learners: list[str], *, seed: int, time_budget: float | None,
                     n_trials: int | None = None
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """A fresh search's first configurations and their user attributes
        (:func:`~.suggest.first_trials`), for ``time_budget`` seconds left or
        ``n_trials`` trials."""
        return first_trials(self.model, meta_features, dataset.task, learners, seed=seed,
                            fingerprint=dataset.fingerprint, time_budget=time_budget,
                            cv_folds=len(dataset.folds), recipe=self.recipe,
                            query=self.query, neighbours=self.neighbours,
                            n_trials=n_trials)


def warm_start_for(dataset: PreparedDataset, meta_features: dict[str, float], *,
                   warm_start: Any, knowledge: Any, storage: Any, enabled: bool = True
                   ) -> WarmStart:
    """The warm start of a fit of ``dataset``: its proposal model
    (:func:`~.suggest.fit_proposal_model` of ``warm_start``, ``knowledge`` and the study
    ``storage``; none when ``warm_start`` is False or not ``enabled``), the nearest past
    datasets and the surrogate's prior and cost functions, with the meta-feature query
    scaled and its nearest past datasets found once.

    Parameters
    ----------
    dataset : PreparedDataset
        The fit's data.
    meta_features : dict of str to float
        Its meta-features.
    warm_start : bool, str or ProposalModel
        As :class:`~automl_meta.AutoMLClassifier` takes it (a str names the first-wave
        recipe).
    knowledge : str, list of str, KnowledgeBase or ProposalModel, optional
        Where the knowledge comes from (default: the shipped knowledge base plus the past
        fits in ``storage``).
    storage : optuna storage or str
        The fit's study storage.
    enabled : bool, default True
        False for a search that needs no warm start (a trivial one: the baseline only).
    """
    model = None if not enabled or warm_start is False else fit_proposal_model(
        warm_start, knowledge, storage, dataset.fingerprint)
    task_model = model.tasks.get(dataset.task) if model is not None else None
    query = None if task_model is None else task_model.scale_meta(meta_features)
    neighbours = None if task_model is None or query is None else task_model.nearest(
        query, NEIGHBOURS)
    nearest = nearest_past_datasets(meta_features, dataset.fingerprint, dataset.task,
                                    task_model, knowledge, query=query,
                                    neighbours=neighbours)
    prior, cost = (None, None) if task_model is None else surrogate_functions(
        task_model, meta_features, len(dataset.folds), query=query)
    return WarmStart(model=model, task_model=task_model, nearest=nearest, prior=prior,
                     cost=cost, recipe=warm_start if isinstance(warm_start, str)
                     else DEFAULT_FIRST_WAVE, query=query, neighbours=neighbours)
