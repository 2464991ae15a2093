"""The Optuna study a search runs in: open it or continue it, the sampler that carries the
search on, what a fit records of its dataset and search, what an interrupted run left to
do, and its trials as a leaderboard."""

from __future__ import annotations

import time
import uuid
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
import pandas as pd

from .._types import Task
from .._version import __version__
from ..attributes import (
    FAILURE_MESSAGE,
    FAILURE_REASON,
    FIT_TIME,
    LEARNER,
    ORIGIN,
    PREDICTED_SCORE,
    PREDICTED_SECONDS,
    RESUMES,
    SAMPLER,
    STUDY_CV_FOLDS,
    STUDY_DATASET,
    STUDY_ENSEMBLE,
    STUDY_FINGERPRINT,
    STUDY_LEARNERS,
    STUDY_META_FEATURES,
    STUDY_META_INIT,
    STUDY_METRIC,
    STUDY_N_CLASSES,
    STUDY_N_FEATURES,
    STUDY_N_ROWS,
    STUDY_NEAREST_DATASETS,
    STUDY_RANDOM_STATE,
    STUDY_SEARCH_SPACE,
    STUDY_TASK,
    STUDY_UID,
    STUDY_VERSION,
    STUDY_WARM_START,
    WARM_START_SOURCE,
    failure_reason,
)
from ..exceptions import DataError
from ..learners import LEARNERS
from ..learners.torch.location import initialisation_reference
from ..search_space import LEARNER_PARAM, search_space_description
from .bayes import BayesSampler

if TYPE_CHECKING:  # pragma: no cover
    from ..data import PreparedDataset

__all__ = ["SAMPLERS", "best_trial", "choose_sampler", "default_study_name",
           "failure_summary", "interrupted_trials", "leaderboard", "make_sampler",
           "open_study", "search_record"]

# What ``sampler=`` may name
SAMPLERS = ("auto", "tpe", "bo")


# Optuna stores study names in a VARCHAR(512) column.
MAX_STUDY_NAME = 512


def open_study(storage: Any, name: str, direction: str,
               sampler: optuna.samplers.BaseSampler, attrs: dict[str, Any]) -> optuna.Study:
    """Create the study, or continue an existing one of that name if it is compatible."""
    if len(name) > MAX_STUDY_NAME:  # Optuna's column; PostgreSQL refuses longer ones
        raise DataError(f"study_name is {len(name)} characters long; at most "
                        f"{MAX_STUDY_NAME} are stored. Choose a shorter name.")
    # Optuna logs every finished trial at INFO; the progress bar reports them instead.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=storage, study_name=name,
                                direction=direction,  # type: ignore[arg-type]
                                load_if_exists=True, sampler=sampler)
    old = study.user_attrs
    if old.get(STUDY_FINGERPRINT, attrs[STUDY_FINGERPRINT]) != attrs[STUDY_FINGERPRINT]:
        raise DataError(
            f"Study {name!r} holds another dataset ({old.get('dataset')!r}, fingerprint "
            f"{str(old.get('fingerprint'))[:8]}); use another study_name for this data.")
    if study.direction.name.lower() != direction or old.get(STUDY_METRIC, attrs[STUDY_METRIC]) != \
            attrs[STUDY_METRIC]:
        raise DataError(
            f"Study {name!r} optimises {old.get('metric')!r}, not {attrs['metric']!r}; use "
            "another study_name or the same metric.")
    if old.get(STUDY_LEARNERS, attrs[STUDY_LEARNERS]) != attrs[STUDY_LEARNERS]:
        raise DataError(
            f"Study {name!r} searched learners {old.get('learners')}, not "
            f"{attrs['learners']}; a continued study keeps its search space.")
    if STUDY_UID not in old:
        study.set_user_attr(STUDY_UID, uuid.uuid4().hex)
    for key, value in attrs.items():
        if old.get(key) != value:
            study.set_user_attr(key, value)
    return study


def search_record(dataset: PreparedDataset, meta_features: dict[str, float], *,
                  dataset_name: str, metric: str, learners: list[str], random_state: int,
                  nearest: list[dict[str, Any]], warm_start: dict[str, Any]
                  ) -> dict[str, Any]:
    """The study attributes a fit records of its dataset and search: the meta-features,
    name, fingerprint, shape, task and metric, the folds, the learners and their search
    space, the version and seed, the nearest past datasets and the warm start's
    description (and, where a meta-learned learner is searched, its initialisation)."""
    record = {
        STUDY_META_FEATURES: meta_features,
        STUDY_DATASET: dataset_name,
        STUDY_FINGERPRINT: dataset.fingerprint,
        STUDY_TASK: dataset.task,
        STUDY_METRIC: metric,
        STUDY_N_ROWS: int(dataset.frame.shape[0]),
        STUDY_N_FEATURES: int(dataset.frame.shape[1]),
        STUDY_N_CLASSES: int(dataset.n_classes),
        STUDY_CV_FOLDS: len(dataset.folds),
        STUDY_LEARNERS: learners,
        STUDY_SEARCH_SPACE: search_space_description(learners, dataset.task),
        STUDY_VERSION: __version__,
        STUDY_RANDOM_STATE: random_state,
        STUDY_NEAREST_DATASETS: nearest,
        STUDY_WARM_START: warm_start,
    }
    if any(LEARNERS[lr].meta_init for lr in learners):
        record[STUDY_META_INIT] = initialisation_reference()
    return record


def make_sampler(random_state: int) -> optuna.samplers.BaseSampler:
    """The default sampler: seeded multivariate TPE, grouped for the conditional space."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=random_state, multivariate=True, group=True,
                                          constant_liar=True)


def choose_sampler(kind: str, learners: list[str], task: Task, random_state: int, *,
                   warm: bool, prior: Callable | None = None, cost: Callable | None = None,
                   deadline: float | None = None) -> optuna.samplers.BaseSampler:
    """What carries the search on after its first trials. ``"tpe"``: seeded multivariate
    TPE (it sees the warm-start trials as history). ``"bo"``: Bayesian optimisation with a
    BoTorch GP over the whole conditional space, with ``prior`` (the warm start's
    surrogate: configurations -> predicted scores) as its prior mean when given, and under
    a time budget (the monotonic ``deadline``) ``cost``'s predicted fit times (expected
    improvement per second beyond a fair share of the time left). ``"auto"``: BO after a
    warm start (``warm``), TPE for a cold search."""
    if kind not in SAMPLERS:
        raise ValueError(f"sampler must be 'auto', 'tpe' or 'bo', not {kind!r}.")
    if kind == "tpe" or (kind == "auto" and not warm):
        return make_sampler(random_state)
    time_left = None
    if deadline is not None:
        def time_left() -> float:
            return deadline - time.monotonic()

    return BayesSampler(learners, task, prior=prior, seed=random_state, cost=cost,
                        time_left=time_left)


def interrupted_trials(study: optuna.Study) -> tuple[list[dict], list[dict]]:
    """Configurations of trials stopped by Ctrl-C/SIGTERM that no later trial retried, with
    their user attributes, to run again when the study is continued."""
    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs.get(RESUMES) for t in trials}
    configs: list[dict[str, Any]] = []
    attrs: list[dict[str, Any]] = []
    for t in trials:
        # cut off before its parameters were sampled: an enqueued trial still has its own
        params = t.params or t.system_attrs.get("fixed_params")
        if t.state == optuna.trial.TrialState.FAIL and t.number not in retried and \
                t.user_attrs.get(FAILURE_REASON) == "interrupted" and params:
            configs.append(dict(params))
            attrs.append({ORIGIN: t.user_attrs.get(ORIGIN, SAMPLER),
                          RESUMES: t.number, **{k: t.user_attrs[k] for k in (
                              WARM_START_SOURCE, PREDICTED_SCORE, PREDICTED_SECONDS)
                              if k in t.user_attrs}})
    return configs, attrs


def default_study_name(dataset_name: str | None, fingerprint: str) -> str:
    """A new study's name: the dataset's, its fingerprint's start and the time (UTC)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    return f"{dataset_name or 'data'}-{fingerprint[:8]}-{stamp}"


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The study's best trial, or None before any trial completed."""
    try:
        return study.best_trial
    except ValueError:
        return None


def failure_summary(study: optuna.Study) -> str:
    """The error when every trial failed: each learner's failure reasons, counted, with
    the first message of each."""
    causes: dict[str, list[str]] = {}
    for t in study.get_trials(deepcopy=False):
        if t.state == optuna.trial.TrialState.FAIL:
            key = f"{t.user_attrs.get('learner')}: {failure_reason(t)}"
            causes.setdefault(key, []).append(str(t.user_attrs.get(FAILURE_MESSAGE, "")))
    lines = [f"  - {k} ({len(v)} trial(s)): {v[0][:300]}" for k, v in causes.items()]
    return "Every trial failed. Causes:\n" + "\n".join(lines)


def leaderboard(study: optuna.Study) -> pd.DataFrame:
    """The trials of ``study`` as a DataFrame, best first, failed trials last; the
    ``ensemble_weight`` column is each trial's weight in the fit's ensemble (0 if it is
    not a member)."""
    ensemble = (study.user_attrs.get(STUDY_ENSEMBLE) or {}).get("members", [])
    weights = {int(m["trial"]): float(m["weight"]) for m in ensemble}
    rows = []
    for t in study.get_trials(deepcopy=False):
        learner = t.params.get(LEARNER_PARAM, t.user_attrs.get(LEARNER))
        prefix = f"{learner}."
        rows.append({
            "trial": t.number,
            "learner": learner,
            "score": t.value if t.value is not None else np.nan,
            "fit_time": t.user_attrs.get(FIT_TIME, np.nan),
            "state": t.state.name,
            "origin": t.user_attrs.get(ORIGIN),
            "params": {k[len(prefix):]: v for k, v in t.params.items() if k.startswith(prefix)},
            "failure_reason": failure_reason(t),
            "ensemble_weight": weights.get(t.number, 0.0),
        })
    columns = ["trial", "learner", "score", "fit_time", "state", "origin", "params",
               "failure_reason", "ensemble_weight"]
    frame = pd.DataFrame(rows, columns=columns)
    ascending = study.direction == optuna.study.StudyDirection.MINIMIZE
    frame["_ok"] = frame["state"] == "COMPLETE"
    frame = frame.sort_values(["_ok", "score"], ascending=[False, ascending], kind="stable")
    return frame.drop(columns="_ok").reset_index(drop=True)
