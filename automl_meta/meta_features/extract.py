"""``extract(X, y, task)``: every requested group, finite values, neutral fallbacks."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..data.prepared import PreparedDataset, prepare_dataset
from ..data.task import infer_task
from ..data.validation import check_target
from ..exceptions import DataError
from .groups import GROUPS
from .prepare import PreparedData, from_dataset

logger = logging.getLogger(__name__)


def feature_names(groups: Iterable[str] | None = None) -> list[str]:
    """Names of the features of ``groups`` (default: all), in output order.

    Parameters
    ----------
    groups : iterable of str, optional
        Meta-feature groups (:data:`GROUPS`); default all.
    """
    return [n for g in _groups(groups) for n in GROUPS[g].neutral]


def neutral_values() -> dict[str, float]:
    """The documented value of each feature when it cannot be computed."""
    return {n: v for g in GROUPS.values() for n, v in g.neutral.items()}


def _groups(groups: Iterable[str] | None) -> list[str]:
    names = list(GROUPS) if groups is None else list(groups)
    unknown = [g for g in names if g not in GROUPS]
    if unknown:
        raise DataError(f"Unknown meta-feature group(s) {unknown}; choose from {list(GROUPS)}.")
    return names


def extract(X: Any, y: Any, task: str = "auto", *, groups: Iterable[str] | None = None,
            random_state: int = 0, deadline: float | None = None) -> dict[str, float]:
    """Describe a dataset by named meta-features.

    Parameters
    ----------
    X, y
        Anything :func:`automl_meta.fit` accepts as an ``(X, y)`` pair.
    task : {"auto", "classification", "regression"}
    groups : list of str, optional
        Any of ``"simple"``, ``"statistical"``, ``"info_theory"``, ``"landmarking"``,
        ``"model_based"`` (default: all).
    random_state : int
        Seeds the subsampling of the expensive groups (rows, and columns of very wide
        data); the output is deterministic.
    deadline : float, optional
        A ``time.monotonic()`` time: groups not started by then get their neutral values
        (logged), so extraction keeps to a search's time budget. Every group's cost is
        bounded in rows and columns, so a started group ends soon after.

    Returns
    -------
    dict of str to float
        Every value finite. A feature that cannot be computed gets its neutral value
        (:func:`neutral_values`), and a log line says why.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> f = extract(*load_diabetes(return_X_y=True), groups=["simple", "landmarking"])
    >>> f["is_classification"], f["landmark_linear"] > 0.4  # ridge's cross-validated R²
    (0.0, True)
    """
    names = _groups(groups)
    y_series, _ = check_target(y)
    with warnings.catch_warnings(record=True):
        # describing a dataset is not fitting it: its cleaning notes are not shown
        dataset = prepare_dataset(X, y, infer_task(y_series, task), cv=2,
                                  random_state=random_state)
    return extract_prepared(dataset, groups=names, random_state=random_state,
                            deadline=deadline)


def extract_prepared(dataset: PreparedDataset, *, groups: Iterable[str] | None = None,
                     random_state: int = 0, deadline: float | None = None
                     ) -> dict[str, float]:
    """:func:`extract` of a fit's :class:`~automl_meta.data.PreparedDataset`: its
    validated frame, column plan and cleaned matrix are used as they are.

    Parameters
    ----------
    dataset : PreparedDataset
        The validated, cleaned dataset (:func:`~automl_meta.data.prepare_dataset`).
    groups : list of str, optional
        As for :func:`extract`.
    random_state : int
        As for :func:`extract`.
    deadline : float, optional
        As for :func:`extract`.
    """
    names = _groups(groups)
    return _compute(from_dataset(dataset, random_state), names, deadline)


def _compute(data: PreparedData, names: list[str], deadline: float | None
             ) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in names:
        group = GROUPS[name]
        if deadline is not None and time.monotonic() >= deadline:
            logger.info("Meta-feature group %r not computed: out of time; neutral values "
                        "used.", name)
            out.update(group.neutral)
            continue
        try:
            values = group.compute(data)
        except Exception as exc:  # noqa: BLE001 - one group failing must not lose the rest
            logger.warning("Meta-feature group %r failed (%s: %s); using neutral values.",
                           name, type(exc).__name__, exc)
            values = {}
        missing = []
        for feature, neutral in group.neutral.items():
            value = values.get(feature)
            if value is None or not np.isfinite(value):
                missing.append(feature)
                value = neutral
            out[feature] = float(value)
        if missing:
            logger.info("Meta-features %s not computable for this data; neutral values used.",
                        missing)
    return out


def at_row_count(meta: dict[str, float], n_rows: int) -> dict[str, float]:
    """``meta`` of a row subsample, with the size features of the full data's ``n_rows``
    rows (the knowledge base's evidence runs on a subsample of large tables; what a new
    dataset is compared with is the table's true size).

    >>> at_row_count({"n_rows": 10.0, "log_n_rows": 2.3, "n_features": 4.0,
    ...               "dimensionality": 0.4, "log_dimensionality": -0.7}, 1000)["n_rows"]
    1000.0
    """
    out = dict(meta)
    p = out.get("n_features", 0.0)
    out["n_rows"] = float(n_rows)
    out["log_n_rows"] = float(np.log(n_rows)) if n_rows > 0 else 0.0
    out["dimensionality"] = p / n_rows
    out["log_dimensionality"] = float(np.log((p + 1) / n_rows))
    return out
