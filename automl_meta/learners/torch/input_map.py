"""One input width for any table: :class:`InputMap`, the map the meta-learned
initialisation was trained through and its learners apply.

It scales a table's columns robustly (median and interquartile range, clipped) and maps
them to ``width`` inputs: zero padding when there are fewer columns; when there are more,
a seeded Gaussian random projection (``reduce="random"``) or the leading principal
components of the rows it is fitted on (``reduce="pca"``: with fewer rows than ``width``,
they keep every direction those rows span, so nothing a model could learn from them is
lost). Its ``view`` picks one of many such maps: view 0 keeps the columns in order; any
other view places them in random input slots with random signs (or draws another
projection). Meta-training (:mod:`automl_meta.meta_learning.episodes`) maps each episode
through it, and with ``augment`` through a fresh view, so the initialisation cannot rely
on which input a column lands in; a learner may average its predictions over several
views. No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

CLIP = 5.0
REDUCTIONS = ("random", "pca")  # how InputMap narrows a wider table


@dataclass
class InputMap:
    """Map a dataset's numeric columns to ``width`` features.

    >>> X = np.random.default_rng(0).normal(size=(50, 12))
    >>> InputMap(width=8).fit(X).transform(X).shape
    (50, 8)
    """

    width: int = 32
    seed: int = 0
    view: int = 0
    reduce: str = "random"

    def fit(self, X: np.ndarray) -> InputMap:
        X = np.asarray(X, dtype=np.float64)
        # (the nan-aware versions are several times slower; meta-training fits one per episode)
        nan = np.isnan(X).any()
        q75, self.median_, q25 = (np.nanpercentile if nan else np.percentile)(
            X, [75, 50, 25], axis=0)
        spread = q75 - q25
        std = (np.nanstd if nan else np.std)(X, axis=0)
        self.scale_ = np.where(spread > 0, spread, np.where(std > 0, std, 1.0))
        check_reduce(self.reduce)
        self.components_ = None  # the principal directions (reduce="pca", wide tables)
        if X.shape[1] > self.width and self.reduce == "pca":
            # (the scaled rows are centred on the median already; not centring again
            # keeps the whole span of the rows when there are at most ``width`` of them)
            _, _, vt = np.linalg.svd(self._scaled(X), full_matrices=False)
            self.components_ = np.zeros((X.shape[1], self.width))
            self.components_[:, :min(self.width, len(vt))] = vt[:self.width].T
        self.projection_ = self._projection_of(self.view)
        return self

    def with_view(self, view: int) -> InputMap:
        """This fitted map through another ``view``: the scaling (and principal
        directions) fitted once, only the placement redrawn."""
        other = replace(self, view=view)
        other.median_, other.scale_ = self.median_, self.scale_
        other.components_ = self.components_
        other.projection_ = other._projection_of(view)
        return other

    def _projection_of(self, view: int) -> np.ndarray | None:
        if self.components_ is None:
            return _projection(self.seed, len(self.median_), self.width, view)
        slots = _projection(self.seed, self.width, self.width, view)
        return self.components_ if slots is None else self.components_ @ slots

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        Z = (np.asarray(X, dtype=np.float64) - self.median_) / self.scale_
        return np.clip(np.nan_to_num(Z), -CLIP, CLIP)

    def transform(self, X: np.ndarray) -> np.ndarray:
        Z = self._scaled(X)
        if self.projection_ is not None:
            return Z @ self.projection_
        return np.pad(Z, ((0, 0), (0, self.width - Z.shape[1])))


def check_reduce(reduce: str) -> None:
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, not {reduce!r}.")


_PROJECTIONS: dict[tuple[int, int, int, int], np.ndarray | None] = {}
CACHED_VIEWS = 1024  # views below this are kept (a learner's); meta-training draws larger


def _projection(seed: int, n: int, width: int, view: int = 0) -> np.ndarray | None:
    """The map from ``n`` columns to ``width`` inputs (``None``: pad in order).

    View 0: the seeded Gaussian projection when ``n > width``, else ``None``. Other views:
    a Gaussian projection of another seed, or, when ``n <= width``, each column on its own
    random input slot with a random sign.

    >>> P = _projection(0, 3, 5, view=1)
    >>> sorted(np.abs(P).sum(axis=0).tolist()), np.abs(P).sum(axis=1).tolist()
    ([0.0, 0.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    """
    key = (seed, n, width, view)
    if key in _PROJECTIONS:
        return _PROJECTIONS[key]
    rng = np.random.default_rng([seed, n] if view == 0 else [seed, n, view])
    if n > width:
        matrix = rng.normal(size=(n, width)) / np.sqrt(width)
    elif view == 0:
        matrix = None
    else:
        matrix = np.zeros((n, width))
        matrix[np.arange(n), rng.choice(width, size=n, replace=False)] = rng.choice(
            [-1.0, 1.0], size=n)
    if view < CACHED_VIEWS:
        _PROJECTIONS[key] = matrix
    return matrix
