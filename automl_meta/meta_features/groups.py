"""The feature groups. Each declares its features with their neutral values (the value
reported when a feature cannot be computed, e.g. skewness of a dataset with no numeric
column) and how many rows it looks at; expensive groups work on a seeded subsample."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .prepare import PreparedData

# Rows looked at by the subsampling groups.
STAT_ROWS = 5_000
INFO_ROWS = 5_000
LANDMARK_ROWS = 2_000
TREE_ROWS = 2_000
# Columns looked at by the pairwise-correlation features, and at most by the other
# costly groups (a seeded sample of the columns beyond that: the groups describe shares
# and averages, which a sample estimates, and their cost must not grow with width).
CORR_COLUMNS = 50
STAT_COLUMNS = 1_000
INFO_COLUMNS = 500
LANDMARK_COLUMNS = 100
TREE_COLUMNS = 200
N_BINS = 10


@dataclass(frozen=True)
class FeatureGroup:
    """A named set of meta-features and the function that computes them."""

    name: str
    neutral: dict[str, float]
    compute: Callable[[PreparedData], dict[str, float]]
    description: str


def _safe_log(v: float) -> float:
    return float(np.log(max(v, 1.0)))


# --------------------------------------------------------------------- simple
def _simple(d: PreparedData) -> dict[str, float]:
    n, p = d.n_rows, d.numeric.shape[1] + d.categorical.shape[1]
    out = {
        "n_rows": float(n),
        "n_features": float(p),
        "log_n_rows": _safe_log(n),
        "log_n_features": _safe_log(p),
        "n_numeric": float(d.numeric.shape[1]),
        "n_categorical": float(d.categorical.shape[1]),
        "categorical_share": d.categorical.shape[1] / p if p else 0.0,
        "dimensionality": p / n,
        "log_dimensionality": float(np.log((p + 1) / n)),
        "n_dropped_columns": float(d.n_input_columns - p),
        "missing_share": d.missing_share,
        "rows_with_missing_share": d.rows_with_missing_share,
        "cols_with_missing_share": d.cols_with_missing_share,
        "n_classes": float(d.n_classes),
        "class_min_share": 0.0,
        "class_max_share": 0.0,
        "class_imbalance_ratio": 1.0,
        "is_classification": float(d.task == "classification"),
    }
    if d.task == "classification":
        share = np.bincount(d.y, minlength=d.n_classes) / n
        out.update(class_min_share=float(share.min()), class_max_share=float(share.max()),
                   class_imbalance_ratio=float(share.min() / share.max()))
    return out


# ---------------------------------------------------------------- statistical
def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = np.nanmean(x, axis=0)
    c = x - mu
    m2 = np.nanmean(c**2, axis=0)
    ok = m2 > 1e-12
    m2s = np.where(ok, m2, 1.0)
    skew = np.where(ok, np.nanmean(c**3, axis=0) / m2s**1.5, 0.0)
    kurt = np.where(ok, np.nanmean(c**4, axis=0) / m2s**2 - 3.0, 0.0)
    return skew, kurt


def _statistical(d: PreparedData) -> dict[str, float]:
    rows = d.subsample(STAT_ROWS)
    x = d.numeric[rows][:, d.columns(STAT_COLUMNS)[0]]
    out: dict[str, float] = {}
    if x.shape[1]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            skew, kurt = _moments(x)
            mean, std = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
            z = np.abs((x - mean) / np.where(std > 0, std, 1.0))
            out.update(
                skewness_mean=float(np.nanmean(skew)), skewness_max=float(np.nanmax(skew)),
                skewness_abs_mean=float(np.nanmean(np.abs(skew))),
                kurtosis_mean=float(np.nanmean(kurt)), kurtosis_max=float(np.nanmax(kurt)),
                outlier_share=float(np.nanmean(z > 3)),
                zero_share=float(np.nanmean(x == 0)),
                coefficient_of_variation_mean=float(np.nanmean(
                    std / np.maximum(np.abs(mean), 1e-12)).clip(max=1e6)),
            )
        filled = d.imputed(rows, CORR_COLUMNS)[:, : min(CORR_COLUMNS, x.shape[1])]
        keep = filled.std(axis=0) > 0
        if keep.sum() >= 2:
            corr = np.abs(np.corrcoef(filled[:, keep], rowvar=False))
            upper = corr[np.triu_indices_from(corr, k=1)]
            out.update(correlation_abs_mean=float(upper.mean()),
                       correlation_abs_max=float(upper.max()))
            sv = np.linalg.svd((filled[:, keep] - filled[:, keep].mean(0)) /
                               filled[:, keep].std(0), compute_uv=False)
            var = np.cumsum(sv**2) / np.sum(sv**2)
            out["pca_95_share"] = float((np.searchsorted(var, 0.95) + 1) / keep.sum())
    if d.task == "regression":
        skew, kurt = _moments(d.y[rows, None].astype(float))
        out.update(target_skewness=float(skew[0]), target_kurtosis=float(kurt[0]))
    return out


# ----------------------------------------------------------- information theory
def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _discretise(x: np.ndarray) -> np.ndarray:
    """Equal-width bins per column; NaN gets a bin of its own."""
    lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    width = np.where(hi > lo, (hi - lo) / N_BINS, 1.0)
    codes = np.floor((x - lo) / width)
    codes = np.clip(np.nan_to_num(codes, nan=N_BINS), 0, N_BINS).astype(np.int64)
    return codes


def _info_theory(d: PreparedData) -> dict[str, float]:
    rows = d.subsample(INFO_ROWS)
    num, cat = d.columns(INFO_COLUMNS)
    parts = []
    if len(num):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            parts.append(_discretise(d.numeric[rows][:, num]))
    if len(cat):
        parts.append(d.categorical[rows][:, cat] + 1)
    if d.task == "classification":
        target = d.y[rows]
    else:  # regression: the target in quantile bins
        edges = np.quantile(d.y[rows], np.linspace(0, 1, N_BINS + 1)[1:-1])
        target = np.searchsorted(edges, d.y[rows])
    n_t = int(target.max()) + 1
    class_entropy = _entropy(np.bincount(target))
    out = {"class_entropy": class_entropy,
           "class_entropy_normalised": class_entropy / np.log2(n_t) if n_t > 1 else 0.0}
    if not parts:
        return out
    codes = np.hstack(parts)
    attr_ent, mutual = [], []
    for j in range(codes.shape[1]):
        a = codes[:, j]
        n_a = int(a.max()) + 1
        h_a = _entropy(np.bincount(a))
        joint = np.bincount(a * n_t + target, minlength=n_a * n_t)
        attr_ent.append(h_a)
        mutual.append(max(h_a + class_entropy - _entropy(joint), 0.0))
    attr_ent_arr, mi = np.array(attr_ent), np.array(mutual)
    mean_mi = float(mi.mean())
    out.update(
        attribute_entropy_mean=float(attr_ent_arr.mean()),
        mutual_information_mean=mean_mi,
        mutual_information_max=float(mi.max()),
        equivalent_n_attributes=float(min(class_entropy / mean_mi, 1e6)) if mean_mi > 0
        else 0.0,
        noise_signal_ratio=float(min((attr_ent_arr.mean() - mean_mi) / mean_mi, 1e6))
        if mean_mi > 0 else 0.0,
    )
    return out


# ---------------------------------------------------------------- landmarking
def _landmarking(d: PreparedData) -> dict[str, float]:
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    rows = d.subsample(LANDMARK_ROWS)
    x = d.imputed(rows, LANDMARK_COLUMNS)
    y = d.y[rows]
    if x.shape[1] == 0:
        return {}
    std = x.std(axis=0)
    x = StandardScaler().fit_transform(x[:, std > 0]) if (std > 0).any() else x[:, :1] * 0
    clf = d.task == "classification"
    if clf:
        counts = np.bincount(y)
        k = int(min(3, counts[counts > 0].min()))
        if k < 2:
            return {}
        cv = StratifiedKFold(k, shuffle=True, random_state=d.rng_seed)
        scoring = "balanced_accuracy"
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
        from sklearn.naive_bayes import GaussianNB

        models = {
            "landmark_1nn": KNeighborsClassifier(1),
            "landmark_stump": DecisionTreeClassifier(max_depth=1, random_state=0),
            "landmark_naive_bayes": GaussianNB(),
            "landmark_linear": LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
            "landmark_random_node": DecisionTreeClassifier(max_depth=1, max_features=1,
                                                           random_state=0),
            "landmark_elite_nn": KNeighborsClassifier(1),
        }
    else:
        cv = KFold(3, shuffle=True, random_state=d.rng_seed)
        scoring = "r2"
        from sklearn.linear_model import Ridge

        models = {
            "landmark_1nn": KNeighborsRegressor(1),
            "landmark_stump": DecisionTreeRegressor(max_depth=1, random_state=0),
            "landmark_naive_bayes": KNeighborsRegressor(10),  # a smooth local average
            "landmark_linear": Ridge(1.0),
            "landmark_random_node": DecisionTreeRegressor(max_depth=1, max_features=1,
                                                          random_state=0),
            "landmark_elite_nn": KNeighborsRegressor(1),
        }
    out = {}
    # "Elite" 1-NN: 1-NN on the single most informative column (by stump importance).
    stump = models["landmark_stump"].fit(x, y)
    best_col = int(np.argmax(stump.feature_importances_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, model in models.items():
            xm = x[:, [best_col]] if name == "landmark_elite_nn" else x
            out[name] = float(np.mean(cross_val_score(model, xm, y, cv=cv, scoring=scoring)))
    return out


# ---------------------------------------------------------------- model-based
def _model_based(d: PreparedData) -> dict[str, float]:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    rows = d.subsample(TREE_ROWS)
    x = d.imputed(rows, TREE_COLUMNS)
    if x.shape[1] == 0:
        return {}
    cls = DecisionTreeClassifier if d.task == "classification" else DecisionTreeRegressor
    tree = cls(random_state=0, min_samples_leaf=2).fit(x, d.y[rows])
    t = tree.tree_
    leaves = t.children_left == -1
    depth = np.zeros(t.node_count)
    for node in range(t.node_count):  # parents precede children in sklearn's layout
        for child in (t.children_left[node], t.children_right[node]):
            if child != -1:
                depth[child] = depth[node] + 1
    imp = tree.feature_importances_
    used = imp > 0
    return {
        "tree_n_leaves": float(leaves.sum()),
        "tree_depth": float(tree.get_depth()),
        "tree_leaves_per_row": float(leaves.sum() / len(rows)),
        "tree_leaf_depth_mean": float(depth[leaves].mean()),
        "tree_leaf_depth_std": float(depth[leaves].std()),
        "tree_used_feature_share": float(used.mean()),
        "tree_importance_max": float(imp.max()) if imp.size else 0.0,
        "tree_importance_entropy": _entropy(imp) / np.log2(len(imp)) if used.sum() > 1
        else 0.0,
    }


def _neutral(names: str, value: float = 0.0) -> dict[str, float]:
    return dict.fromkeys(names.split(), value)


GROUPS: dict[str, FeatureGroup] = {g.name: g for g in [
    FeatureGroup("simple", {
        **_neutral("n_rows n_features log_n_rows log_n_features n_numeric n_categorical "
                   "categorical_share dimensionality log_dimensionality n_dropped_columns "
                   "missing_share rows_with_missing_share cols_with_missing_share n_classes "
                   "class_min_share class_max_share is_classification"),
        "class_imbalance_ratio": 1.0,
    }, _simple, "sizes, types, missing values, class balance"),
    FeatureGroup("statistical", _neutral(
        "skewness_mean skewness_max skewness_abs_mean kurtosis_mean kurtosis_max "
        "outlier_share zero_share coefficient_of_variation_mean correlation_abs_mean "
        "correlation_abs_max pca_95_share target_skewness target_kurtosis"), _statistical,
        f"moments, outliers (|z| > 3), correlation of up to {CORR_COLUMNS} columns, PCA; "
        f"{STAT_ROWS} rows"),
    FeatureGroup("info_theory", _neutral(
        "class_entropy class_entropy_normalised attribute_entropy_mean "
        "mutual_information_mean mutual_information_max equivalent_n_attributes "
        "noise_signal_ratio"), _info_theory,
        f"entropies and mutual information on {N_BINS} equal-width bins (regression: target "
        f"in {N_BINS} quantile bins); {INFO_ROWS} rows"),
    FeatureGroup("landmarking", _neutral(
        "landmark_1nn landmark_stump landmark_naive_bayes landmark_linear "
        "landmark_random_node landmark_elite_nn"), _landmarking,
        "3-fold CV scores of cheap models (balanced accuracy, or R² for regression: 1-NN, "
        f"stump, naive Bayes / 10-NN, LDA / ridge, random node, 1-NN on the best column); "
        f"{LANDMARK_ROWS} rows"),
    FeatureGroup("model_based", _neutral(
        "tree_n_leaves tree_depth tree_leaves_per_row tree_leaf_depth_mean "
        "tree_leaf_depth_std tree_used_feature_share tree_importance_max "
        "tree_importance_entropy"), _model_based,
        f"shape of a fitted decision tree; {TREE_ROWS} rows"),
]}
