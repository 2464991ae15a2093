"""The learner registry: every family by name, and the estimator of a configuration.

Each family is one :class:`LearnerSpec` (facts, search space, defaults and estimator
factory); the built-in ones are in :mod:`automl_meta.learners.builtin`. A learner from
outside the package is added with :func:`register_learner`, in a module that the
processes evaluating its trials import: name it in ``AUTOML_META_LEARNER_MODULES``
(comma-separated module names), which every fit, trial worker and ``automl-meta worker``
imports before it looks a learner up.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Sequence
from typing import Any

from .._system import cpu_count
from .._types import Task
from ..exceptions import DataError
from .builtin import BUILTIN
from .spec import BuildContext, LearnerSpec

logger = logging.getLogger(__name__)

# Modules that register learners from outside the package (see load_learner_modules).
LEARNER_MODULES_ENV = "AUTOML_META_LEARNER_MODULES"

LEARNERS: dict[str, LearnerSpec] = {s.name: s for s in BUILTIN}

# The families a search with the default ``learners`` chooses among (built-in only).
DEFAULT_LEARNERS: tuple[str, ...] = tuple(s.name for s in BUILTIN if s.searched)


def register_learner(spec: LearnerSpec) -> None:
    """Add a learner family from outside the package, under ``spec.name``.

    It is searched only where ``learners`` names it. The processes that evaluate its
    trials must register it too: call this at the top level of a module and name the
    module in ``AUTOML_META_LEARNER_MODULES``. Registering the same spec again is a
    no-op.

    Parameters
    ----------
    spec : LearnerSpec
        The family.

    Raises
    ------
    ValueError
        When another family already has the name.
    """
    known = LEARNERS.get(spec.name)
    if known is not None and known != spec:
        raise ValueError(f"A learner named {spec.name!r} is already registered.")
    LEARNERS[spec.name] = spec


_loaded_modules: set[str] = set()


def load_learner_modules() -> None:
    """Import the modules named in ``AUTOML_META_LEARNER_MODULES`` (once each), which
    register their learners.

    Raises
    ------
    DataError
        When a named module cannot be imported.
    """
    for name in filter(None, (m.strip() for m in os.environ.get(
            LEARNER_MODULES_ENV, "").split(","))):
        if name in _loaded_modules:
            continue
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise DataError(f"{LEARNER_MODULES_ENV} names {name!r}, which cannot be "
                            f"imported: {exc}") from exc
        _loaded_modules.add(name)


# Below this many rows every learner runs on one thread: on small tables a second thread
# gains little, and when another process keeps a core busy, OpenMP's spinning threads
# (LightGBM, HistGradientBoosting, torch) wait on each other and a trial takes many times
# longer (a 4-trial LightGBM fit of 300 rows, 3.8 s alone, took 144 s beside one busy
# process); in a worker where torch has run, two threads made a 569-row, 5-fold HGB trial
# 20 times slower.
THREADED_ROWS = 20_000


def free_cores(n_threads: int) -> int:
    """``n_threads`` less the cores other processes keep busy (the 1-minute load average
    beyond this process's own share), at least 1."""
    try:
        busy = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this platform
        return n_threads
    return max(1, min(n_threads, round(cpu_count() - busy + 1)))


def uses_torch(learner: str) -> bool:
    """Whether the family ``learner`` trains with torch (:attr:`LearnerSpec.torch`).

    Parameters
    ----------
    learner : str
        A learner family's name; an unknown name does not train with torch.

    >>> uses_torch("mlp_meta"), uses_torch("lightgbm"), uses_torch("no such learner")
    (True, False, False)
    """
    spec = LEARNERS.get(learner)
    return spec is not None and spec.torch


def learner_threads(learner: str, n_rows: int, n_threads: int) -> int:
    """The OpenMP/BLAS thread budget (and ``n_jobs``) of one ``learner`` trial on
    ``n_rows`` rows: one thread on small tables, else the cores free of other work.

    >>> learner_threads("hist_gradient_boosting", 569, 2), learner_threads("lightgbm", 569, 2)
    (1, 1)
    """
    if n_rows < THREADED_ROWS or n_threads <= 1:
        return 1
    return free_cores(n_threads)

def available_learners(requested: Sequence[str] | None, n_rows: int, task: Task
                       ) -> list[str]:
    """Validate ``requested`` (default: every family that can learn ``task``) and drop
    those too slow for the data.

    Parameters
    ----------
    requested : sequence of str or None
        The families asked for (None: every family that can learn ``task``).
    n_rows : int
        Rows of the training data (families with a ``max_rows`` below it are dropped,
        logged).
    task : {"classification", "regression"}
        The task.
    """
    load_learner_modules()
    names = list(requested) if requested is not None else [
        n for n in DEFAULT_LEARNERS if task in LEARNERS[n].tasks]
    unknown = [n for n in names if n not in LEARNERS]
    if unknown:
        raise DataError(f"Unknown learner(s) {unknown}. Choose from: {', '.join(LEARNERS)}.")
    if not names:
        raise DataError("learners is empty; name at least one learner.")
    wrong = [n for n in names if task not in LEARNERS[n].tasks]
    if wrong:
        raise DataError(f"{wrong} cannot learn {task}: "
                        + "; ".join(f"{n} is for {' and '.join(LEARNERS[n].tasks)} only"
                                    for n in wrong) + ".")
    kept = [n for n in names
            if (cap := LEARNERS[n].max_rows) is None or n_rows <= cap]
    skipped = sorted(set(names) - set(kept))
    if skipped:
        logger.info("Skipping %s for %d rows (too slow at this size).", skipped, n_rows)
    return kept or names[:1]


def build_estimator(
    learner: str,
    params: dict[str, Any],
    task: Task,
    *,
    random_state: int,
    n_threads: int = 1,
    n_train: int | None = None,
    device: str = "auto",
    meta_init: str | None = None,
    n_numeric: int | None = None,
) -> Any:
    """Return the unfitted estimator for one configuration (its family's
    :attr:`LearnerSpec.build`).

    Parameters
    ----------
    learner : str
        The family.
    params : dict
        Its hyperparameters, without the ``"<learner>."`` prefix.
    task : {"classification", "regression"}
        The task.
    random_state : int
        The estimator's seed (a trial's seed, :func:`automl_meta.search.trial_seed`).
    n_threads : int, default 1
        Threads the estimator may use.
    n_train : int, optional
        Rows it will be fitted on (caps size-dependent parameters such as the number of
        neighbours).
    device : str, default "auto"
        Where torch learners train (``"auto"``: CUDA when the process sees a GPU).
    meta_init : str, optional
        Path of the meta-learned initialisation ``mlp_meta`` and ``protonet`` start
        from (default: the shipped one).
    n_numeric : int, optional
        How many of the ``"tree"`` matrix's leading columns are numbers (the rest are
        category codes, which CatBoost treats natively).
    """
    spec = LEARNERS.get(learner)
    if spec is None:
        raise DataError(f"Unknown learner {learner!r}. Choose from: {', '.join(LEARNERS)}.")
    if task not in spec.tasks:
        raise DataError(f"{learner} is for {' and '.join(spec.tasks)} only; it cannot "
                        f"learn {task}.")
    return spec.build(params, BuildContext(
        task=task, random_state=random_state, n_threads=n_threads, n_train=n_train,
        device=device, meta_init=meta_init, n_numeric=n_numeric))
