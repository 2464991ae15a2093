"""Bad input to ``fit(dataset)``: each case either fails early with an error that names
the problem and the fix, or is handled, with a warning wherever the data was changed.
Each test's docstring says which, and the test names carry the case numbers of the
project's robustness checklist.
"""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pandas as pd
import pytest
import scipy.sparse as sp

from automl_meta import AutoMLClassifier, AutoMLRegressor, fit
from automl_meta.data import DataWarning, make_folds, make_preprocessor
from automl_meta.data.plan import ColumnPlan
from automl_meta.exceptions import (
    ColumnMismatchError,
    DataError,
    DataTypeError,
    InsufficientMemoryError,
    SearchFailedError,
    TargetError,
)
from automl_meta.search_space import LEARNER_PARAM

from .conftest import data_warnings


def xy(n=60, p=3, seed=0, classes=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = (X[:, 0] > 0).astype(int) if classes == 2 else rng.integers(0, classes, n)
    return X, y


def test_case01_zero_rows(fast):
    """Zero rows: an error that says there are 0 samples."""
    with pytest.raises(DataError, match="0 sample"):
        fit((np.empty((0, 3)), np.array([])), **fast)


def test_case02_no_feature_columns_gives_baseline(fast, catch_warnings):
    """No feature column: a baseline model that ignores X, with a warning; it still
    predicts."""
    y = np.array([0, 1] * 10)
    model = fit((pd.DataFrame(index=range(20)), y), **fast)
    assert model.best_config_[LEARNER_PARAM] == "baseline"
    assert any("No usable feature" in m for m in data_warnings(catch_warnings))
    assert model.predict(pd.DataFrame(index=range(3))).shape == (3,)


def test_case02_every_column_dropped_gives_baseline(fast, catch_warnings):
    """Every column dropped by cleaning (constant, all missing): the warning names each and
    why, and a baseline model comes back."""
    X = pd.DataFrame({"const": [1.0] * 20, "empty": [np.nan] * 20})
    model = fit((X, np.array([0, 1] * 10)), **fast)
    messages = " ".join(data_warnings(catch_warnings))
    assert "'const' (constant)" in messages and "'empty' (all values missing)" in messages
    assert model.best_config_[LEARNER_PARAM] == "baseline"
    assert set(model.predict(X)) <= {0, 1}


def test_case03_length_mismatch_names_both_lengths(fast):
    """X and y of different lengths: an error naming both lengths."""
    X, y = xy(10)
    with pytest.raises(DataError, match="X has 10 rows, y has 9"):
        fit((X, y[:9]), **fast)


def test_case04_single_row(fast):
    """A single row cannot be cross-validated: an error."""
    with pytest.raises(DataError, match="1 sample"):
        fit((np.ones((1, 3)), np.array([1])), **fast)


@pytest.mark.parametrize("task,y,folds", [
    ("regression", np.array([1.0, 2.0, 3.5]), 3),  # one row per fold
    ("classification", np.array([0, 1, 0, 1]), 2),  # two members per class
])
def test_case05_fewer_rows_than_folds(fast, task, y, folds):
    """Fewer rows (or class members) than folds: the folds drop to what the data allows, and
    the search still scores and predicts."""
    X = np.arange(len(y) * 2, dtype=float).reshape(len(y), 2)
    model = fit((X, y), task=task, cv=5, **fast)
    assert model.study_.user_attrs["cv_folds"] == folds
    assert np.isfinite(model.best_score_)
    assert len(model.predict(X)) == len(y)


def test_case06_class_with_one_member(fast):
    """A class with one member under stratified folds: handled (no raw scikit-learn error),
    finite scores, a probability column for every class."""
    X, y = xy(41)
    y[-1] = 2  # class 2 has a single member
    model = fit((X, y), **fast, metric="log_loss")
    assert np.isfinite(model.best_score_)
    assert model.predict_proba(X).shape == (41, 3)


def test_case07_single_class(fast):
    """A single-class classification target: an error that says so."""
    X, _ = xy(20)
    with pytest.raises(TargetError, match="only 1 class"):
        fit((X, np.zeros(20, dtype=int)), task="classification", **fast)


def test_case08_constant_regression_target(fast, catch_warnings):
    """A constant regression target: a warning, a model predicting the constant, a finite
    score."""
    X, _ = xy(30)
    model = fit((X, np.full(30, 4.2)), task="regression", **fast)
    assert any("constant" in m for m in data_warnings(catch_warnings))
    np.testing.assert_allclose(model.predict(X), 4.2)
    assert np.isfinite(model.best_score_)


def test_case09_nan_in_target_names_count_and_index(fast):
    """NaN in the target: an error naming the count and the first index (the caller's pandas
    index)."""
    X, y = xy(20)
    y = pd.Series(y.astype(float), index=range(100, 120))
    y.iloc[[3, 7]] = np.nan
    with pytest.raises(TargetError, match=r"2 missing value\(s\).*first at index 103"):
        fit((pd.DataFrame(X, index=y.index), y), **fast)


def test_case09_none_in_object_target(fast):
    """None in a text target: the same error."""
    X, _ = xy(6)
    with pytest.raises(TargetError, match="1 missing"):
        fit((X, np.array(["a", "b", None, "a", "b", "a"], dtype=object)), **fast)


def test_case10_inf_in_target(fast):
    """An infinite target value: an error."""
    X, _ = xy(20)
    y = np.linspace(0, 1, 20)
    y[5] = -np.inf
    with pytest.raises(TargetError, match="infinite"):
        fit((X, y), **fast)


def test_case11_nan_in_features_is_imputed(fast):
    """NaN in features is imputed: the search scores and predicts even an all-NaN row."""
    X, y = xy(60)
    X[::7, 1] = np.nan
    model = fit((X, y), learners=["linear", "knn"], **fast)
    assert np.isfinite(model.best_score_)
    assert model.predict(np.full((2, 3), np.nan)).shape == (2,)


def test_case12_all_nan_column_dropped(fast, catch_warnings):
    """An all-NaN column is dropped, with a warning naming it."""
    X, y = xy(40)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(gone=np.nan)
    model = fit((frame, y), **fast)
    assert "'gone' (all values missing)" in " ".join(data_warnings(catch_warnings))
    assert model.predict(frame).shape == (40,)


def test_case13_inf_and_huge_values_treated_as_missing(fast, catch_warnings):
    """Infinite and huge (1e308) feature values are treated as missing, counted per column
    in the warning."""
    X, y = xy(40)
    X[0, 0], X[1, 0], X[2, 1] = np.inf, -np.inf, 1e308
    model = fit((X, y), learners=["linear", "svm"], **fast)
    assert "3 infinite or huge" not in " ".join(data_warnings(catch_warnings))
    messages = " ".join(data_warnings(catch_warnings))
    assert "column 'x0': 2 infinite or huge value(s)" in messages
    assert "column 'x1': 1 infinite or huge value(s)" in messages
    assert np.isfinite(model.best_score_)


def test_case14_constant_columns_dropped(fast, catch_warnings):
    """Constant columns (numeric or text) are dropped, with a warning naming them."""
    X, y = xy(40)
    frame = pd.DataFrame(X).assign(k=7, s="same")
    fit((frame, y), **fast)
    messages = " ".join(data_warnings(catch_warnings))
    assert "'k' (constant)" in messages and "'s' (constant)" in messages


def test_case15_duplicate_column_names(fast):
    """Duplicate column names: an error naming them."""
    frame = pd.DataFrame(np.ones((5, 2)), columns=["a", "a"])
    with pytest.raises(DataError, match=r"Duplicate column names: \['a'\]"):
        fit((frame, [0, 1, 0, 1, 0]), **fast)


def test_case16_identical_rows_with_conflicting_labels(fast, catch_warnings):
    """Identical feature rows with different labels are kept, with a warning."""
    X, y = xy(40)
    X[1] = X[0]
    y[0], y[1] = 0, 1
    model = fit((X, y), **fast)
    assert any("identical feature rows" in m for m in data_warnings(catch_warnings))
    assert model.predict(X[:2]).shape == (2,)


@pytest.mark.slow
def test_case17_p_much_larger_than_n_survives_memory_failures():
    """p >> n (50 x 100,000) under a memory cap: a learner that runs out of memory is a
    failed trial, not a crash; the fit returns a model."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 100_000)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    # A 1.5 GB cap per worker: learners that blow it become failed trials, not a crash.
    model = fit((X, y), n_trials=3, learners=["linear", "knn", "svm", "mlp"], verbose=0,
                storage="memory", memory_limit=1_500 * 1024**2, trial_timeout=60)
    board = model.leaderboard()
    assert len(board) == 3
    assert (board["state"] == "COMPLETE").any()
    assert model.predict(X[:5]).shape == (5,)


def test_case18_data_larger_than_memory(fast, monkeypatch):
    """Data larger than the memory available: an error before fitting, with a size estimate."""
    import automl_meta.data.validation as validation

    monkeypatch.setattr(validation, "available_memory_bytes", lambda: 10_000)
    X, y = xy(100)
    with pytest.raises(InsufficientMemoryError, match=r"needs about .* GB"):
        fit((X, y), **fast)


def test_case18_file_larger_than_memory(tmp_path, monkeypatch, clf_frame):
    """A file larger than the memory available: the error names the file."""
    import automl_meta.data.loading as loading

    path = tmp_path / "big.csv"
    clf_frame.to_csv(path, index=False)
    monkeypatch.setattr(loading, "available_memory_bytes", lambda: 100)
    with pytest.raises(InsufficientMemoryError, match="big.csv"):
        fit(path, "target", n_trials=1, verbose=0)


def test_case19_id_and_high_cardinality_columns(fast, catch_warnings):
    """An ID-like column is dropped (warned), a high-cardinality one is encoded compactly,
    never a wide one-hot."""
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({
        "id": [f"user-{i:05d}" for i in range(n)],
        "city": rng.choice([f"city{i}" for i in range(60)], size=n),
        "x": rng.normal(size=n),
    })
    y = (frame["x"] > 0).astype(int)
    model = fit((frame, y), **fast)
    assert "'id' (ID-like" in " ".join(data_warnings(catch_warnings))
    plan = model.best_estimator_.named_steps["clean"]
    assert plan.categorical_high_ == ["city"]
    # Compact: high-cardinality categories never become 60 one-hot columns.
    cleaned = plan.transform(frame.set_axis(["id", "city", "x"], axis=1))
    width = make_preprocessor(plan, "scaled", "classification").fit_transform(cleaned, y).shape[1]
    assert width <= 5


def test_case20_unseen_category_at_predict(fast, clf_frame, catch_warnings):
    """A category unseen during fit: predict warns naming it and maps it to unknown."""
    model = fit(clf_frame, "target", **fast)
    new = clf_frame.drop(columns="target").head(3).copy()
    new.loc[new.index[0], "cat"] = "purple"
    catch_warnings.clear()
    pred = model.predict(new)
    assert any("'purple'" in m and "not seen during fit" in m
               for m in data_warnings(catch_warnings))
    assert set(pred) <= {"yes", "no"}


def test_case21_object_column_mixing_numbers_and_strings(fast, catch_warnings):
    """A text column mixing numbers and strings is categorical, with a warning."""
    X, y = xy(40)
    frame = pd.DataFrame(X, columns=list("abc"))
    frame["mixed"] = pd.Series([1, "two", 3.0, "four"] * 10, dtype=object)
    model = fit((frame, y), **fast)
    assert any("mixes numbers and strings" in m for m in data_warnings(catch_warnings))
    assert "mixed" in model.best_estimator_.named_steps["clean"].categorical_low_


def test_case22_numeric_strings(fast, catch_warnings):
    """Numeric strings ("3.000") are converted to numbers, with a warning."""
    X, y = xy(40)
    frame = pd.DataFrame(X, columns=list("abc"))
    frame["s"] = [f"{v:.3f}" for v in X[:, 0]]
    model = fit((frame, y), **fast)
    assert any("numeric strings converted" in m for m in data_warnings(catch_warnings))
    assert "s" in model.best_estimator_.named_steps["clean"].numeric_


def test_case23_datetime_and_free_text(fast, catch_warnings):
    """Date columns (naive and timezone-aware) are expanded into parts; free text is
    dropped; both warned."""
    rng = np.random.default_rng(0)
    n = 80
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit"]
    frame = pd.DataFrame({
        "when": pd.date_range("2024-01-01", periods=n, freq="D"),
        "when_tz": pd.date_range("2024-01-01", periods=n, freq="h", tz="Europe/Paris"),
        "note": [" ".join(rng.choice(words, size=8)) + f" {i}" for i in range(n)],
        "x": rng.normal(size=n),
    })
    y = (frame["x"] > 0).astype(int)
    model = fit((frame, y), **fast)
    messages = " ".join(data_warnings(catch_warnings))
    assert "date columns ['when', 'when_tz'] expanded" in messages
    assert "'note' (free text)" in messages
    assert model.predict(frame.head(4)).shape == (4,)


def test_case24_nullable_and_category_dtypes(fast):
    """Nullable Int64/boolean with pd.NA and the category dtype are handled and learned
    from."""
    n = 60
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({
        "i": pd.array(np.where(rng.uniform(size=n) < 0.2, None, y * 3), dtype="Int64"),
        "b": pd.array(np.where(rng.uniform(size=n) < 0.2, None, y == 1), dtype="boolean"),
        "c": pd.Categorical(rng.choice(["lo", "hi"], n)),
    })
    model = fit((frame, y), **fast)
    assert model.best_score_ > 0.8
    assert model.predict(frame).shape == (n,)


@pytest.mark.parametrize("labels", [
    np.array(["cat", "dog"], dtype=object),
    np.array([True, False]),
    pd.Categorical(["low", "high"]),
])
def test_case25_labels_come_back_in_original_form(fast, labels):
    """Text, bool and Categorical labels: predict returns the original labels in the
    original dtype."""
    X, y01 = xy(40)
    y = pd.Series(np.asarray(labels)[y01]) if not isinstance(labels, pd.Categorical) else \
        pd.Series(pd.Categorical.from_codes(y01, labels.categories))
    model = fit((X, y), **fast)
    pred = model.predict(X)
    assert set(pred) <= set(np.asarray(y))
    assert pred.dtype == np.asarray(y).dtype


def test_case26_labels_mixing_int_and_str(fast):
    """Labels mixing numbers and strings: an error that says so."""
    X, _ = xy(6)
    with pytest.raises(TargetError, match="mixes numbers and strings"):
        fit((X, np.array([1, "a", 1, "a", 2, "b"], dtype=object)), **fast)


def test_case27_integer_target_task_inference_logged(fast, caplog):
    """An integer target with many values is inferred as regression (logged); an explicit
    task wins."""
    X, _ = xy(200)
    y = np.arange(200) * 7  # 200 distinct integers
    with caplog.at_level("INFO", logger="automl_meta"):
        model = fit((X, y), **fast)
    assert model.task_ == "regression"
    assert "task inferred as regression" in caplog.text
    assert fit((X, y % 3), task="classification", **fast).task_ == "classification"
    assert fit((X, y % 3), task="regression", **fast).task_ == "regression"


def test_case28_extreme_imbalance(fast):
    """1:1000 imbalance: every fold holds the minority class and the default metric is
    ROC-AUC."""
    y = np.zeros(5005, dtype=int)
    y[:5] = 1  # 1:1000
    for _, test in make_folds(y, "classification", 5):
        assert y[test].sum() == 1  # every fold holds the minority class
    X = np.random.default_rng(0).normal(size=(5005, 3))
    X[:5] += 3
    model = fit((X, y), n_trials=1, learners=["linear"], verbose=0, isolation="none",
                storage="memory")
    assert model.metric_ == "roc_auc"  # threshold-free: suits imbalance


def test_case29_sparse_csr_is_handled(fast):
    """A SciPy CSR matrix is handled at fit and predict."""
    X, y = xy(40)
    model = fit((sp.csr_matrix(X), y), **fast)
    assert model.predict(sp.csr_matrix(X[:3])).shape == (3,)


def test_case29_sparse_pandas_is_refused(fast):
    """A sparse pandas frame: an error that names the type."""
    X, y = xy(10)
    frame = pd.DataFrame(X).astype(pd.SparseDtype(float, 0.0))
    with pytest.raises(DataTypeError, match="Sparse pandas"):
        fit((frame, y), **fast)


def test_case30_memmap_float32_and_int(fast, tmp_path):
    """A read-only float32 memmap and an int array are accepted as they are."""
    X, y = xy(40)
    path = tmp_path / "x.npy"
    np.save(path, X.astype(np.float32))
    readonly = np.load(path, mmap_mode="r")
    assert fit((readonly, y), **fast).predict(readonly).shape == (40,)
    assert fit(((X * 10).astype(int), y), **fast).predict((X * 10).astype(int)).shape == (40,)


def test_case31_missing_or_reordered_columns_at_predict(fast, clf_frame):
    """A missing or reordered column at predict: an error naming the column, or the order."""
    model = fit(clf_frame, "target", **fast)
    X = clf_frame.drop(columns="target")
    with pytest.raises(ColumnMismatchError, match="num2"):
        model.predict(X.drop(columns="num2"))
    with pytest.raises(ColumnMismatchError, match="order"):
        model.predict(X[["cat", "num", "num2"]])


def test_case32_integer_tuple_and_multiindex_columns(fast):
    """Integer and MultiIndex column labels are handled consistently (joined names), and
    reordering them at predict is an error."""
    X, y = xy(40)
    int_cols = pd.DataFrame(X)
    model = fit((int_cols, y), **fast)
    assert model.predict(int_cols).shape == (40,)
    with pytest.raises(ColumnMismatchError):
        model.predict(int_cols[[2, 1, 0]])
    multi = pd.DataFrame(X, columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)]))
    model = fit((multi, y), **fast)
    assert model.predict(multi).shape == (40,)
    plan = model.best_estimator_.named_steps["clean"]
    assert plan.input_columns_ == ["a__1", "a__2", "b__1"]


def test_case33_callers_data_never_modified(fast):
    """The caller's X and y are never modified (frames with NaN, inf, numeric strings;
    arrays)."""
    X, y = xy(40)
    X[0, 0] = np.nan
    X[1, 1] = np.inf
    frame = pd.DataFrame(X, columns=list("abc")).assign(s=["1.5"] * 40, c=["u", "v"] * 20)
    target = pd.Series(np.where(y == 1, "p", "n"))
    frame_copy, target_copy = frame.copy(), target.copy()
    model = fit((frame, target), **fast)
    model.predict(frame)
    pd.testing.assert_frame_equal(frame, frame_copy)
    pd.testing.assert_series_equal(target, target_copy)
    X_copy = X.copy()
    fit((X, y), **fast)
    np.testing.assert_array_equal(X, X_copy)


@pytest.mark.parametrize("weights,match", [
    ([-1.0] + [1.0] * 39, "negative"),
    ([np.nan] + [1.0] * 39, "NaN"),
    ([0.0] * 40, "zero for every row"),
])
def test_case34_bad_sample_weights(fast, weights, match):
    """Negative, NaN or all-zero sample weights: an error naming which."""
    X, y = xy(40)
    with pytest.raises(DataError, match=match):
        AutoMLClassifier(**fast).fit(X, y, sample_weight=weights)


def test_case34_valid_sample_weights_are_used(fast):
    """Valid sample weights are accepted and the search scores."""
    X, y = xy(40)
    model = AutoMLClassifier(**fast).fit(X, y, sample_weight=np.linspace(0.5, 2, 40))
    assert np.isfinite(model.best_score_)


def test_case35_misaligned_pandas_indexes(fast):
    """X and y whose pandas indexes differ: an error, not a silent realignment."""
    X, y = xy(20)
    with pytest.raises(DataError, match="indexes differ"):
        fit((pd.DataFrame(X, index=range(20)), pd.Series(y, index=range(5, 25))), **fast)


def test_case36_two_dimensional_target(fast):
    """A two-column y (multi-output, not supported): an error."""
    X, y = xy(20)
    with pytest.raises(TargetError, match="multi-output"):
        fit((X, np.c_[y, y]), **fast)


def test_case37_tiny_time_budget_returns_a_model():
    """A 1 s budget returns a model that predicts, within the budget's documented slack."""
    X, y = xy(200, p=5)
    model = AutoMLClassifier(time_budget=1, verbose=0, storage="memory").fit(X, y)
    assert model.predict(X).shape == (200,)
    # The budget is honoured: 1 s of search, plus the refit and worker start-up.
    assert model.fit_seconds_ < 15


def _faulty_study(storage, modes):
    study = optuna.create_study(storage=storage, study_name="faults", direction="maximize")
    for mode in modes:
        study.enqueue_trial({LEARNER_PARAM: "fault_injection", "fault_injection.mode": mode})
    return study


def test_case38_learner_faults_fail_only_their_trial(tmp_path):
    """A learner that raises, hangs, segfaults, runs out of memory or scores NaN fails only
    its own trial (with the reason and message recorded); the search goes on and returns the
    trial that worked."""
    storage = f"sqlite:///{tmp_path / 'faults.db'}"
    modes = ["raise", "hang", "segfault", "memory", "nan", "ok"]
    _faulty_study(storage, modes)
    X, y = xy(60)
    model = AutoMLClassifier(n_trials=len(modes), learners=["fault_injection"],
                             storage=storage, study_name="faults", trial_timeout=3,
                             memory_limit=1024**3, metric="accuracy", verbose=0).fit(X, y)
    trials = optuna.load_study(study_name="faults", storage=storage).trials
    reasons = [t.user_attrs.get("failure_reason") for t in trials]
    assert reasons == ["error", "timeout", "crash", "memory", "nan-score", None]
    assert trials[-1].state == optuna.trial.TrialState.COMPLETE
    assert all("failure_message" in t.user_attrs for t in trials[:-1])
    assert model.best_config_["fault_injection.mode"] == "ok"


def test_case38_every_trial_failing_lists_the_causes(tmp_path):
    """When every trial fails, the error lists each family's failure reasons and messages."""
    storage = f"sqlite:///{tmp_path / 'faults.db'}"
    _faulty_study(storage, ["raise", "nan"])
    X, y = xy(30)
    with pytest.raises(SearchFailedError) as info:
        AutoMLClassifier(n_trials=2, learners=["fault_injection"], storage=storage,
                         study_name="faults", verbose=0, metric="accuracy").fit(X, y)
    message = str(info.value)
    assert "fault_injection: error" in message and "always raises" in message
    assert "fault_injection: nan-score" in message


def test_case39_missing_file(fast, tmp_path):
    """A path that does not exist: an error naming it."""
    with pytest.raises(DataError, match="not found: '.*nope.csv'"):
        fit(tmp_path / "nope.csv", "y", **fast)


def test_case39_unreadable_file(fast, tmp_path):
    """A file that cannot be read as its format: an error naming it."""
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="Could not read '.*bad.parquet'"):
        fit(path, "y", **fast)


def test_case39_absent_target_lists_columns(fast, tmp_path, clf_frame):
    """A target column not in the file: an error listing the columns there are."""
    path = tmp_path / "d.csv"
    clf_frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"'label' is not in .*'num', 'num2', 'cat', 'target'"):
        fit(path, "label", **fast)


def test_regression_estimator_rejects_string_target(fast):
    """AutoMLRegressor with a text target: an error asking for a numeric one."""
    X, _ = xy(10)
    with pytest.raises(TargetError, match="numeric target"):
        AutoMLRegressor(**fast).fit(X, np.array(list("abababab") + ["a", "b"]))


def test_plan_is_deterministic_and_warns_once():
    """The cleaning plan warns once per fit and transforms the same data the same way."""
    frame = pd.DataFrame({"a": [1.0, 2.0, np.inf], "b": ["x", "y", "x"]})
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        plan = ColumnPlan().fit(frame)
    assert len([w for w in record if issubclass(w.category, DataWarning)]) == 1
    pd.testing.assert_frame_equal(plan.transform(frame), plan.transform(frame))
