"""The front door: :class:`AutoMLClassifier`, :class:`AutoMLRegressor` and :func:`fit`."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Union

import numpy as np
import optuna
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from ._system import cpu_count
from ._types import Task
from .data import DataWarning, PreparedDataset, check_X, load_dataset, prepare_dataset
from .data.task import infer_task
from .data.validation import check_columns, check_target
from .exceptions import AutoMLError, ColumnMismatchError, StorageError
from .knowledge import get_storage, release_storage, storage_url
from .knowledge.storage import without_password
from .learners import available_learners
from .meta_features import extract_prepared
from .metrics import Metric, get_metric
from .params import check_count, check_cv, check_seconds, check_seed
from .report import write_study_report
from .search import EvaluationData, SearchResult
from .search.driver import SearchDriver
from .search.executor import prewarm
from .search.final_model import FinalModel, ensemble_reserve, final_model, record_ensemble
from .search.progress import SearchProgress
from .search.scale_out import split_trials, worker_count
from .search.study import (
    choose_sampler,
    default_study_name,
    interrupted_trials,
    leaderboard,
    open_study,
    search_record,
)
from .search_space import LEARNER_PARAM
from .warm_start.start import warm_start_for

if TYPE_CHECKING:  # pragma: no cover
    from .knowledge import KnowledgeBase
    from .warm_start import ProposalModel

logger = logging.getLogger(__name__)

# What the storage, knowledge and warm_start parameters take.
StorageLike = Union[str, "optuna.storages.BaseStorage", None]
KnowledgeLike = Union[str, Sequence[str], "KnowledgeBase", None]
WarmStartLike = Union[bool, str, "ProposalModel"]

__all__ = ["AutoMLClassifier", "AutoMLRegressor", "fit", "DEFAULT_TIME_BUDGET"]

# Seconds of search when neither n_trials nor time_budget is given.
DEFAULT_TIME_BUDGET = 60.0
# The share of a time budget the meta-features may take before the search.
META_FEATURE_SHARE = 0.1


class _FitSettings(NamedTuple):
    """A fit's validated parameters (the time budget defaulted)."""

    n_trials: int | None
    time_budget: float | None
    cv: int
    seed: int
    trial_timeout: float | None


class _AutoMLBase(BaseEstimator):
    """Shared machinery of the two estimators; see :class:`AutoMLClassifier`."""

    _task: Task

    def __init__(
        self,
        *,
        n_trials: int | None = None,
        time_budget: float | None = None,
        metric: str | None = None,
        learners: Sequence[str] | None = None,
        cv: int = 5,
        storage: StorageLike = None,
        study_name: str | None = None,
        trial_timeout: float | None = None,
        memory_limit: int | None = None,
        isolation: str = "process",
        knowledge: KnowledgeLike = None,
        warm_start: WarmStartLike = True,
        sampler: str = "auto",
        report: str | None = None,
        n_jobs: int = 1,
        share_data: bool = False,
        ensemble: bool = True,
        device: str = "auto",
        random_state: int = 0,
        verbose: int = 1,
    ):
        self.n_trials = n_trials
        self.time_budget = time_budget
        self.metric = metric
        self.learners = learners
        self.cv = cv
        self.storage = storage
        self.study_name = study_name
        self.trial_timeout = trial_timeout
        self.memory_limit = memory_limit
        self.isolation = isolation
        self.knowledge = knowledge
        self.warm_start = warm_start
        self.sampler = sampler
        self.report = report
        self.n_jobs = n_jobs
        self.share_data = share_data
        self.ensemble = ensemble
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.sparse = True
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, sample_weight: Any = None, *,
            dataset_name: str | None = None) -> _AutoMLBase:
        """Search learners and hyperparameters, then refit the best on all rows.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
            Features; numeric, categorical, boolean, date and text columns are accepted.
        y : array-like of shape (n_samples,)
            Target.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights, used by learners that accept them and by the metric.
        dataset_name : str, optional
            Recorded in the study (default: ``"dataframe"`` or ``"arrays"``).

        Returns
        -------
        self
        """
        started = time.monotonic()
        settings = self._check_settings()
        if self.isolation == "process":  # its start overlaps the set-up below
            prewarm(self.memory_limit)
        budget = settings.time_budget
        deadline = None if budget is None else started + budget
        dataset = prepare_dataset(X, y, self._task, sample_weight=sample_weight,
                                  cv=settings.cv, random_state=settings.seed)
        self._remember_input(X, dataset)
        learners = self._learners_for(dataset)
        metric = get_metric(self.metric, self._task, dataset.n_classes)
        # The pre-search phase counts against the budget: meta-feature groups not started
        # within their share of it get neutral values.
        meta = extract_prepared(dataset, random_state=settings.seed, deadline=None
                                if budget is None else started + META_FEATURE_SHARE * budget)
        storage = get_storage(self.storage, wal=True)
        try:
            final, study, result = self._search(
                dataset, meta, storage, settings, metric, learners, deadline,
                dataset_name or ("dataframe" if isinstance(X, pd.DataFrame) else "arrays"))
            self.target_name_ = y.name if isinstance(y, pd.Series) else None
            self._record_fit(final, dataset, study, storage, result, metric.name, started)
            return self
        finally:
            # the connections this fit opened close now: a SQLite file then holds every
            # trial without its write-ahead log (a storage object passed in is the
            # caller's)
            if storage is not self.storage:
                release_storage(storage)

    def _search(self, dataset: PreparedDataset, meta: dict[str, float],
                storage: optuna.storages.BaseStorage, settings: _FitSettings, metric: Metric,
                learners: list[str], deadline: float | None, dataset_name: str
                ) -> tuple[FinalModel, optuna.Study, SearchResult]:
        """The warm start, the study, the search and the final model of a fit."""
        trivial = learners == ["baseline"]
        budget = settings.time_budget
        warm = warm_start_for(dataset, meta, warm_start=self.warm_start,
                              knowledge=self.knowledge, storage=storage, enabled=not trivial)
        self.nearest_datasets_ = warm.nearest
        sampler = choose_sampler(self.sampler, learners, self._task, settings.seed,
                                 warm=warm.enabled, prior=warm.prior, cost=warm.cost,
                                 deadline=deadline)
        name = self.study_name or default_study_name(dataset_name, dataset.fingerprint)
        study = open_study(storage, name, metric.direction, sampler, search_record(
            dataset, meta, metric=metric.name, learners=learners, random_state=settings.seed,
            nearest=warm.nearest, warm_start=warm.description(), dataset_name=dataset_name))
        n_trials = 1 if trivial else settings.n_trials
        n_jobs = worker_count(self.n_jobs, storage, trivial, n_trials)
        # A fresh study starts from the warm start's proposals (or, cold, each family's
        # defaults); a continued one first runs again the trials an interrupt cut off.
        initial, initial_attrs = interrupted_trials(study) if study.get_trials(
            deepcopy=False) else warm.first_trials(
            dataset, meta, learners, seed=settings.seed, time_budget=None
            if deadline is None else max(deadline - time.monotonic(), 0.0),
            n_trials=n_trials)
        quotas = split_trials(n_trials, n_jobs)
        with SearchDriver(study, self._evaluation_data(dataset, metric.name, n_jobs),
                          learners=learners, task=self._task, random_state=settings.seed,
                          trial_timeout=settings.trial_timeout,
                          isolation=self.isolation,  # type: ignore[arg-type]
                          memory_limit=self.memory_limit, progress=SearchProgress(
                              self.verbose > 0, quotas[0], budget, metric.name)) as driver:
            # The data goes into the study database only while workers may join: a fit on
            # its own counts its own trials, so concurrent fits on one study name each add
            # their n_trials; workers that may join share the study's budget.
            driver.share(storage, n_trials, deadline, keep=bool(self.share_data),
                         share_data=n_jobs > 1 or bool(self.share_data))
            result = driver.run(quotas[0], deadline, initial=initial,
                                initial_attrs=initial_attrs, helpers=quotas[1:],
                                reserve_refit=True,
                                ensemble_reserve=None if not self.ensemble or budget is None
                                else ensemble_reserve(budget))
            final = final_model(driver, result, metric, ensemble=bool(self.ensemble),
                                deadline=deadline)
        return final, study, result

    def _check_settings(self) -> _FitSettings:
        """The fit's validated parameters (:class:`_FitSettings`)."""
        n_trials = check_count("n_trials", self.n_trials)
        budget = check_seconds("time_budget", self.time_budget)
        check_count("n_jobs", self.n_jobs, allow_none=False)
        check_count("memory_limit", self.memory_limit)
        if budget is None and n_trials is None:
            budget = DEFAULT_TIME_BUDGET
        return _FitSettings(n_trials=n_trials, time_budget=budget, cv=check_cv(self.cv),
                            seed=check_seed(self.random_state),
                            trial_timeout=check_seconds("trial_timeout", self.trial_timeout))

    def _remember_input(self, X: Any, dataset: PreparedDataset) -> None:
        """The input's columns, to check and name those given to ``predict``."""
        was_frame = isinstance(X, pd.DataFrame)
        self._sklearn_names = not was_frame or all(isinstance(c, str) for c in X.columns)
        if self._sklearn_names:  # scikit-learn's feature-name bookkeeping and checks
            validate_data(self, X, skip_check_array=True, reset=True)
        else:  # int, mixed or tuple labels: matched by our own column check at predict
            self.n_features_in_ = dataset.frame.shape[1]
        self._input_columns = list(X.columns) if was_frame else None
        self._internal_columns = list(dataset.frame.columns)
        if dataset.classes is not None:
            self.classes_ = dataset.classes

    def _learners_for(self, dataset: PreparedDataset) -> list[str]:
        """The learner families to search: those asked for that suit the data, or only
        the baseline (with a warning) when nothing else can be fitted."""
        learners = available_learners(self.learners, len(dataset.frame), self._task)
        reasons = dataset.trivial_reasons()
        for reason in reasons:
            warnings.warn(reason, DataWarning, stacklevel=3)
        return ["baseline"] if reasons else learners

    def _evaluation_data(self, dataset: PreparedDataset, metric: str, n_jobs: int
                         ) -> EvaluationData:
        # Parallel workers share the cores: each trial gets its share of the threads.
        return EvaluationData(X=dataset.X, y=dataset.target, folds=dataset.folds,
                              plan=dataset.plan, task=self._task, metric=metric,
                              n_classes=dataset.n_classes, sample_weight=dataset.weights,
                              n_threads=max(1, cpu_count() // n_jobs),
                              device=_check_device(self.device))

    def _record_fit(self, final: FinalModel, dataset: PreparedDataset, study: optuna.Study,
                    storage: optuna.storages.BaseStorage, result: SearchResult,
                    metric: str, started: float) -> None:
        """Set the fitted attributes, write the report and log the best trial."""
        self.best_config_ = final.config
        self.best_score_ = final.score
        self.best_estimator_ = Pipeline([("clean", dataset.plan), *final.fitted.steps])
        ensembled = final.ensembled
        self.ensemble_ = None if ensembled is None else ensembled.members
        self.ensemble_record_ = None if ensembled is None else record_ensemble(study,
                                                                               ensembled)
        self.task_ = self._task
        self.metric_ = metric
        self.study_name_ = study.study_name
        self.storage_url_ = storage_url(self.storage)
        # The real URL (with any password) stays in this process; pickles drop it.
        self._storage_url_full = str(storage.url) if isinstance(
            storage, optuna.storages.RDBStorage) else None
        self._storage_obj = storage if not isinstance(
            storage, optuna.storages.RDBStorage) else None
        self.fingerprint_ = dataset.fingerprint
        self.search_result_ = result
        self.fit_seconds_ = time.monotonic() - started
        self.report_path_ = self._write_report(study) if self.report else None
        if self.verbose > 0:
            logger.info("Best %s: %s (%s = %.4f)", self._task, final.config[LEARNER_PARAM],
                        metric, self.best_score_)

    def _write_report(self, study: optuna.Study) -> str | None:
        """Write the HTML report to ``self.report``. A report that cannot be written is a
        warning, not an error: the fitted model is not thrown away for it."""
        try:
            path = write_study_report(study, self.report)  # type: ignore[arg-type]
        except (AutoMLError, OSError, ValueError) as exc:
            warnings.warn(f"The report {self.report!r} could not be written: {exc}",
                          UserWarning, stacklevel=3)
            return None
        logger.info("Report written to %s", path)
        return str(path)

    # -------------------------------------------------------------- predict
    def _clean_input(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "best_estimator_")
        if isinstance(X, pd.DataFrame) and self._input_columns is not None:
            check_columns(list(X.columns), self._input_columns)
        frame = check_X(X)
        if self._sklearn_names:
            try:
                validate_data(self, X, skip_check_array=True, reset=False)
            except ValueError as exc:
                if "feature names" in str(exc).lower():
                    raise ColumnMismatchError(str(exc)) from exc
                raise
        if frame.shape[1] != len(self._internal_columns):
            raise ColumnMismatchError(
                f"X has {frame.shape[1]} features, but {type(self).__name__} is expecting "
                f"{len(self._internal_columns)} features as input.")
        frame.columns = self._internal_columns
        return frame

    def predict(self, X: Any) -> np.ndarray:
        """Predict with the refit best pipeline."""
        frame = self._clean_input(X)
        return self._decode(self.best_estimator_.predict(frame))

    def _decode(self, pred: np.ndarray) -> np.ndarray:
        return pred

    # --------------------------------------------------------------- study
    @property
    def study_(self) -> optuna.Study:
        """The Optuna study of the search, loaded from its storage.

        Raises ``StorageError`` when the storage or the study is gone (the model itself
        still predicts). A model unpickled elsewhere connects without the password it
        was fitted with (pickles never hold it): the database driver then reads it from
        ``PGPASSWORD`` or ``~/.pgpass``.
        """
        check_is_fitted(self, "best_estimator_")
        storage = getattr(self, "_storage_obj", None)
        if storage is None:
            url = getattr(self, "_storage_url_full", None) or self.storage_url_
            storage = get_storage(url, create=False)
        try:
            return optuna.load_study(study_name=self.study_name_, storage=storage)
        except KeyError as exc:
            raise StorageError(f"The study {self.study_name_!r} is no longer in "
                               f"{self.storage_url_}; the model still predicts, but its "
                               "trials are gone.") from exc

    def leaderboard(self) -> pd.DataFrame:
        """One row per trial, best first: learner, parameters, CV score, fit time, state.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> model = AutoMLClassifier(n_trials=2, storage="memory", verbose=0).fit(X, y)
        >>> list(model.leaderboard().columns)[:4]
        ['trial', 'learner', 'score', 'fit_time']
        """
        return leaderboard(self.study_)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_storage_obj", None)  # an in-memory storage does not travel
        full = state.pop("_storage_url_full", None)  # nor does a database password
        if full is not None:
            state["storage_url_"] = without_password(full)
        if isinstance(state.get("storage"), str):
            state["storage"] = without_password(state["storage"])
        return state

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        if not isinstance(self.storage, str) or self.storage == storage_url(self.storage):
            return super().__repr__(N_CHAR_MAX)
        real = self.storage
        try:  # scikit-learn's repr shows the parameters: not a database password
            self.storage = storage_url(real)
            return super().__repr__(N_CHAR_MAX)
        finally:
            self.storage = real


class AutoMLClassifier(ClassifierMixin, _AutoMLBase):
    """Automatic model selection and tuning for classification.

    Every fit is an Optuna study: a search over one conditional space of learner families
    (linear, k-NN, SVM, random forest, extra trees, histogram gradient boosting, LightGBM,
    torch MLP, and the meta-learned ``mlp_meta`` and ``protonet``), scored by stratified
    cross-validation, after which the best configuration is refit on all rows.

    Parameters
    ----------
    n_trials : int, optional
        Number of trials. With ``time_budget`` too, whichever ends first.
    time_budget : float, optional
        Seconds for the whole fit. If neither budget is given, 60 s. The search keeps
        back the estimated time of the final refit, so ``fit`` returns close to this
        (a worker restart after a stopped trial can add a second or two).
    metric : str, optional
        ``"accuracy"``, ``"balanced_accuracy"``, ``"roc_auc"`` or ``"log_loss"``. Default:
        ROC-AUC for two classes, log-loss for more.
    learners : list of str, optional
        Learner families to search; default all.
    cv : int, default 5
        Cross-validation folds (fewer when the data is tiny).
    storage : str or optuna storage, optional
        Where the study is stored: default ``$AUTOML_META_STORAGE`` or
        ``sqlite:///studies/automl_meta.db``; ``"memory"`` keeps it in memory.
    study_name : str, optional
        Study name; an existing study of that name is continued.
    trial_timeout : float, optional
        Seconds one trial may take before it is stopped and recorded as failed.
    memory_limit : int, optional
        Bytes of address space a trial worker may use (default 80 % of physical memory).
    isolation : {"process", "none"}, default "process"
        Evaluate trials in a persistent worker process (crash, hang and memory safe), or
        in this process (for debugging).
    knowledge : str, list of str or KnowledgeBase, optional
        Past experiences to learn from, read-only: storage URLs (another project's
        database, a colleague's export) or a ``KnowledgeBase``. Default: the shipped
        knowledge base (``studies/knowledge.db``, or ``$AUTOML_META_KNOWLEDGE``), with
        the past fits in ``storage`` added to the warm start's nearest datasets (and, for
        a dataset fitted before, its best configurations first).
    warm_start : bool, str or ProposalModel, default True
        Start from configurations proposed by the proposal model of ``knowledge`` (the
        nearest past datasets' bests, the greedy portfolio and the surrogate's picks,
        spread across learner families); ``sampler`` continues from there. The proposals
        are cost-aware: under a time budget, ones predicted to take more than their share
        of it rank lower; with ``n_trials`` alone, their share is 1.5 times what the
        family defaults are predicted to take. A first-wave recipe by name:
        ``"proposals"`` (what ``True`` means), ``"portfolio"`` (the greedy zero-shot
        portfolio), ``"defaults"`` (each family's defaults; the knowledge guides the
        sampler only), ``"ranked"`` (each family's defaults, in the surrogate's predicted
        order for the data) or ``"mixed"`` (proposals and defaults in turn, one family at
        a time). ``False`` gives a cold search: each family's defaults, then the sampler.
        A ``ProposalModel`` is used as given.
    sampler : {"auto", "tpe", "bo"}, default "auto"
        What carries the search on: seeded multivariate TPE, or Bayesian optimisation
        (a BoTorch GP over the whole conditional space with the warm start's surrogate as
        prior mean; under a time budget, expected improvement per predicted second beyond
        a fair share of the time left). ``"auto"`` uses BO after a warm start and TPE for
        a cold search, as the leave-one-dataset-out benchmarks favour (README, "Warm
        start").
    report : str, optional
        Write the search's HTML report (plotly, self-contained) to this path after the
        fit; the same as ``automl-meta report``. A report that cannot be written is a
        warning, and the fitted model is kept.
    n_jobs : int, default 1
        Worker processes evaluating trials in parallel on this machine (this process and
        ``n_jobs - 1`` ``automl-meta worker`` processes), sharing the storage and the
        cores. Needs a database storage (SQLite or PostgreSQL). While the search runs,
        its cleaned data is stored in the database for the workers, and deleted when it
        ends.
    ensemble : bool, default True
        Return an ensemble of the search's trials (greedy ensemble selection with
        replacement over their out-of-fold predictions; each member predicts with its
        cross-validation fold models, averaged, so nothing is refit on all rows).
        ``False`` refits the best trial's configuration on all rows instead. The search
        keeps a small share of the time budget for it (``ensemble_reserve``).
    share_data : bool, default False
        Keep the search's cleaned data in the study database after the search, so that
        ``automl-meta worker`` processes (on any machine that reaches the database) can
        join or continue it. Only then, or with ``n_jobs > 1``, does training data go
        into the database (``automl-meta studies --purge-data`` deletes it).
    device : {"auto", "cpu", "cuda"}, default "auto"
        Where the torch learners (``mlp``, ``mlp_meta``, ``protonet``) train: ``"auto"``
        uses CUDA when the worker process sees a GPU, else the CPU. CUDA is initialised
        only in the worker processes. ``mlp_meta`` and ``protonet`` give the same models on
        either, up to float rounding.
    random_state : int, default 0
        Seeds the sampler, the folds and (with the trial number) each trial.
    verbose : int, default 1
        0 is silent; 1 shows a progress bar.

    Attributes
    ----------
    best_estimator_ : Pipeline
        Cleaning, then the ensemble (``ensemble=True``) or the best model refit on all
        rows with its preprocessing (predicting encoded class indices; :meth:`predict`
        maps them back to the labels).
    ensemble_ : list of dict or None
        The ensemble's members: ``trial``, ``learner`` and ``weight`` (summing to 1);
        None with ``ensemble=False`` (or when no trial could join an ensemble).
    best_config_ : dict
        The best configuration (``trial.params`` of the best trial).
    best_score_ : float
        Its mean cross-validated score.
    classes_ : ndarray
        The class labels, in their original dtype.
    study_ : optuna.Study
        The study, loaded from its storage.
    nearest_datasets_ : list of dict
        The five past datasets closest in meta-feature space (those the warm start
        learned from; empty for a cold search without ``knowledge``).
    target_name_ : hashable or None
        The target's name (``fit(frame, "label")``'s column, a target Series' name), or
        None; ``automl-meta predict`` ignores a column of that name in its data.
    report_path_ : str or None
        Where the report was written (with ``report``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = AutoMLClassifier(n_trials=3, storage="memory", verbose=0).fit(X, y)
    >>> model.predict(X[:2])
    array([0, 0])
    """

    _task: Task = "classification"

    classes_: np.ndarray

    def _decode(self, pred: np.ndarray) -> np.ndarray:
        return self.classes_[np.asarray(pred, dtype=int)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``."""
        frame = self._clean_input(X)
        proba = self.best_estimator_.predict_proba(frame)
        seen = np.asarray(self.best_estimator_.classes_, dtype=int)
        out = np.zeros((proba.shape[0], len(self.classes_)))
        out[:, seen] = proba
        return out


class AutoMLRegressor(RegressorMixin, _AutoMLBase):
    """Automatic model selection and tuning for regression.

    Same parameters as :class:`AutoMLClassifier`; ``metric`` is ``"r2"`` (default),
    ``"rmse"`` or ``"mae"``; cross-validation is shuffled k-fold.

    Parameters
    ----------
    n_trials : int, optional
        As for :class:`AutoMLClassifier`.
    time_budget : float, optional
        As for :class:`AutoMLClassifier`.
    metric : {"r2", "rmse", "mae"}, optional
        What the search optimises: ``"r2"`` (default), ``"rmse"`` or ``"mae"``.
    learners : list of str, optional
        As for :class:`AutoMLClassifier`.
    cv : int, default 5
        Folds of the shuffled k-fold cross-validation.
    storage : str or optuna storage, optional
        As for :class:`AutoMLClassifier`.
    study_name : str, optional
        As for :class:`AutoMLClassifier`.
    trial_timeout : float, optional
        As for :class:`AutoMLClassifier`.
    memory_limit : int, optional
        As for :class:`AutoMLClassifier`.
    isolation : {"process", "none"}, default "process"
        As for :class:`AutoMLClassifier`.
    knowledge : str, list of str or KnowledgeBase, optional
        As for :class:`AutoMLClassifier`.
    warm_start : bool, str or ProposalModel, default True
        As for :class:`AutoMLClassifier`.
    sampler : {"auto", "tpe", "bo"}, default "auto"
        As for :class:`AutoMLClassifier`.
    report : str, optional
        As for :class:`AutoMLClassifier`.
    n_jobs : int, default 1
        As for :class:`AutoMLClassifier`.
    share_data : bool, default False
        As for :class:`AutoMLClassifier`.
    ensemble : bool, default True
        As for :class:`AutoMLClassifier`.
    device : {"auto", "cpu", "cuda"}, default "auto"
        As for :class:`AutoMLClassifier`.
    random_state : int, default 0
        As for :class:`AutoMLClassifier`.
    verbose : int, default 1
        As for :class:`AutoMLClassifier`.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = AutoMLRegressor(n_trials=2, storage="memory", verbose=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _task: Task = "regression"


def fit(
    data: Any,
    target: Any = None,
    *,
    task: str = "auto",
    n_trials: int | None = None,
    time_budget: float | None = None,
    metric: str | None = None,
    storage: StorageLike = None,
    study_name: str | None = None,
    knowledge: KnowledgeLike = None,
    warm_start: WarmStartLike = True,
    sampler: str = "auto",
    random_state: int = 0,
    verbose: int = 1,
    **kwargs: Any,
) -> AutoMLClassifier | AutoMLRegressor:
    """Fit automatic model selection and tuning on ``data``, and return the estimator.

    Parameters
    ----------
    data : DataFrame, str, path-like or (X, y)
        A DataFrame or a CSV/Parquet path holding the ``target`` column, or an ``(X, y)``
        pair.
    target : str, optional
        The target column (for a DataFrame or a path).
    task : {"auto", "classification", "regression"}
        ``"auto"`` infers it from the target (logged).
    **kwargs
        Any other parameter of :class:`AutoMLClassifier` (``learners``, ``cv``,
        ``trial_timeout``, ``memory_limit``, ``isolation``, ``report``, ``n_jobs``,
        ``device``).
    n_trials : int, optional
        As for :class:`AutoMLClassifier`.
    time_budget : float, optional
        As for :class:`AutoMLClassifier`.
    storage : str or optuna storage, optional
        As for :class:`AutoMLClassifier`.
    study_name : str, optional
        As for :class:`AutoMLClassifier`.
    knowledge : str, list of str or KnowledgeBase, optional
        As for :class:`AutoMLClassifier`.
    warm_start : bool, str or ProposalModel, default True
        As for :class:`AutoMLClassifier`.
    sampler : {"auto", "tpe", "bo"}, default "auto"
        As for :class:`AutoMLClassifier`.
    random_state : int, default 0
        As for :class:`AutoMLClassifier`.
    verbose : int, default 1
        As for :class:`AutoMLClassifier`.
    metric : str, optional
        As for :class:`AutoMLClassifier` (classification) or :class:`AutoMLRegressor`
        (regression).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.datasets import load_wine
    >>> frame = load_wine(as_frame=True).frame
    >>> model = fit(frame, "target", n_trials=2, storage="memory", verbose=0)
    >>> type(model).__name__, model.task_
    ('AutoMLClassifier', 'classification')
    """
    X, y, name = load_dataset(data, target)
    y_series, _ = check_target(y)
    resolved = infer_task(y_series, task)
    cls = AutoMLClassifier if resolved == "classification" else AutoMLRegressor
    model = cls(n_trials=n_trials, time_budget=time_budget, metric=metric, storage=storage,
                study_name=study_name, knowledge=knowledge, warm_start=warm_start,
                sampler=sampler, random_state=random_state,
                verbose=verbose, **kwargs)
    return model.fit(X, y, dataset_name=name)


# ----------------------------------------------------------------- helpers
def _check_device(device: str) -> str:
    """``device`` if it is one the torch learners know (no torch import here: CUDA is
    looked for in the worker)."""
    if device not in ("auto", "cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda' (or 'cuda:N'), not "
                         f"{device!r}.")
    return device
