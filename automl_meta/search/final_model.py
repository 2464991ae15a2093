"""The model a fit returns: an ensemble of the study's trials (default), or the best
trial refit on all rows (``ensemble=False``).

The ensemble (:mod:`.ensemble`) is selected from the out-of-fold predictions the search
kept (its own trials') and stored (other workers' trials, in a shared search); its members
predict with the fold models their trial's worker handed back with the trial's outcome
(a worker's best trials), and a member whose fold models are not at hand (scored by
another worker) has its folds refit in this search's worker while the budget allows,
else it is left out and the weights are renormalised. The study records the ensemble
(``ensemble`` user attribute: members, weights, out-of-fold scores).
"""

from __future__ import annotations

import logging
import pickle
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.trial import TrialState
from sklearn.pipeline import Pipeline

from ..attributes import FIT_TIME, SEED, STUDY_ENSEMBLE
from ..data import DataWarning
from ..exceptions import SearchFailedError
from ..metrics import Metric
from ..search_space import LEARNER_PARAM
from .ensemble import (
    EnsembleModel,
    candidate_trials,
    ensemble_score,
    select_ensemble,
)
from .runner import SearchResult, trial_seed
from .study import best_trial, failure_summary

if TYPE_CHECKING:  # pragma: no cover
    from .driver import SearchDriver

logger = logging.getLogger(__name__)

__all__ = ["EnsembleResult", "FinalModel", "build_ensemble", "ensemble_reserve",
           "final_model", "record_ensemble"]


def ensemble_reserve(time_budget: float) -> float:
    """Seconds a search keeps back for building its ensemble: selection over the kept
    out-of-fold predictions and collecting the members' fold models (a refit of a member
    scored by another worker uses whatever else is left).

    >>> ensemble_reserve(15), ensemble_reserve(60)
    (0.7, 2.05)
    """
    return round(min(0.1 * time_budget, 0.25 + 0.03 * time_budget), 4)


def record_ensemble(study: optuna.Study, ensembled: EnsembleResult) -> dict[str, Any]:
    """Record the ensemble in the study (user attribute ``ensemble``); returns it."""
    record = {"members": ensembled.members, "candidates": ensembled.candidates,
              "oof_score": round(ensembled.oof_score, 6),
              "best_single_oof_score": round(ensembled.best_single_oof_score, 6),
              "seconds": round(ensembled.seconds, 3)}
    study.set_user_attr(STUDY_ENSEMBLE, record)
    return record


@dataclass
class EnsembleResult:
    """The ensemble built from a study: its predictor, members and out-of-fold scores."""

    model: EnsembleModel
    members: list[dict[str, Any]]  # trial, learner, weight
    candidates: list[int]  # the trials the selection chose from
    oof_score: float
    best_single_oof_score: float
    seconds: float


def build_ensemble(study: optuna.Study, result: Any, executor: Any, y: np.ndarray,
                   metric: Metric, task: str, n_classes: int, *,
                   sample_weight: np.ndarray | None = None,
                   deadline: float | None = None,
                   shared_oof: dict[int, np.ndarray] | None = None
                   ) -> EnsembleResult | None:
    """Select and assemble the ensemble of ``study``'s completed trials; None when no
    completed trial has out-of-fold predictions at hand.

    ``result`` is the search's :class:`~.runner.SearchResult` (its ``oof`` and
    ``fold_models``), ``executor`` the search's (to refit a member's folds),
    ``shared_oof`` the predictions other workers stored. Members whose fold models must
    be refit are refit only while ``deadline`` (monotonic) allows.
    """
    started = time.monotonic()
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    done = {t.number: t for t in study.get_trials(deepcopy=False,
                                                  states=(TrialState.COMPLETE,))}
    oof = {**(shared_oof or {}), **result.oof}
    pool = [{"number": n, "learner": t.params.get("learner"), "score": float(t.value)}
            for n, t in done.items() if n in oof and t.value is not None]
    if not pool:
        return None
    candidates = candidate_trials(pool, maximize)
    predictions = [oof[c["number"]] for c in candidates]
    weights, score = select_ensemble(predictions, y, metric, n_classes,
                                     sample_weight=sample_weight)
    best_single = ensemble_score(np.asarray(predictions[0], dtype=np.float64), y, metric,
                                 n_classes, sample_weight)
    chosen = [(c, w) for c, w in zip(candidates, weights, strict=True) if w > 0]
    seeds = {c["number"]: int(done[c["number"]].user_attrs[SEED]) for c, _ in chosen}
    members: list[tuple[float, list[Any]]] = []
    described = []
    blend = np.zeros_like(np.asarray(predictions[0], dtype=np.float64))
    for c, w in chosen:
        models = result.fold_models.get(c["number"])
        if isinstance(models, bytes):  # from a worker process
            models = pickle.loads(models)
        if models is None:
            left = None if deadline is None else deadline - time.monotonic()
            needed = float(done[c["number"]].user_attrs.get(FIT_TIME, 0.0))
            if left is not None and needed > left:
                logger.info("Ensemble member %d left out: refitting its folds would take "
                            "about %.1f s, %.1f s are left.", c["number"], needed, left)
                continue
            try:
                models = executor.fold_refit(dict(done[c["number"]].params),
                                             seeds[c["number"]], left)
            except Exception as exc:  # noqa: BLE001 - the ensemble goes on without it
                logger.warning("Ensemble member %d left out: %s", c["number"], exc)
                continue
        members.append((float(w), models))
        blend += float(w) * np.asarray(oof[c["number"]], dtype=np.float64)
        described.append({"trial": c["number"], "learner": c["learner"], "weight": float(w)})
    if not members:
        return None
    total = sum(w for w, _ in members)
    if total < 1.0 - 1e-9:  # members left out: score what is left
        score = ensemble_score(blend / total, y, metric, n_classes, sample_weight)
    members = [(w / total, m) for w, m in members]
    for d in described:
        d["weight"] = round(d["weight"] / total, 4)
    return EnsembleResult(EnsembleModel(members, task, n_classes), described,
                          [c["number"] for c in candidates], float(score), float(best_single),
                          time.monotonic() - started)


@dataclass
class FinalModel:
    """What a search returns: the best configuration, its out-of-fold score, the fitted
    steps (the ensemble, or the best configuration refit) and the ensemble (or None)."""

    config: dict[str, Any]
    score: float
    fitted: Pipeline
    ensembled: EnsembleResult | None


def final_model(driver: SearchDriver, result: SearchResult, metric: Metric, *,
                ensemble: bool, deadline: float | None) -> FinalModel:
    """The model of ``driver``'s search once ``result`` is in: with ``ensemble``, the
    ensemble of its trials (:func:`build_ensemble`), else (or when no trial's
    predictions are at hand) the best trial refit on all rows; a baseline, with a
    warning, when no trial finished in time. Raises
    :class:`~automl_meta.exceptions.SearchFailedError` when every trial failed."""
    study, data = driver.study, driver.data
    best = best_trial(study)
    if best is None:
        if result.failures and not result.out_of_time and not result.interrupted:
            raise SearchFailedError(failure_summary(study))
        warnings.warn("No trial finished within the time budget; returning a baseline "
                      "model. Give a larger time_budget.", DataWarning, stacklevel=3)
        config = {LEARNER_PARAM: "baseline"}
        seed, score = trial_seed(driver.random_state, 0), float("nan")
    else:
        config, seed = dict(best.params), int(best.user_attrs[SEED])
        score = float(best.value)  # type: ignore[arg-type]
    ensembled = None
    if ensemble and config[LEARNER_PARAM] != "baseline":
        ensembled = build_ensemble(study, result, driver.executor, data.y, metric, data.task,
                                   data.n_classes, sample_weight=data.sample_weight,
                                   deadline=deadline, shared_oof=driver.stored_oof(result))
    fitted = Pipeline([("ensemble", ensembled.model)]) if ensembled is not None \
        else driver.refit(config, seed)
    return FinalModel(config, score, fitted, ensembled)
