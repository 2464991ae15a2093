"""The meta-feature extractor: coverage, finiteness, neutral values, determinism."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris

from automl_meta.meta_features import GROUPS, extract, feature_names, neutral_values


def test_at_least_40_features_in_five_named_groups():
    assert set(GROUPS) == {"simple", "statistical", "info_theory", "landmarking",
                           "model_based"}
    assert len(feature_names()) >= 40
    assert len(set(feature_names())) == len(feature_names())
    assert set(neutral_values()) == set(feature_names())


@pytest.mark.parametrize("loader,task", [(load_iris, "classification"),
                                         (load_diabetes, "regression")])
def test_all_values_finite_and_sensible(loader, task):
    X, y = loader(return_X_y=True)
    f = extract(X, y, task=task)
    assert list(f) == feature_names()
    assert all(np.isfinite(v) for v in f.values())
    assert f["n_rows"] == len(y) and f["n_features"] == X.shape[1]
    if task == "classification":
        assert f["n_classes"] == 3 and f["class_entropy_normalised"] == pytest.approx(1.0)
        assert f["landmark_linear"] > 0.9  # iris is linearly separable, nearly
    else:
        assert f["n_classes"] == 0 and f["landmark_linear"] > 0.3


def test_groups_can_be_selected():
    X, y = load_iris(return_X_y=True)
    f = extract(X, y, groups=["simple", "model_based"])
    assert list(f) == feature_names(["simple", "model_based"])
    with pytest.raises(ValueError, match="Unknown meta-feature group"):
        extract(X, y, groups=["nope"])


def test_categorical_and_missing_values_are_handled():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({
        "x": np.where(rng.uniform(size=n) < 0.2, np.nan, rng.normal(size=n)),
        "c": rng.choice(["a", "b", "c", None], size=n),
    })
    y = rng.integers(0, 2, n)
    f = extract(frame, y)
    assert all(np.isfinite(v) for v in f.values())
    assert f["n_categorical"] == 1 and f["categorical_share"] == 0.5
    assert 0.05 < f["missing_share"] < 0.25


def test_uncomputable_features_get_neutral_values_and_a_log_line(caplog):
    frame = pd.DataFrame({"c": ["a", "b"] * 30})  # no numeric column at all
    with caplog.at_level(logging.INFO, logger="automl_meta.meta_features"):
        f = extract(frame, [0, 1] * 30)
    neutral = neutral_values()
    assert f["skewness_mean"] == neutral["skewness_mean"]
    assert f["correlation_abs_mean"] == neutral["correlation_abs_mean"]
    assert "not computable" in caplog.text and "skewness_mean" in caplog.text


def test_output_is_deterministic_and_subsamples_large_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12_000, 5))
    y = (X[:, 0] > 0).astype(int)
    assert extract(X, y) == extract(X, y)
    assert extract(X, y)["n_rows"] == 12_000


def test_cli_prints_json(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    frame = load_iris(as_frame=True).frame
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    cli = str(Path(sys.executable).parent / "automl-meta")
    out = subprocess.run([cli, "meta-features", str(path), "--target", "target", "--groups",
                          "simple"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["n_classes"] == 3.0


def test_wide_data_is_described_from_a_bounded_sample_of_columns():
    """300 x 5,000: every costly group looks at a seeded sample of the columns (the
    landmarkers once ran for minutes here, before any trial)."""
    import numpy as np

    from automl_meta.data import prepare_dataset
    from automl_meta.meta_features.groups import LANDMARK_COLUMNS
    from automl_meta.meta_features.prepare import from_dataset

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5000))
    y = (X[:, 7] > 0).astype(int)

    def prepare(X, y, task):
        return from_dataset(prepare_dataset(X, y, task, cv=2))

    data = prepare(X, y, "classification")
    num, cat = data.columns(LANDMARK_COLUMNS)
    assert len(num) + len(cat) == LANDMARK_COLUMNS
    assert np.array_equal(num, prepare(X, y, "classification").columns(LANDMARK_COLUMNS)[0])
    assert data.imputed(np.arange(10), LANDMARK_COLUMNS).shape == (10, LANDMARK_COLUMNS)
    out = extract(X, y, "classification", groups=["landmarking", "model_based"])
    assert out and all(np.isfinite(v) for v in out.values())


def test_a_deadline_leaves_the_groups_not_started_at_their_neutral_values():
    import time

    from sklearn.datasets import load_wine

    from automl_meta.meta_features import neutral_values

    X, y = load_wine(return_X_y=True)
    out = extract(X, y, deadline=time.monotonic() - 1)
    assert out == {k: neutral_values()[k] for k in out}
    full = extract(X, y)
    assert full["n_rows"] == 178 and out["n_rows"] != full["n_rows"]
