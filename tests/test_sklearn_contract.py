"""scikit-learn's own estimator checks, run against both estimators with a tiny budget."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from automl_meta import AutoMLClassifier, AutoMLRegressor

# Two trials (the first two default configurations), in process, in memory: the checks
# exercise the estimator contract, not the search.
TINY = dict(n_trials=2, verbose=0, isolation="none", storage="memory",
            learners=["linear", "knn"])

EXPECTED_FAILURES: dict[str, str] = {
    "check_estimators_empty_data_messages": (
        "by design (robustness case 2): X with zero feature columns gives a baseline model "
        "with a DataWarning instead of an error; zero rows still raise"),
    "check_sample_weight_equivalence_on_dense_data": (
        "a zero weight cannot equal removing the row: removing rows changes the "
        "cross-validation folds, and with them which configuration the search picks"),
    "check_sample_weight_equivalence_on_sparse_data": (
        "same as check_sample_weight_equivalence_on_dense_data"),
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES


@parametrize_with_checks([AutoMLClassifier(**TINY), AutoMLRegressor(**TINY)],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
