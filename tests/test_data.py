"""``data/``: a fit's dataset prepared once (:class:`~automl_meta.data.PreparedDataset`),
and the meta-features read from it equal to those of the raw input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from automl_meta.data import (
    ColumnPlan,
    DataWarning,
    dataset_fingerprint,
    make_folds,
    prepare_dataset,
)
from automl_meta.exceptions import DataError, TargetError
from automl_meta.meta_features import extract, extract_prepared


def _frame(n: int = 60) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=n), "colour": rng.choice(["red", "blue"], n),
                      "gap": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n))})
    y = np.where(X["x"] > 0, "high", "low")
    return X, y


def test_a_classification_dataset_is_encoded_cleaned_and_split_once():
    X, y = _frame()
    p = prepare_dataset(X, y, "classification", cv=3, random_state=1)
    assert p.classes.tolist() == ["high", "low"] and p.n_classes == 2
    np.testing.assert_array_equal(p.target, (y == "low").astype(int))
    assert p.target.dtype == np.int64
    assert list(p.frame.columns) == ["x", "colour", "gap"]
    pd.testing.assert_frame_equal(p.X, ColumnPlan().fit(p.frame).transform(p.frame))
    expected = make_folds(p.target, "classification", 3, 1)
    assert len(p.folds) == 3
    for (tr, te), (tr2, te2) in zip(p.folds, expected, strict=True):
        np.testing.assert_array_equal(tr, tr2)
        np.testing.assert_array_equal(te, te2)
    assert p.fingerprint == dataset_fingerprint(p.frame, p.y)
    assert p.weights is None and p.trivial_reasons() == []


def test_a_regression_target_is_float_and_its_folds_follow_the_seed():
    X, _ = _frame()
    y = X["x"].to_numpy() * 2
    a = prepare_dataset(X, y, "regression", cv=4, random_state=0)
    b = prepare_dataset(X, y, "regression", cv=4, random_state=5)
    assert a.classes is None and a.n_classes == 0 and a.target.dtype == np.float64
    assert not np.array_equal(a.folds[0][1], b.folds[0][1])


def test_weights_that_leave_one_class_are_refused():
    X, y = _frame()
    with pytest.raises(TargetError, match="Only 1 class has a positive sample_weight"):
        prepare_dataset(X, y, "classification", sample_weight=(y == "high").astype(float))
    with pytest.raises(DataError, match="different lengths"):
        prepare_dataset(X, y[:-1], "classification")


def test_data_only_a_baseline_can_fit_gives_every_reason():
    X = pd.DataFrame({"same": [1.0] * 30})
    with pytest.warns(DataWarning, match="dropped 'same' \\(constant\\)"):
        p = prepare_dataset(X, np.full(30, 2.5), "regression", cv=3)
    reasons = p.trivial_reasons()
    assert len(reasons) == 2
    assert "No usable feature columns" in reasons[0] and "constant (2.5)" in reasons[1]


def test_cleaning_notes_are_shown_once_as_data_warnings():
    X, y = _frame()
    X["constant"] = 1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare_dataset(X, y, "classification")
    notes = [w for w in caught if issubclass(w.category, DataWarning)]
    assert len(notes) == 1 and "constant" in str(notes[0].message)


def test_meta_features_of_the_prepared_dataset_equal_those_of_the_raw_input():
    X, y = _frame(80)
    p = prepare_dataset(X, y, "classification")
    assert extract_prepared(p, random_state=3) == extract(X, y, "classification",
                                                          random_state=3)
