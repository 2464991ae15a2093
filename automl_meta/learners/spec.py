"""What a learner family is, in one value: :class:`LearnerSpec`.

A spec holds everything the rest of the package asks about a family: how its input is
prepared, which tasks it learns, its hyperparameter distributions, its well-known default
configuration and the function that builds its estimator. Adding a learner means writing
one spec (the built-in ones are in :mod:`automl_meta.learners.builtin`) and, for a
learner outside the package, registering it (:func:`automl_meta.learners.register_learner`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from optuna.distributions import BaseDistribution

from .._types import Task
from ..data.preprocessing import PreprocessingKind

# What a torch family's first trial in a trial worker pays before its fit: importing
# torch (stored trial times leave it out). 2.2-2.7 s on the 2-core development VM, quiet,
# 2026-12-03 (the warm-start guide). The first wave under ``n_trials`` charges it once,
# and a budgeted search does not start a trial it would not leave time for.
TORCH_IMPORT_SECONDS = 2.5


@dataclass(frozen=True)
class BuildContext:
    """What an estimator factory may need besides the hyperparameters.

    Attributes
    ----------
    task : {"classification", "regression"}
        The task.
    random_state : int
        The estimator's seed (a trial's seed, :func:`automl_meta.search.trial_seed`).
    n_threads : int
        Threads the estimator may use.
    n_train : int or None
        Rows it will be fitted on (caps size-dependent parameters such as the number of
        neighbours).
    device : str
        Where torch learners train (``"auto"``: CUDA when the process sees a GPU).
    meta_init : str or None
        Path of the meta-learned initialisation (None: the shipped one).
    n_numeric : int or None
        How many of the ``"tree"`` matrix's leading columns are numbers (the rest are
        category codes, which CatBoost treats natively).
    """

    task: Task
    random_state: int
    n_threads: int = 1
    n_train: int | None = None
    device: str = "auto"
    meta_init: str | None = None
    n_numeric: int | None = None

    @property
    def classification(self) -> bool:
        """Whether the task is classification."""
        return self.task == "classification"


# A family's hyperparameters by task: {"classification" | "regression" | "any": {name: dist}}.
SpaceByTask = Mapping[str, Mapping[str, BaseDistribution]]
# Builds the unfitted estimator from the hyperparameters (without the "<learner>." prefix).
EstimatorFactory = Callable[[dict[str, Any], BuildContext], Any]


@dataclass(frozen=True)
class LearnerSpec:
    """One learner family: its facts, search space, defaults and estimator factory.

    Attributes
    ----------
    name : str
        The family's name, as in the ``learner`` parameter of a trial.
    preprocessing : {"scaled", "tree", "native"}
        How its input is prepared (:func:`automl_meta.data.make_preprocessor`).
    description : str
        One line for people (CLI and reports).
    build : callable
        ``build(params, context) -> estimator``: the unfitted scikit-learn compatible
        estimator for hyperparameters ``params`` and a :class:`BuildContext`. Import
        heavy modules inside it, so that only a trial of the family pays for them.
    space : mapping
        Its hyperparameter distributions: ``{task or "any": {name: distribution}}``.
    defaults : mapping
        Its well-known default hyperparameters (a fresh search tries them first); the
        names absent from a task's space are ignored for that task. Empty: none.
    default_rank : int
        Where its defaults come in a fresh search's first wave (lower first: cheap and
        reliable families first).
    searched : bool
        Whether a search with the default ``learners`` includes it.
    max_rows : int or None
        Left out of the search above this many rows (kernel SVMs scale quadratically).
    sample_weight : bool
        Whether its ``fit`` accepts sample weights.
    tasks : tuple of str
        The tasks it can learn.
    torch : bool
        It trains with torch (imported only by its trials).
    meta_init : bool
        It starts from the meta-learned initialisation.
    predict_seconds : callable or None
        ``predict_seconds(n_train, n_test, n_features) -> seconds``: what predicting one
        cross-validation fold costs where that, not the fit, dominates a trial (k-NN:
        every test row against every training row). The knowledge base records fit times
        only, so the warm start's cost model adds this; None: negligible.
    """

    name: str
    preprocessing: PreprocessingKind
    description: str
    build: EstimatorFactory
    space: SpaceByTask = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    default_rank: int = 100
    searched: bool = True
    max_rows: int | None = None
    sample_weight: bool = True
    tasks: tuple[Task, ...] = ("classification", "regression")
    torch: bool = False
    meta_init: bool = False
    predict_seconds: Callable[[float, float, float], float] | None = None

    def space_for(self, task: Task) -> dict[str, BaseDistribution]:
        """Its hyperparameter distributions for ``task``, without the name prefix."""
        return dict(self.space.get(task, self.space.get("any", {})))
