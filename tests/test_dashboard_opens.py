"""optuna-dashboard (a dependency) opens the study database that fit() writes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sklearn.datasets import load_iris

from automl_meta import AutoMLClassifier


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_optuna_dashboard_serves_the_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    X, y = load_iris(return_X_y=True)
    model = AutoMLClassifier(n_trials=2, storage=url, study_name="iris-dash", verbose=0,
                             isolation="none").fit(X, y)
    port = _free_port()
    dashboard = str(Path(sys.executable).parent / "optuna-dashboard")
    proc = subprocess.Popen([dashboard, url, "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies",
                                            timeout=2) as r:
                    body = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None, "optuna-dashboard did not answer within 20 s"
        names = [s["study_name"] for s in body["study_summaries"]]
        assert names == [model.study_name_]
    finally:
        proc.terminate()
        proc.wait(10)
