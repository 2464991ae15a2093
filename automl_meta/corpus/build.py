"""Build the knowledge base: evaluate one shared portfolio of configurations on every
corpus dataset (a dataset × configuration matrix, as in HPO-B), plus optional searched
trials per dataset.

Resumable: a dataset's study is named after its corpus key; re-running skips every
configuration already finished there, and trials left running by a killed build are
marked failed (``interrupted``) first. Datasets run in parallel threads, each driving its
own isolated trial worker process.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from .._types import Task
from .._version import __version__
from ..attributes import (
    ORIGIN,
    PORTFOLIO,
    SAMPLER,
    STUDY_CONTENT_KEY,
    STUDY_CV_FOLDS,
    STUDY_DATASET,
    STUDY_FAMILY,
    STUDY_FINGERPRINT,
    STUDY_KIND,
    STUDY_LEARNERS,
    STUDY_META_FEATURES,
    STUDY_META_INIT,
    STUDY_METRIC,
    STUDY_N_CLASSES,
    STUDY_N_FEATURES,
    STUDY_N_ROWS,
    STUDY_N_ROWS_ORIGINAL,
    STUDY_PROVENANCE,
    STUDY_SEARCH_SPACE,
    STUDY_SOURCE,
    STUDY_SUBSAMPLED,
    STUDY_TASK,
    STUDY_UID,
    STUDY_VERSION,
)
from ..data import ColumnPlan, check_X_y, dataset_fingerprint, make_folds
from ..data.validation import encode_target
from ..knowledge import config_key, get_storage
from ..knowledge.base import is_evidence
from ..knowledge.storage import widen_choices
from ..learners import DEFAULT_LEARNERS, LEARNERS
from ..meta_features import extract
from ..meta_features.extract import at_row_count
from ..metrics import default_metric, get_metric
from ..search import EvaluationData
from ..search.driver import SearchDriver
from ..search_space import default_configs, sample_config, search_space_description
from .datasets import SOURCES, CorpusDataset, NotApplicable, corpus_datasets

logger = logging.getLogger(__name__)

PORTFOLIO_SEED = 20261122
# The shared portfolio's families: fixed, so that a rebuild draws the same configurations
# as the shipped knowledge base whatever families the library gains later.
PORTFOLIO_LEARNERS: tuple[str, ...] = ("linear", "knn", "svm", "random_forest", "extra_trees",
                                       "hist_gradient_boosting", "lightgbm", "mlp")
# Families added to the library after the shared portfolio was fixed get a portfolio of
# their own on every dataset (their default, then seeded random configurations), appended
# to each study, so the dataset x configuration matrix stays complete.
ADDED_PORTFOLIOS: dict[str, int] = {"catboost": 6}


@dataclass
class BuildSettings:
    """How the corpus is evaluated (recorded in every study it writes)."""

    n_configs: int = 40
    search_trials: int = 0
    max_rows: int = 2_000
    cv: int = 3
    trial_timeout: float = 20.0
    workers: int = 2
    learners: Sequence[str] = PORTFOLIO_LEARNERS
    # mlp_meta/protonet's initialisation (None: the shipped one), recorded in the study
    meta_init: str | None = None
    # an added family's own portfolio size (see ADDED_PORTFOLIOS)
    added_portfolios: dict[str, int] = field(default_factory=lambda: dict(ADDED_PORTFOLIOS))


def portfolio(task: Task, n_configs: int, learners: Sequence[str] = PORTFOLIO_LEARNERS
              ) -> list[dict[str, Any]]:
    """The shared portfolio: every family's defaults, then seeded random configurations
    (of the ``learners`` that can learn ``task``).

    The same arguments give the same list on every machine, so every dataset of a task is
    evaluated on exactly the same configurations. Computed once per arguments.
    """
    able = tuple(lr for lr in learners if task in LEARNERS[lr].tasks)
    return [dict(c) for c in _portfolio(task, n_configs, able)]


@functools.lru_cache(maxsize=8)
def _portfolio(task: Task, n_configs: int, learners: tuple[str, ...]
               ) -> tuple[dict[str, Any], ...]:
    configs = default_configs(learners, task)[:n_configs]
    seed = PORTFOLIO_SEED + (task == "regression")
    if learners and learners[0] in ADDED_PORTFOLIOS:  # an added family's own portfolio
        seed += 1000 * (1 + list(ADDED_PORTFOLIOS).index(learners[0]))
    sampler = optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(sampler=sampler)
    keys = {config_key(c) for c in configs}
    while len(configs) < n_configs:
        trial = study.ask()
        config = sample_config(trial, learners, task)
        study.tell(trial, 0.0)
        if config_key(config) not in keys:
            keys.add(config_key(config))
            configs.append(config)
    return tuple(configs)


def content_key(X: pd.DataFrame, y: pd.Series, task: Task) -> str:
    """Near-duplicate key: the rows' feature values (rounded; column names and row order
    ignored) with the target. Class labels enter as the partition they make, not by name:
    the same data shipped by two packages with other label names gets the same key, while
    two binary tasks cut differently from one table (KEEL's ``new-thyroid1`` and
    ``new-thyroid2``) do not."""
    frame = X.copy()
    frame.columns = range(frame.shape[1])
    for c in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[c]):
            frame[c] = pd.to_numeric(frame[c]).astype(float).round(4)
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    order = np.argsort(rows, kind="stable")
    labels = np.asarray(y)[order]
    if task == "classification":  # labels renamed by order of first appearance
        _, first = np.unique(labels, return_index=True)
        rename = {labels[i]: rank for rank, i in enumerate(np.sort(first))}
        target = np.array([rename[v] for v in labels], dtype=np.int64)
    else:
        target = np.round(labels.astype(float), 4)
    digest = hashlib.sha256(rows[order].tobytes())
    digest.update(target.tobytes())
    return digest.hexdigest()


def _subsample(X: pd.DataFrame, y: pd.Series, task: Task, max_rows: int
               ) -> tuple[pd.DataFrame, pd.Series]:
    if len(y) <= max_rows:
        return X, y
    from sklearn.model_selection import train_test_split

    strat = y if task == "classification" and y.value_counts().min() >= 2 else None
    keep, _ = train_test_split(np.arange(len(y)), train_size=max_rows, random_state=0,
                               stratify=strat)
    keep = np.sort(keep)
    return X.iloc[keep].reset_index(drop=True), y.iloc[keep].reset_index(drop=True)


def study_name(dataset: CorpusDataset) -> str:
    return f"corpus:{dataset.key}"


def _finish_stale(study: optuna.Study) -> None:
    """Trials left running by a killed build become failed trials without a failure
    reason: not evidence about their configuration, which is evaluated again."""
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)


class CorpusBuilder:
    """Evaluate the corpus into ``storage``; see :func:`build_knowledge`."""

    def __init__(self, storage: Any, settings: BuildSettings):
        self.storage = get_storage(storage)
        self.settings = settings
        self._keys_lock = threading.Lock()
        # Set by Ctrl-C or SIGTERM: the datasets' threads stop after their current trial.
        self._stop = threading.Event()
        self._content_keys: dict[str, str] = {}
        for s in optuna.get_all_study_summaries(self.storage, include_best_trial=False):
            if STUDY_CONTENT_KEY in s.user_attrs:
                self._content_keys[s.user_attrs[STUDY_CONTENT_KEY]] = s.study_name

    def build_one(self, dataset: CorpusDataset) -> str:
        """Evaluate one dataset; returns what happened, for the log."""
        st = self.settings
        try:
            X, y = dataset.load()
        except NotApplicable as exc:
            return f"{dataset.key}: not applicable ({exc}), skipped"
        n_full = len(y)
        X, y = _subsample(X, y, dataset.task, st.max_rows)
        key = content_key(X, y, dataset.task)
        name = study_name(dataset)
        with self._keys_lock:
            owner = self._content_keys.setdefault(key, name)
        if owner != name:
            return f"{dataset.key}: duplicate of {owner}, skipped"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame, target = check_X_y(X, y)
            plan = ColumnPlan().fit(frame)
        _, y_model, n_classes = encode_target(target, dataset.task)
        metric = get_metric(default_metric(dataset.task, n_classes), dataset.task, n_classes)
        configs = portfolio(dataset.task, st.n_configs, st.learners)
        for added, n_added in st.added_portfolios.items():
            configs += portfolio(dataset.task, n_added, (added,))
        study = optuna.create_study(storage=self.storage, study_name=name,
                                    direction=metric.direction,  # type: ignore[arg-type]
                                    load_if_exists=True)
        attrs = study.user_attrs
        # A later build of other families (``build_neural_knowledge``, an added family's
        # portfolio) widens the space: new families go after the stored ones, whose
        # indices the stored trials keep.
        wanted = sorted({c["learner"] for c in configs} | set(st.learners),
                        key=list(DEFAULT_LEARNERS).index)
        stored = list(attrs.get(STUDY_LEARNERS, []))
        learners = stored + [lr for lr in wanted if lr not in stored]
        if stored and stored != learners:
            widen_choices(self.storage, name, "learner", learners)
        _finish_stale(study)
        done = {config_key(t.params) for t in study.get_trials(deepcopy=False)
                if is_evidence(t)}
        missing = [c for c in configs if config_key(c) not in done]
        n_searched = sum(t.user_attrs.get(ORIGIN) == SAMPLER
                         for t in study.get_trials(deepcopy=False))
        searches_left = max(0, st.search_trials - n_searched)
        if not missing and not searches_left:
            return f"{dataset.key}: complete, skipped"
        if STUDY_META_FEATURES not in attrs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                meta = at_row_count(extract(frame, target, dataset.task), n_full)
            for k, v in {
                STUDY_UID: uuid.uuid4().hex, STUDY_DATASET: dataset.name,
                STUDY_SOURCE: dataset.source, STUDY_FAMILY: dataset.family,
                STUDY_FINGERPRINT: dataset_fingerprint(frame, target), STUDY_CONTENT_KEY: key,
                STUDY_TASK: dataset.task, STUDY_METRIC: metric.name,
                STUDY_N_ROWS: int(frame.shape[0]), STUDY_N_ROWS_ORIGINAL: int(n_full),
                STUDY_SUBSAMPLED: bool(n_full > frame.shape[0]),
                STUDY_N_FEATURES: int(frame.shape[1]), STUDY_N_CLASSES: int(n_classes),
                STUDY_CV_FOLDS: st.cv, STUDY_LEARNERS: learners,
                STUDY_SEARCH_SPACE: search_space_description(learners, dataset.task),
                STUDY_VERSION: __version__, STUDY_META_FEATURES: meta, STUDY_KIND: "corpus",
                STUDY_PROVENANCE: dataset.provenance or {"package": dataset.source,
                                                         "item": dataset.name},
            }.items():
                study.set_user_attr(k, v)
        elif attrs.get(STUDY_LEARNERS) != learners:
            study.set_user_attr(STUDY_LEARNERS, learners)
            study.set_user_attr(STUDY_SEARCH_SPACE,
                                search_space_description(learners, dataset.task))
        if st.meta_init is not None and missing:
            from ..learners.torch.initialisation import initialisation_record  # torch

            study.set_user_attr(STUDY_META_INIT, initialisation_record(st.meta_init))
        folds = make_folds(y_model, dataset.task, st.cv, 0)
        data = EvaluationData(X=plan.transform(frame, warn_unknown=False), y=y_model,
                              folds=folds, plan=plan, task=dataset.task, metric=metric.name,
                              n_classes=n_classes, n_threads=1, meta_init=st.meta_init)
        if self._stop.is_set():
            return f"{dataset.key}: not started (the build was stopped)"

        def going_on() -> bool:  # checked before each trial
            return not self._stop.is_set()

        with SearchDriver(study, data, learners=learners, task=dataset.task, random_state=0,
                          trial_timeout=st.trial_timeout) as driver:
            if missing:
                driver.run(len(missing), None, initial=missing,
                           initial_attrs=[{ORIGIN: PORTFOLIO}] * len(missing),
                           budget_left=going_on)
            if searches_left and not self._stop.is_set():
                study.sampler = optuna.samplers.TPESampler(seed=0, multivariate=True,
                                                           group=True)
                driver.run(searches_left, None, budget_left=going_on)
        return f"{dataset.key}: {len(missing)} portfolio + {searches_left} searched trials"

    def build(self, datasets: Iterable[CorpusDataset], progress: bool = True) -> list[str]:
        datasets = list(datasets)
        results: list[str] = []
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(datasets), unit="dataset", desc="knowledge build")
        start = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=self.settings.workers)
        try:
            futures = {pool.submit(self.build_one, d): d for d in datasets}
            for future in _as_completed_awake(futures):
                d = futures[future]
                try:
                    message = future.result()
                except Exception as exc:  # noqa: BLE001 - one dataset must not stop the build
                    message = f"{d.key}: FAILED ({type(exc).__name__}: {exc})"
                    logger.warning(message)
                results.append(message)
                if bar is not None:
                    bar.set_postfix_str(message[:60], refresh=False)
                    bar.update(1)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM through the command line's handler
            self._stop.set()
            logger.warning("Knowledge build stopped: each running dataset ends after its "
                           "current trial; everything stored is kept, and the same command "
                           "resumes the build.")
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        if bar is not None:
            bar.close()
        logger.info("Knowledge build took %.0f s.", time.monotonic() - start)
        return results


def _as_completed_awake(futures: Iterable[Future], poll: float = 0.5) -> Iterator[Future]:
    """``as_completed``, waking every ``poll`` seconds: a signal (Ctrl-C, SIGTERM) that
    the kernel hands to another thread is acted on only when the main thread runs Python
    code, and a plain wait would leave it pending until a whole dataset finished."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=poll, return_when=FIRST_COMPLETED)
        yield from done


def prune_knowledge(storage: Any) -> list[str]:
    """Make the corpus studies of ``storage`` match the reviewed corpus: a study of a
    dataset the catalogue now excludes (a copy of validation data, say) is deleted, and a
    study whose family the catalogue merged with another gets the new family. Studies
    that are not the corpus build's (a user's fits) are left alone. Returns what changed.
    """
    storage = get_storage(storage)
    current = {study_name(d): d for d in corpus_datasets(SOURCES)}
    changes = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        name = summary.study_name
        if not name.startswith("corpus:") or summary.user_attrs.get(STUDY_KIND) != "corpus":
            continue
        dataset = current.get(name)
        if dataset is None:
            optuna.delete_study(study_name=name, storage=storage)
            changes.append(f"{name}: deleted (no longer in the reviewed corpus)")
        elif summary.user_attrs.get(STUDY_FAMILY) != dataset.family:
            study = optuna.load_study(study_name=name, storage=storage)
            study.set_user_attr(STUDY_FAMILY, dataset.family)
            changes.append(f"{name}: family {summary.user_attrs.get('family')!r} -> "
                           f"{dataset.family!r}")
    return changes


def build_knowledge(storage: Any, sources: Iterable[str] = SOURCES,
                    settings: BuildSettings | None = None, limit: int | None = None,
                    names: Iterable[str] | None = None, progress: bool = True) -> list[str]:
    """Build (or resume building) the corpus knowledge base into ``storage``.

    Parameters
    ----------
    storage : str
        Target study storage.
    sources : iterable of str
        Any of ``"sklearn"``, ``"keel"``, ``"keel-regression"``, ``"synthetic"``.
    settings : BuildSettings
        Portfolio size, searched trials, row cap, folds, time limit, parallel workers.
    limit : int, optional
        Only the first ``limit`` datasets (for a quick or test build).
    names : iterable of str, optional
        Only these dataset names or keys.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    datasets = corpus_datasets(sources)
    if names is not None:
        wanted = set(names)
        datasets = [d for d in datasets if d.name in wanted or d.key in wanted]
    if limit is not None:
        datasets = datasets[:limit]
    return CorpusBuilder(storage, settings or BuildSettings()).build(datasets, progress)
