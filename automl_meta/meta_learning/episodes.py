"""Episodes from heterogeneous tabular datasets: one input width, any class count.

Datasets differ in columns and classes, while one initialisation needs one input width
and one output layer. Each episode's rows go through an
:class:`~automl_meta.learners.torch.input_map.InputMap` fitted on its support rows, as the
learners fit theirs on their training rows; with ``augment``, through a fresh view, so the
initialisation cannot rely on which input a column lands in (a held-out dataset's columns
mean something else). Output units are shared across tasks: an ``n``-way episode puts its
classes on ``n`` of the ``n_out`` units, in a fresh random order each episode (so the
initialisation cannot memorise which unit means which label), and masks the rest.
"""

from __future__ import annotations

import numpy as np
import torch

from ..learners.torch.input_map import CACHED_VIEWS, InputMap
from .core import Episodes


def sample_episodes(tasks: list[tuple[np.ndarray, np.ndarray]], *, k_shot: int,
                    n_query: int, n_out: int, rng: np.random.Generator,
                    dtype: torch.dtype = torch.float32,
                    input_map: tuple[int, int, str] | None = None,
                    augment: bool = False) -> Episodes:
    """One batch of ``n``-way classification episodes, one per ``(X, y)`` task.

    ``y`` holds class indices. ``X`` is already mapped to the common width, or, with
    ``input_map=(width, seed, reduce)``, each episode's rows are mapped by an :class:`InputMap`
    fitted on its support rows alone, as the learners fit theirs on their training rows
    (so the initialisation meets at test time the inputs it was trained on); with
    ``augment``, each through a random view of that map. ``n`` is the
    smallest class count among the tasks (at most ``n_out``), so the batch has one shape:
    each task gives ``n`` random classes with ``k_shot`` support and ``n_query`` query rows
    each (drawn with replacement where a class is smaller), placed on a random ``n`` of the
    ``n_out`` output units.
    """
    counts = [len(np.unique(y)) for _, y in tasks]
    n_way = min(min(counts), n_out)
    if n_way < 2:
        raise ValueError("every task needs at least 2 classes for an episode")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("sx", "sy", "qx", "qy", "mask")}
    for X, y in tasks:
        classes = rng.choice(np.unique(y), size=n_way, replace=False)
        units = rng.choice(n_out, size=n_way, replace=False)
        sx, sy, qx, qy = [], [], [], []
        for c, unit in zip(classes, units, strict=True):
            rows = np.flatnonzero(y == c)
            take = rng.choice(rows, size=k_shot + n_query, replace=len(rows) < k_shot + n_query)
            sx.append(X[take[:k_shot]])
            qx.append(X[take[k_shot:]])
            sy += [unit] * k_shot
            qy += [unit] * n_query
        mask = np.zeros(n_out, dtype=bool)
        mask[units] = True
        order_s, order_q = rng.permutation(len(sy)), rng.permutation(len(qy))
        support_x, query_x = np.concatenate(sx)[order_s], np.concatenate(qx)[order_q]
        if input_map is not None:
            view = int(rng.integers(CACHED_VIEWS, 2**31)) if augment else 0
            width, seed, reduce = input_map
            mapping = InputMap(width=width, seed=seed, view=view, reduce=reduce).fit(support_x)
            support_x, query_x = mapping.transform(support_x), mapping.transform(query_x)
        parts["sx"].append(support_x)
        parts["sy"].append(np.asarray(sy)[order_s])
        parts["qx"].append(query_x)
        parts["qy"].append(np.asarray(qy)[order_q])
        parts["mask"].append(mask)
    return Episodes(
        support_x=torch.as_tensor(np.stack(parts["sx"]), dtype=dtype),
        support_y=torch.as_tensor(np.stack(parts["sy"]), dtype=torch.long),
        query_x=torch.as_tensor(np.stack(parts["qx"]), dtype=dtype),
        query_y=torch.as_tensor(np.stack(parts["qy"]), dtype=torch.long),
        class_mask=torch.as_tensor(np.stack(parts["mask"])))
