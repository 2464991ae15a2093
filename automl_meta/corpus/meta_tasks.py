"""The corpus as meta-training tasks: each classification dataset as the search's
``"scaled"`` learners see it (:func:`corpus_tasks`, handed to
:func:`~automl_meta.meta_learning.train.meta_train`)."""

from __future__ import annotations

import hashlib
import json
import warnings
from functools import partial

import numpy as np
import pandas as pd

from ..data.plan import ColumnPlan
from ..data.preprocessing import make_preprocessor
from ..exceptions import AutoMLError
from ..learners.torch.initialisation import Recipe
from ..meta_learning.train import MetaTasks, TaskSource
from .datasets import corpus_datasets

# Rows of a corpus dataset meta-training samples episodes from (a random subset above).
MAX_ROWS = 2000


def scaled_table(X, y) -> tuple[np.ndarray, np.ndarray]:
    """A dataset as the search's ``"scaled"`` learners see it, and class indices.

    The same steps as a trial of ``mlp_meta`` or ``protonet``: :class:`ColumnPlan`
    cleaning, then the ``"scaled"`` preprocessing (imputation with missing indicators,
    standard scaling, one-hot or target encoding); the learner's :class:`InputMap` comes
    after. Meta-training on anything else would hand the search a mismatched start.
    """
    frame = pd.DataFrame(X).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    labels = pd.factorize(pd.Series(np.asarray(y)).astype(str), sort=True)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = ColumnPlan().fit(frame)
        clean = plan.transform(frame)
        matrix = make_preprocessor(plan, "scaled", "classification").fit_transform(
            clean, labels)
    return np.asarray(matrix, dtype=np.float64), labels


def corpus_tasks(names: list[str] | None = None) -> TaskSource:
    """What :func:`~automl_meta.meta_learning.train.meta_train` learns from: for a
    recipe, ``[(name, X as the "scaled" learners see it, y), ...]`` of the corpus's
    classification datasets (not ``recipe.exclude_families``; only ``names`` if given)
    with at least two classes of ``k_shot`` rows, and a fingerprint of that selection."""
    return partial(_corpus_tasks, names=names)


def _corpus_tasks(recipe: Recipe, names: list[str] | None) -> MetaTasks:
    rng = np.random.default_rng(recipe.seed)
    tasks = []
    for d in corpus_datasets(["sklearn", "keel"]):
        if d.task != "classification" or d.family in recipe.exclude_families:
            continue
        if names is not None and d.name not in names:
            continue
        X, y = scaled_table(*d.load())
        if len(y) > MAX_ROWS:
            keep = rng.choice(len(y), MAX_ROWS, replace=False)
            X, y = X[keep], y[keep]
        counts = np.bincount(y)
        if (counts >= recipe.k_shot).sum() < 2:
            continue
        tasks.append((d.key, X.astype(np.float32), y))
    if not tasks:
        raise AutoMLError("No corpus classification dataset is left to meta-train on.")
    digest = hashlib.sha256(json.dumps(sorted(
        (name, int(X.shape[0]), int(X.shape[1])) for name, X, _ in tasks)).encode())
    return tasks, digest.hexdigest()[:16]
