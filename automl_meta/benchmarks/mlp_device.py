"""The torch MLP learner on the CPU and on CUDA: same results, and what the GPU buys.

    python -m automl_meta.benchmarks.mlp_device

For a few dataset sizes it fits :class:`TorchMLPClassifier` with one seed on ``cpu`` and,
when available, ``cuda``, and prints fit time, test accuracy and the largest difference
between the two devices' probabilities. It then runs a small search with the MLP in the
worker process and checks that the driver process never initialised CUDA.
"""

from __future__ import annotations

import platform
import sys
import time

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def _fit(device: str, X_train, y_train, X_test, y_test, epochs: int):
    from ..learners.torch.mlp import TorchMLPClassifier

    model = TorchMLPClassifier(hidden_size=256, n_layers=3, dropout=0.1, epochs=epochs,
                               batch_size=256, random_state=0, n_threads=2, device=device)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    proba = model.predict_proba(X_test)
    return seconds, float((proba.argmax(1) == y_test).mean()), proba


def main() -> None:
    import torch

    # First, before this process touches CUDA: a search runs its MLP trials in the worker.
    from ..automl import AutoMLClassifier

    X, y = make_classification(n_samples=1_000, n_features=20, random_state=0)
    model = AutoMLClassifier(n_trials=3, learners=["mlp"], storage="memory", verbose=0)
    model.fit(X, y)
    trials = model.study_.trials
    states = [(t.state.name, t.user_attrs.get("device")) for t in trials]
    driver_cuda = torch.cuda.is_initialized()
    print(f"search in the worker process: trials (state, device) {states}; CUDA initialised "
          f"in the driver: {driver_cuda}")
    if driver_cuda:
        sys.exit("CUDA was initialised in the driver process")

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for n, p in [(2_000, 20), (20_000, 50), (100_000, 100)]:
        X, y = make_classification(n_samples=n, n_features=p, n_informative=p // 2,
                                   n_classes=3, random_state=0)
        X = StandardScaler().fit_transform(X)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        epochs = 20
        results = {d: _fit(d, X_train, y_train, X_test, y_test, epochs) for d in devices}
        row = {"rows": n, "cols": p, "epochs": epochs}
        for d, (seconds, acc, _) in results.items():
            row[f"{d}_fit_s"] = round(seconds, 2)
            row[f"{d}_accuracy"] = round(acc, 4)
        if "cuda" in results:
            row["max_proba_diff"] = float(np.abs(results["cpu"][2] - results["cuda"][2]).max())
            row["speed_up"] = round(results["cpu"][0] / results["cuda"][0], 1)
        rows.append(row)
    name = torch.cuda.get_device_name(0) if "cuda" in devices else "no CUDA device"
    print(f"machine: {platform.machine()}, torch {torch.__version__}, {name}")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
