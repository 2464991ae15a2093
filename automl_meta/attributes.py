"""The study and trial attributes automl-meta writes: one home for their keys, the trial
origins and the failure reasons.

Studies are plain Optuna studies, so these are what a person reads in optuna-dashboard
(a trial's "User Attributes") and what the knowledge base, the report and joining
workers read back; every module writes and reads them through these names. A trial
records :data:`LEARNER`, :data:`SEED`, :data:`WORKER`, :data:`FIT_TIME` (seconds of the
cross-validated fits), :data:`FOLD_SCORES`, :data:`DEVICE` (where a torch trial
trained), :data:`ORIGIN` (who proposed the configuration: one of :data:`ORIGINS`, or
:func:`warm_start_origin` of the warm start's source), for a warm-start proposal
:data:`WARM_START_SOURCE` (the past dataset or portfolio entry it came from),
:data:`PREDICTED_SCORE` and :data:`PREDICTED_SECONDS` (what the warm start expected),
:data:`RESUMES` (the interrupted trial it runs again), and for a failed trial
:data:`FAILURE_REASON` (a :data:`FailureReason`) and :data:`FAILURE_MESSAGE`.

A study records what it searched, named by the ``STUDY_`` keys: the dataset
(:data:`STUDY_DATASET`, :data:`STUDY_FINGERPRINT`, :data:`STUDY_TASK`, its shape and
:data:`STUDY_META_FEATURES`), the search (:data:`STUDY_METRIC`, :data:`STUDY_LEARNERS`,
:data:`STUDY_SEARCH_SPACE`, :data:`STUDY_CV_FOLDS`, :data:`STUDY_RANDOM_STATE`, the
version), the warm start (:data:`STUDY_WARM_START`, :data:`STUDY_NEAREST_DATASETS`), what
joining workers follow (:data:`STUDY_BUDGET`, :data:`STUDY_RUN`), its ensemble
(:data:`STUDY_ENSEMBLE`) and its own id (:data:`STUDY_UID`, which keys its shared data and
stored predictions); a knowledge-base study built from the corpus also records
:data:`STUDY_KIND` (``"corpus"``), :data:`STUDY_FAMILY`, :data:`STUDY_SOURCE`,
:data:`STUDY_CONTENT_KEY` and :data:`STUDY_PROVENANCE`. The same names are the columns of
:meth:`KnowledgeBase.datasets <automl_meta.knowledge.KnowledgeBase.datasets>`.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["DEFAULT", "DEVICE", "FAILURE_MESSAGE", "FAILURE_REASON", "FIT_TIME", "FOLD_SCORES",
           "LEARNER", "ORIGIN", "ORIGINS", "PORTFOLIO", "PREDICTED_SCORE", "PREDICTED_SECONDS",
           "RESUMES", "SAMPLER", "SEED", "STUDY_BUDGET", "STUDY_CONTENT_KEY", "STUDY_CV_FOLDS",
           "STUDY_DATASET", "STUDY_ENSEMBLE", "STUDY_FAMILY", "STUDY_FINGERPRINT", "STUDY_KIND",
           "STUDY_LEARNERS", "STUDY_META_FEATURES", "STUDY_META_INIT", "STUDY_METRIC",
           "STUDY_NEAREST_DATASETS", "STUDY_N_CLASSES", "STUDY_N_FEATURES", "STUDY_N_ROWS",
           "STUDY_N_ROWS_ORIGINAL", "STUDY_PROVENANCE", "STUDY_RANDOM_STATE", "STUDY_RUN",
           "STUDY_SEARCH_SPACE", "STUDY_SOURCE", "STUDY_SUBSAMPLED", "STUDY_TASK", "STUDY_UID",
           "STUDY_VERSION", "STUDY_WARM_START", "WARM_START", "WARM_START_SOURCE", "WORKER",
           "FailureReason", "failure_reason", "warm_start_origin"]

# -- study user attributes
STUDY_UID = "uid"  # the study's own id: keys its shared data and stored predictions
STUDY_DATASET = "dataset"  # the dataset's name
STUDY_FINGERPRINT = "fingerprint"  # data.dataset_fingerprint of the values
STUDY_TASK = "task"
STUDY_METRIC = "metric"
STUDY_N_ROWS = "n_rows"
STUDY_N_FEATURES = "n_features"
STUDY_N_CLASSES = "n_classes"
STUDY_CV_FOLDS = "cv_folds"
STUDY_LEARNERS = "learners"  # the learner families searched (the search space's choices)
STUDY_SEARCH_SPACE = "search_space"  # every family's distributions, as JSON
STUDY_VERSION = "automl_meta_version"  # of the fit that wrote it; joining workers match it
STUDY_RANDOM_STATE = "random_state"
STUDY_META_FEATURES = "meta_features"
STUDY_NEAREST_DATASETS = "nearest_datasets"
STUDY_WARM_START = "warm_start"  # whether the search was warm-started, from which knowledge
STUDY_META_INIT = "meta_init"  # the meta-learned initialisation mlp_meta/protonet start from
STUDY_BUDGET = "budget"  # {"n_trials", "deadline" (epoch)}: the budget workers share
STUDY_RUN = "run"  # {"trial_timeout", "memory_limit", "payload" (the shared data's key)}
STUDY_ENSEMBLE = "ensemble"  # members, weights and out-of-fold scores of the fit's ensemble
STUDY_KIND = "kind"  # "corpus" for a knowledge-base study the corpus build wrote
STUDY_FAMILY = "family"  # the near-duplicate family leave-one-family-out holds out together
STUDY_SOURCE = "source"  # the corpus source (package) it came from
STUDY_CONTENT_KEY = "content_key"  # the corpus build's key of the data it evaluated
STUDY_PROVENANCE = "provenance"  # package, item, target and dropped columns
STUDY_N_ROWS_ORIGINAL = "n_rows_original"  # a corpus table's rows before subsampling
STUDY_SUBSAMPLED = "subsampled"  # whether the corpus build evaluated a row subsample

# -- trial user attributes
LEARNER = "learner"
SEED = "seed"
WORKER = "worker"
FIT_TIME = "fit_time"
FOLD_SCORES = "fold_scores"
DEVICE = "device"
ORIGIN = "origin"
WARM_START_SOURCE = "warm_start_source"
PREDICTED_SCORE = "predicted_score"
PREDICTED_SECONDS = "predicted_seconds"
RESUMES = "resumes"
FAILURE_REASON = "failure_reason"
FAILURE_MESSAGE = "failure_message"

# -- trial origins (ORIGIN's values)
DEFAULT = "default"  # a family's well-known default configuration
SAMPLER = "sampler"  # drawn by the study's sampler (TPE or the GP)
PORTFOLIO = "portfolio"  # the corpus build's shared portfolio
WARM_START = "warm-start"  # a proposal of the warm start: "warm-start:<source>"
ORIGINS = (DEFAULT, SAMPLER, PORTFOLIO)


def warm_start_origin(source: str) -> str:
    """The origin of a warm-start proposal from ``source``.

    Parameters
    ----------
    source : str
        What proposed it: ``"knn"``, ``"surrogate"``, ``"portfolio"`` or
        ``"same-dataset"``.

    Examples
    --------
    >>> warm_start_origin("knn")
    'warm-start:knn'
    """
    return f"{WARM_START}:{source}"


# Why a trial failed; stored in the trial's FAILURE_REASON attribute, except
# "heartbeat", which readers give a failed trial that has none (see failure_reason).
FailureReason = Literal["error", "timeout", "memory", "crash", "nan-score", "cuda-oom", "budget",
                        "interrupted", "heartbeat"]


def failure_reason(trial: Any) -> str | None:
    """Why a finished Optuna trial failed: its ``failure_reason`` user attribute; or
    ``"heartbeat"`` for a failed trial without one, which only Optuna's stale-trial check
    fails (its worker stopped sending heartbeats: killed, or hung), and which cannot be
    annotated once failed; None for a trial that did not fail.

    Parameters
    ----------
    trial : optuna.trial.FrozenTrial
        A finished trial.
    """
    reason = trial.user_attrs.get(FAILURE_REASON)
    if reason is None and getattr(trial.state, "name", "") == "FAIL":
        return "heartbeat"
    return None if reason is None else str(reason)
