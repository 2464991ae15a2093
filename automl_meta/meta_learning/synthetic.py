"""Generated classification tasks for meta-training: breadth beyond the corpus.

The corpus holds about 120 classification tables once the held-out families are out, and
most of them are binary KEEL variants of a few sources; an initialisation meta-trained on
those alone learns what those tables look like. A recipe's ``synthetic`` share replaces
that fraction of each batch's tasks with a freshly generated one, the idea behind
TabPFN's prior of generated tables. Measured on the few-shot benchmark's validation split
(README), a share of 0.5 or even 1.0 (no corpus at all) gives an initialisation as good as
the corpus alone, not better: what the start learns is how to learn from a few rows, not
the corpus's tables. Each task is drawn from one of three generators, with random shape
and difficulty:

- ``clusters``: scikit-learn's ``make_classification`` (Gaussian clusters on a
  hypercube, informative, redundant and noise columns, label noise, imbalance);
- ``network``: labels from a random two-layer tanh network of the columns (smooth,
  non-linear boundaries), classes cut at quantiles of one output so none is empty;
- ``rules``: labels from a random depth-3 tree of axis-aligned thresholds (the
  interactions tree ensembles are good at).

A random share of columns is then discretised to 2-5 levels (tables with categorical or
integer columns), and every column standardised, as the search's ``"scaled"``
preprocessing leaves real tables. No data is downloaded: everything comes from ``rng``.
"""

from __future__ import annotations

import numpy as np

GENERATORS = ("clusters", "network", "rules")


def synthetic_task(rng: np.random.Generator, *, n_rows: int = 200, min_rows: int = 5,
                   max_features: int = 60, max_classes: int = 5
                   ) -> tuple[np.ndarray, np.ndarray]:
    """One generated table ``(X float32, y class indices 0..n-1)`` with at least two
    classes of ``min_rows`` rows each (only those classes are kept)."""
    if min_rows * 2 > n_rows:
        raise ValueError(f"n_rows={n_rows} cannot hold two classes of {min_rows} rows")
    while True:
        n_features = int(rng.integers(2, max_features + 1))
        n_classes = int(rng.choice(np.arange(2, max_classes + 1),
                                   p=_class_weights(max_classes)))
        kind = GENERATORS[int(rng.integers(len(GENERATORS)))]
        X, y = _GENERATE[kind](rng, n_rows, n_features, n_classes)
        X = _discretise(rng, X)
        counts = np.bincount(y, minlength=n_classes)
        kept = np.flatnonzero(counts >= min_rows)
        if len(kept) >= 2:
            rows = np.isin(y, kept)
            X, y = X[rows], np.searchsorted(kept, y[rows])
            sd = X.std(axis=0)
            X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
            return X.astype(np.float32), y


def _class_weights(max_classes: int) -> np.ndarray:
    """Binary tasks as often as all others together (as in the corpus), then fewer."""
    w = np.array([2.0 ** -i for i in range(max_classes - 1)])
    w[0] = w[1:].sum() or 1.0
    return w / w.sum()


def _clusters(rng, n_rows, n_features, n_classes):
    from sklearn.datasets import make_classification

    informative = int(rng.integers(1, n_features + 1))
    redundant = int(rng.integers(0, n_features - informative + 1))
    clusters = int(rng.integers(1, 3))
    while n_classes * clusters > 2 ** informative:  # make_classification's constraint
        informative += 1
    n_features = max(n_features, informative + redundant)
    imbalance = rng.dirichlet(np.full(n_classes, float(rng.choice([1.0, 5.0, 50.0]))))
    X, y = make_classification(
        n_samples=n_rows, n_features=n_features, n_informative=informative,
        n_redundant=redundant, n_classes=n_classes, n_clusters_per_class=clusters,
        weights=list(imbalance), flip_y=float(rng.choice([0.0, 0.02, 0.1])),
        class_sep=float(rng.uniform(0.5, 2.0)), random_state=int(rng.integers(2**31)))
    return X, y


def _inputs(rng, n_rows, n_features):
    """Columns of varied distributions: Gaussian, uniform, skewed (log-normal)."""
    kinds = rng.integers(3, size=n_features)
    X = rng.standard_normal((n_rows, n_features))
    X[:, kinds == 1] = rng.uniform(-2, 2, (n_rows, int((kinds == 1).sum())))
    X[:, kinds == 2] = rng.lognormal(0, 1, (n_rows, int((kinds == 2).sum())))
    return X


def _by_quantiles(score: np.ndarray, n_classes: int, rng) -> np.ndarray:
    """Classes cut at random quantiles of ``score`` (each at least 5 % of the rows)."""
    cuts = np.sort(rng.uniform(0.05, 0.95, n_classes - 1))
    return np.searchsorted(np.quantile(score, cuts), score)


def _network(rng, n_rows, n_features, n_classes):
    X = _inputs(rng, n_rows, n_features)
    used = rng.random(n_features) < rng.uniform(0.2, 1.0)
    used[int(rng.integers(n_features))] = True
    hidden = int(rng.integers(4, 33))
    Z = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-9)
    W1 = rng.standard_normal((n_features, hidden)) * used[:, None] / np.sqrt(used.sum())
    score = np.tanh(Z @ W1 * rng.uniform(0.5, 3.0)) @ rng.standard_normal(hidden)
    score = score + rng.normal(0, rng.choice([0.0, 0.1, 0.5]) * score.std(), n_rows)
    return X, _by_quantiles(score, n_classes, rng)


def _rules(rng, n_rows, n_features, n_classes):
    X = _inputs(rng, n_rows, n_features)
    leaf = np.zeros(n_rows, dtype=int)
    for depth in range(3):  # a full depth-3 tree of random axis-aligned splits
        columns = rng.integers(n_features, size=2 ** depth)
        thresholds = np.array([np.quantile(X[:, c], q) for c, q in
                               zip(columns, rng.uniform(0.2, 0.8, 2 ** depth), strict=True)])
        leaf = 2 * leaf + (X[np.arange(n_rows), columns[leaf]] > thresholds[leaf])
    labels = rng.integers(n_classes, size=8)
    labels[:n_classes] = rng.permutation(n_classes)  # every class on some leaf
    y = labels[leaf]
    flip = rng.random(n_rows) < rng.choice([0.0, 0.05, 0.15])
    y[flip] = rng.integers(n_classes, size=int(flip.sum()))
    return X, y


def _discretise(rng, X: np.ndarray) -> np.ndarray:
    """A random share of the columns (none in half the tables) cut to 2-5 levels."""
    if rng.random() < 0.5:
        return X
    X = X.copy()
    for c in np.flatnonzero(rng.random(X.shape[1]) < rng.uniform(0.1, 1.0)):
        levels = int(rng.integers(2, 6))
        X[:, c] = np.searchsorted(np.quantile(X[:, c], np.sort(rng.random(levels - 1))),
                                  X[:, c])
    return X


_GENERATE = {"clusters": _clusters, "network": _network, "rules": _rules}
