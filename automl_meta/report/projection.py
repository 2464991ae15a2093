"""A 2-D map of datasets in meta-feature space, for the reports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..knowledge.neighbours import robust_scale

# Robust-scaled values are clipped here so that one extreme dataset does not squash the map.
CLIP = 6.0


def project(meta: pd.DataFrame, extra: pd.DataFrame | None = None
            ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Principal-component coordinates of the rows of ``meta`` (datasets × meta-features).

    Meta-features are scaled by ``meta``'s median and interquartile range (as the warm
    start's neighbour search does), clipped to ±6 and centred. ``extra`` rows (say, a new
    dataset) are placed on the same map without moving it. Returns ``(coords, extra_coords,
    explained)``: explained is the share of variance of each of the two axes.

    >>> m = pd.DataFrame({"a": [0.0, 1, 2, 3], "b": [0.0, 2, 4, 6.5], "c": [1.0, 1, 1, 1]})
    >>> xy, q, share = project(m, m.iloc[:1])
    >>> xy.shape, q.shape, bool(np.allclose(xy[0], q[0]))
    ((4, 2), (1, 2), True)
    """
    table = meta.to_numpy(dtype=float)
    median, scale = robust_scale(table)

    def scaled(values: np.ndarray) -> np.ndarray:
        return np.clip(np.nan_to_num((values - median) / scale), -CLIP, CLIP)

    z = scaled(table)
    centre = z.mean(axis=0)
    _, singular, vt = np.linalg.svd(z - centre, full_matrices=False)
    axes = vt[:2].T
    if axes.shape[1] < 2:  # fewer than two datasets or features: a flat second axis
        axes = np.pad(axes, ((0, 0), (0, 2 - axes.shape[1])))
    variance = singular**2
    explained = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    coords = (z - centre) @ axes
    placed = None
    if extra is not None:
        placed = (scaled(extra[meta.columns].to_numpy(dtype=float)) - centre) @ axes
    return coords, placed, np.pad(explained, (0, 2 - len(explained)))
