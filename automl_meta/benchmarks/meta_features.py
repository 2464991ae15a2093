"""Time the meta-feature extractor, and compare it with PyMFE where PyMFE is installed.

    python -m automl_meta.benchmarks.meta_features [--sizes 1000 10000 100000] [--cols 20 200]
        [--wide 300x5000 100x20000]

Data: ``make_classification`` with the given rows and columns (a quarter informative).
PyMFE is a benchmark-only dependency; it pins old numpy releases, so install it in a
separate environment and run this module there (see README). Without it, only our timings
are printed.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

from .._system import cpu_count
from ..meta_features import GROUPS, extract

# Features defined the same way in both libraries (ours -> PyMFE summary name).
SHARED = {
    "n_rows": "nr_inst",
    "n_features": "nr_attr",
    "n_classes": "nr_class",
    "class_entropy": "class_ent",
    "skewness_mean": "skewness.mean",
    "kurtosis_mean": "kurtosis.mean",
}


def _data(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    return make_classification(n_samples=rows, n_features=cols, n_informative=max(2, cols // 4),
                               random_state=0)


def _ours(X, y, groups=None) -> tuple[float, dict]:
    start = time.perf_counter()
    out = extract(X, y, task="classification", groups=groups)
    return time.perf_counter() - start, out


def _pymfe(X, y, groups) -> tuple[float, dict] | None:
    try:
        from pymfe.mfe import MFE
    except ImportError:
        return None
    start = time.perf_counter()
    mfe = MFE(groups=groups, summary=["mean"], random_state=0)
    mfe.fit(X, y)
    names, values = mfe.extract(suppress_warnings=True)
    return time.perf_counter() - start, dict(zip(names, values, strict=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--cols", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--wide", nargs="*", default=["300x5000", "100x20000"],
                        metavar="ROWSxCOLS", help="wide shapes timed too")
    parser.add_argument("--pymfe-max-rows", type=int, default=10_000,
                        help="skip PyMFE above this many rows (it is slow there)")
    args = parser.parse_args(argv)
    rows = []
    shapes = [(n, p) for n in args.sizes for p in args.cols] + [
        tuple(int(v) for v in w.split("x")) for w in args.wide]
    for n, p in shapes:
        X, y = _data(n, p)
        row: dict[str, object] = {"rows": n, "cols": p}
        for group in GROUPS:
            row[f"{group}_s"] = round(_ours(X, y, [group])[0], 3)
        runs = [_ours(X, y) for _ in range(3)]
        total, ours = float(np.median([r[0] for r in runs])), runs[0][1]
        row["all_s (median of 3)"] = round(total, 3)
        if n <= args.pymfe_max_rows:
            ref = _pymfe(X, y, ["general", "statistical", "info-theory"])
            if ref is not None:
                comparable = float(np.median([
                    _ours(X, y, ["simple", "statistical", "info_theory"])[0]
                    for _ in range(3)]))
                row["ours_simple_stat_info_s"] = round(comparable, 3)
                row["pymfe_general_stat_info_s"] = round(ref[0], 3)
                differ = [a for a, b in SHARED.items()
                          if not np.isclose(ours[a], ref[1].get(b, np.nan), rtol=0.05)]
                row["shared_agree"] = f"{len(SHARED) - len(differ)}/{len(SHARED)}"
                row["differ"] = ",".join(differ) or "-"
        rows.append(row)
    print(f"machine: {platform.machine()}, {cpu_count()} cores, Python "
          f"{platform.python_version()}")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
