"""The knowledge base: past experiences read from Optuna study storage.

There is no schema of our own: an *experience* is a study whose user attributes hold the
dataset's ``fingerprint``, ``task``, ``metric`` and ``meta_features``; its trials are the
configurations tried on it. Any number of storages can be read together (your project's,
a colleague's, the shipped corpus); studies of the same dataset (the same fingerprint)
are merged.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.storages import BaseStorage, InMemoryStorage
from optuna.trial import TrialState

from .._optuna import frozen_study_id, has_optuna_tables, trial_counts
from ..attributes import (
    FAILURE_REASON,
    FIT_TIME,
    ORIGIN,
    STUDY_FINGERPRINT,
    STUDY_META_FEATURES,
    STUDY_UID,
    failure_reason,
)
from ..meta_features import feature_names
from .storage import get_storage, storage_url

__all__ = ["KnowledgeBase", "config_key", "is_evidence"]

# Failure reasons that say nothing about a configuration (the search, not the learner,
# stopped it); such trials are left out of the score matrix.
NOT_EVIDENCE = frozenset({"interrupted", "budget"})


def is_evidence(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether a finished trial says something about its configuration: completed, or
    failed for a reason of the learner's own (a failed trial with no recorded reason was
    cut off by a dying process, not by its learner)."""
    if trial.state == TrialState.COMPLETE:
        return True
    reason = trial.user_attrs.get(FAILURE_REASON)
    return trial.state == TrialState.FAIL and reason is not None and reason not in NOT_EVIDENCE


def config_key(params: dict[str, Any]) -> str:
    """A stable identifier of a configuration (its parameters as sorted JSON).

    Parameters
    ----------
    params : dict
        A trial's flat parameters.
    """
    return json.dumps(params, sort_keys=True, default=str)


def _knowledge_source(storage: Any) -> Any:
    """Check a knowledge storage without opening it: a SQLite file must exist, and one
    without Optuna's tables (an empty file, say) is read as an empty knowledge base, with
    a warning, and never written to. Opening is left to the first read (an Optuna
    database storage costs SQLAlchemy's and Alembic's imports, seconds in a fresh process
    on a busy core, which a fit whose warm-start artifact is current never needs)."""
    if isinstance(storage, str) and storage.startswith("sqlite:///"):
        path = Path(storage[len("sqlite:///"):].split("?", 1)[0])
        if not path.is_file():
            return get_storage(storage, create=False)  # raises, naming the file
        if not has_optuna_tables(path):
            warnings.warn(f"The knowledge base {str(path)!r} holds no Optuna studies (an "
                          "empty or foreign SQLite file); it is read as empty and left "
                          "untouched.", UserWarning, stacklevel=4)
            return InMemoryStorage()
    return storage


def _open_read_only(source: Any) -> BaseStorage:
    if isinstance(source, str) and source.startswith("sqlite:///"):
        return get_storage(source, create=False)
    return get_storage(source)


class KnowledgeBase:
    """Read past experiences from one or more study storages.

    Parameters
    ----------
    storages : str, storage object, or a list of them
        Storage URLs (``None`` means the default storage).
    exclude : iterable of str
        Dataset fingerprints to leave out, e.g. the held-out dataset of a
        leave-one-dataset-out evaluation.
    exclude_families : iterable of str
        Dataset families to leave out: leave-one-family-out evaluation holds out a dataset
        with every copy of it.

    Examples
    --------
    >>> kb = KnowledgeBase("memory")
    >>> kb.datasets().empty
    True
    """

    def __init__(self, storages: Any = None, exclude: Iterable[str] = (),
                 exclude_families: Iterable[str] = ()):
        items = storages if isinstance(storages, (list, tuple)) else [storages]
        self._sources = [_knowledge_source(s) for s in items]
        self._opened: list[list[BaseStorage]] = []  # the opened storages, shared by views
        self.urls = [storage_url(s) for s in items]
        self.excluded = frozenset(exclude)
        self.excluded_families = frozenset(exclude_families)
        # (url, study name) -> finished trials; shared by the views made by exclude().
        self._trial_cache: dict[tuple[str, str], list[optuna.trial.FrozenTrial]] = {}
        self._all_cache: list[list[dict[str, Any]]] = []

    @property
    def storages(self) -> list[BaseStorage]:
        """The Optuna storages, opened on first use."""
        if not self._opened:
            self._opened.append([_open_read_only(s) for s in self._sources])
        return self._opened[0]

    # ---------------------------------------------------------------- reading
    def _all_studies(self) -> list[dict[str, Any]]:
        """Every experience study of the storages (before exclusion), read once."""
        if not self._all_cache:
            rows = []
            for storage, url in zip(self.storages, self.urls, strict=True):
                counts = trial_counts(storage)
                for s in storage.get_all_studies():
                    attrs = s.user_attrs
                    if not attrs.get(STUDY_FINGERPRINT) or STUDY_META_FEATURES not in attrs:
                        continue
                    rows.append({"study_name": s.study_name, "study_id": frozen_study_id(s),
                                 "storage": storage, "url": url,
                                 "n_trials": counts.get(frozen_study_id(s), 0),
                                 "direction": s.direction.name.lower(), **attrs})
            self._all_cache.append(rows)
        return self._all_cache[0]

    @cached_property
    def _studies(self) -> list[dict[str, Any]]:
        return [s for s in self._all_studies()
                if s["fingerprint"] not in self.excluded
                and s.get("family", s.get("dataset")) not in self.excluded_families]

    def _trials(self, study: dict[str, Any]) -> list[optuna.trial.FrozenTrial]:
        key = (study["url"], study["study_name"])
        if key not in self._trial_cache:
            self._trial_cache[key] = [
                t for t in study["storage"].get_all_trials(study["study_id"], deepcopy=False)
                if t.state in (TrialState.COMPLETE, TrialState.FAIL)]
        return self._trial_cache[key]

    def exclude(self, fingerprints: Iterable[str] = (), families: Iterable[str] = ()
                ) -> KnowledgeBase:
        """A view of this knowledge base without the given datasets (by fingerprint) and
        dataset families (every variant derived from one source, e.g. KEEL's imbalanced
        cuts of ``yeast``). Loaded trials are shared with the view."""
        kb = KnowledgeBase.__new__(KnowledgeBase)
        kb._sources, kb._opened, kb.urls = self._sources, self._opened, self.urls
        kb.excluded = self.excluded | frozenset(fingerprints)
        kb.excluded_families = self.excluded_families | frozenset(families)
        kb._trial_cache, kb._all_cache = self._trial_cache, self._all_cache
        return kb

    def digest(self) -> str:
        """A short hash of what this knowledge base holds (studies and their trial counts);
        it changes when the knowledge base grows."""
        # Not the URLs: the same knowledge base moved elsewhere has the same digest.
        items = sorted((s["study_name"], s.get("uid", ""), s["n_trials"])
                       for s in self._studies)
        blob = json.dumps([items, sorted(self.excluded), sorted(self.excluded_families)])
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def datasets(self) -> pd.DataFrame:
        """One row per dataset: name, task, size, trials, and its meta-features as columns.

        Indexed by fingerprint; studies of the same dataset are counted together.
        """
        if not self._studies:
            return pd.DataFrame(columns=["dataset", "task", "metric", "n_rows", "n_features",
                                         "n_studies", "n_trials"]).rename_axis("fingerprint")
        rows: dict[str, dict[str, Any]] = {}
        for s in self._studies:
            row = rows.setdefault(s["fingerprint"], {
                "dataset": s.get("dataset"), "task": s.get("task"), "metric": s.get("metric"),
                "n_rows": s.get("n_rows"), "n_features": s.get("n_features"),
                "source": s.get("source", "fit"), "family": s.get("family", s.get("dataset")),
                "n_studies": 0, "n_trials": 0, **s["meta_features"]})
            row["n_studies"] += 1
            row["n_trials"] += s["n_trials"]
        frame = pd.DataFrame.from_dict(rows, orient="index")
        return frame.rename_axis("fingerprint").sort_values(["task", "dataset"])

    def meta_features(self) -> pd.DataFrame:
        """Only the meta-feature columns of :meth:`datasets` (one row per fingerprint)."""
        frame = self.datasets()
        return frame[[c for c in feature_names() if c in frame.columns]]

    def trials(self, dataset: str) -> pd.DataFrame:
        """Finished trials of one dataset (by fingerprint or name) across all its studies."""
        studies = [s for s in self._studies
                   if dataset in (s["fingerprint"], s.get("dataset"))]
        rows = []
        for s in studies:
            for t in self._trials(s):
                rows.append({"fingerprint": s["fingerprint"], "study_name": s["study_name"],
                             "trial": t.number, "config": config_key(t.params),
                             "learner": t.params.get("learner"), "params": t.params,
                             "score": t.value, "state": t.state.name,
                             "origin": t.user_attrs.get(ORIGIN),
                             "fit_time": t.user_attrs.get(FIT_TIME),
                             "failure_reason": failure_reason(t)})
        return pd.DataFrame(rows, columns=["fingerprint", "study_name", "trial", "config",
                                           "learner", "params", "score", "state", "origin",
                                           "fit_time", "failure_reason"])

    def best_configs(self, n: int = 1, fingerprints: Iterable[str] | None = None,
                     one_per_learner: bool = False) -> dict[str, list[dict[str, Any]]]:
        """Each dataset's ``n`` best completed configurations (direction-aware), by
        fingerprint; only ``fingerprints`` if given; with ``one_per_learner``, only each
        learner family's best (a tuned study's runners-up are often near-copies of its
        best). With ``n == 1`` one query per study reads only its best trial (a few ms,
        against tens for all of its trials)."""
        wanted = None if fingerprints is None else set(fingerprints)
        scored: dict[str, list[tuple[float, int, dict[str, Any]]]] = {}
        for s in self._studies:
            if wanted is not None and s["fingerprint"] not in wanted:
                continue
            sign = 1.0 if s["direction"] == "maximize" else -1.0
            if n == 1:
                try:
                    trials = [s["storage"].get_best_trial(s["study_id"])]
                except ValueError:  # no completed trial
                    continue
            else:
                trials = [t for t in self._trials(s) if t.state == TrialState.COMPLETE]
            found = scored.setdefault(s["fingerprint"], [])
            found += [(sign * t.value, len(found) + i, t.params)
                      for i, t in enumerate(trials) if t.value is not None]
        out = {}
        for fp, found in scored.items():
            ranked = [params for *_, params in sorted(found, key=lambda r: (-r[0], r[1]))]
            if one_per_learner:
                firsts: dict[Any, dict[str, Any]] = {}
                for params in ranked:
                    firsts.setdefault(params.get("learner"), params)
                ranked = list(firsts.values())
            if ranked:
                out[fp] = ranked[:n]
        return out

    def score_matrix(self, task: str | None = None, normalise: bool = True,
                     min_datasets: int = 1) -> pd.DataFrame:
        """Dataset × configuration matrix of scores (HPO-B style).

        Rows are fingerprints, columns :func:`config_key` strings. With ``normalise``, each
        row is scaled to [0, 1] with 1 the dataset's best and 0 its worst finished trial
        (direction-aware, so log-loss and R² matrices read the same way); failed trials
        score 0. Configurations evaluated on fewer than ``min_datasets`` datasets are left
        out. A configuration tried several times on a dataset keeps its mean.
        """
        cells: dict[tuple[str, str], list[float]] = {}
        for s in self._studies:
            if task is not None and s.get("task") != task:
                continue
            sign = 1.0 if s["direction"] == "maximize" else -1.0
            for t in self._trials(s):
                if not is_evidence(t):
                    continue
                value = sign * t.value if t.value is not None else np.nan
                cells.setdefault((s["fingerprint"], config_key(t.params)), []).append(value)
        if not cells:
            return pd.DataFrame()
        series = pd.Series({k: np.nanmean(v) if np.isfinite(v).any() else np.nan
                            for k, v in cells.items()})
        matrix = series.unstack()
        counts = matrix.notna().sum(axis=0)
        failed_or_missing = matrix.isna()
        if normalise:
            lo, hi = matrix.min(axis=1), matrix.max(axis=1)
            span = (hi - lo).replace(0, 1.0)
            matrix = matrix.sub(lo, axis=0).div(span, axis=0)
            # A configuration that failed on a dataset is as bad as its worst trial.
            failed = pd.DataFrame(False, index=matrix.index, columns=matrix.columns)
            for (fp, key), values in cells.items():
                if not np.isfinite(values).any():
                    failed.loc[fp, key] = True
            matrix = matrix.mask(failed & failed_or_missing, 0.0)
        keep = counts[counts >= min_datasets].index
        return matrix[keep].rename_axis(index="fingerprint", columns="config")

    def fit_costs(self, task: str | None = None) -> pd.DataFrame:
        """What configurations cost to fit: one row per (dataset, configuration) with its
        mean ``fit_time`` (seconds, summed over the cross-validation folds) and
        ``seconds_per_row``, that time over the rows the folds trained on in all
        (``(cv_folds - 1) * n_rows``), which carries over to datasets of other sizes and
        fold counts. Completed trials with a recorded fit time only.

        >>> KnowledgeBase("memory").fit_costs().columns.tolist()
        ['fingerprint', 'config', 'fit_time', 'seconds_per_row']
        """
        cells: dict[tuple[str, str], list[float]] = {}
        rows_fitted: dict[str, float] = {}
        for s in self._studies:
            if task is not None and s.get("task") != task:
                continue
            n_rows, folds = s.get("n_rows"), s.get("cv_folds")
            if not n_rows or not folds or folds < 2:
                continue
            rows_fitted[s["fingerprint"]] = float((folds - 1) * n_rows)
            for t in self._trials(s):
                seconds = t.user_attrs.get(FIT_TIME)
                if t.state == TrialState.COMPLETE and seconds:
                    cells.setdefault((s["fingerprint"], config_key(t.params)),
                                     []).append(float(seconds))
        frame = pd.DataFrame([(fp, key, float(np.mean(v))) for (fp, key), v in cells.items()],
                             columns=["fingerprint", "config", "fit_time"])
        frame["seconds_per_row"] = frame["fit_time"] / frame["fingerprint"].map(
            rows_fitted).astype(float)
        return frame

    def __repr__(self) -> str:
        return (f"KnowledgeBase({self.urls!r}, {len(self._studies)} studies"
                f"{f', {len(self.excluded)} excluded' if self.excluded else ''})")


def studies_by_uid(storage: BaseStorage) -> dict[str, str]:
    """``uid`` user attribute → study name, for the studies of ``storage`` that have one."""
    return {s.user_attrs[STUDY_UID]: s.study_name
            for s in optuna.get_all_study_summaries(storage, include_best_trial=False)
            if STUDY_UID in s.user_attrs}

