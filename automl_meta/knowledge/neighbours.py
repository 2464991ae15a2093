"""Nearest past datasets in meta-feature space (auto-sklearn's distance, robust-scaled)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import KnowledgeBase


def robust_scale(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column median and interquartile range (1 where the range is 0) of ``table``:
    meta-features are compared as ``(value - median) / scale``."""
    median = np.nanmedian(table, axis=0)
    q75, q25 = np.nanpercentile(table, [75, 25], axis=0)
    return median, np.where(q75 - q25 > 0, q75 - q25, 1.0)


def nearest_datasets(kb: KnowledgeBase, meta_features: dict[str, float], task: str,
                     k: int = 5) -> list[dict[str, Any]]:
    """The ``k`` datasets of ``kb`` with the same task closest to ``meta_features``.

    Each meta-feature is scaled by the knowledge base's median and interquartile range
    (so sizes and shares weigh alike), and datasets are ranked by Euclidean distance.
    Returns ``[{"dataset", "fingerprint", "source", "family", "distance"}, ...]``.
    """
    frame = kb.datasets()
    if frame.empty:
        return []
    frame = frame[frame["task"] == task]
    names = [n for n in meta_features if n in frame.columns]
    if frame.empty or not names:
        return []
    table = frame[names].to_numpy(dtype=float)
    query = np.array([meta_features[n] for n in names], dtype=float)
    median, scale = robust_scale(table)
    scaled = np.nan_to_num((table - median) / scale)
    target = np.nan_to_num((query - median) / scale)
    distance = np.sqrt(((scaled - target) ** 2).sum(axis=1))
    order = np.argsort(distance, kind="stable")[:k]
    return [{"dataset": str(frame["dataset"].iloc[i]), "fingerprint": str(frame.index[i]),
             "source": str(frame["source"].iloc[i]), "family": str(frame["family"].iloc[i]),
             "distance": round(float(distance[i]), 4)} for i in order]
