"""The built-in learner families, one :class:`LearnerSpec` each: facts, search space,
defaults and estimator factory side by side.

The order of :data:`BUILTIN` is the order of the ``learner`` parameter's choices in every
study (changing it makes stored studies' distributions incompatible); ``default_rank``
orders a fresh search's first wave instead.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from .spec import BuildContext, LearnerSpec

# Seconds per distance term of a brute-force k-NN prediction (one training row, one test
# row, one feature): measured on the 2-core development VM, 3-fold CV of 20,000 and
# 100,000 rows x 50 features (2.1 s and 51 s; fit times 0.01 s and 0.02 s).
KNN_SECONDS_PER_TERM = 1.5e-10
# Histogram gradient boosting stops early (on a 10 % validation split) from this many rows.
HGB_EARLY_STOPPING_ROWS = 500


def _float(low: float, high: float, log: bool = False) -> FloatDistribution:
    return FloatDistribution(low, high, log=log)


def _int(low: int, high: int, log: bool = False) -> IntDistribution:
    return IntDistribution(low, high, log=log)


def _baseline(params: dict[str, Any], c: BuildContext) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return DummyClassifier(strategy="prior") if c.classification else DummyRegressor(
        strategy="mean")


def _linear(params: dict[str, Any], c: BuildContext) -> Any:
    if c.classification:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=params["C"], max_iter=2000)
    from sklearn.linear_model import Ridge

    return Ridge(alpha=params["alpha"], random_state=c.random_state)


def _knn(params: dict[str, Any], c: BuildContext) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    k = int(params["n_neighbors"])
    if c.n_train is not None:
        k = max(1, min(k, c.n_train))
    cls = KNeighborsClassifier if c.classification else KNeighborsRegressor
    return cls(n_neighbors=k, weights=params["weights"], p=int(params["p"]),
               n_jobs=c.n_threads)


def _knn_predict_seconds(n_train: float, n_test: float, n_features: float) -> float:
    """A k-NN fold's prediction: every test row against every training row (scikit-learn
    picks brute force from about 15 features; its trees are faster on fewer)."""
    return KNN_SECONDS_PER_TERM * n_train * n_test * max(n_features, 1.0)


def _svm(params: dict[str, Any], c: BuildContext) -> Any:
    if c.classification:
        from .svm import SVMClassifier

        return SVMClassifier(C=params["C"], gamma=params["gamma"], random_state=c.random_state)
    from sklearn.svm import SVR

    return SVR(C=params["C"], gamma=params["gamma"], epsilon=params["epsilon"])


def _forest(kind: str, params: dict[str, Any], c: BuildContext) -> Any:
    from sklearn import ensemble

    cls = getattr(ensemble, kind + ("Classifier" if c.classification else "Regressor"))
    return cls(n_estimators=int(params["n_estimators"]), max_features=params["max_features"],
               min_samples_leaf=int(params["min_samples_leaf"]), n_jobs=c.n_threads,
               random_state=c.random_state)


def _random_forest(params: dict[str, Any], c: BuildContext) -> Any:
    return _forest("RandomForest", params, c)


def _extra_trees(params: dict[str, Any], c: BuildContext) -> Any:
    return _forest("ExtraTrees", params, c)


def _hist_gradient_boosting(params: dict[str, Any], c: BuildContext) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if c.classification else HistGradientBoostingRegressor
    return cls(learning_rate=params["learning_rate"], max_iter=int(params["max_iter"]),
               max_leaf_nodes=int(params["max_leaf_nodes"]),
               min_samples_leaf=int(params["min_samples_leaf"]),
               l2_regularization=params["l2_regularization"],
               # max_iter is an upper bound: stop when 10% held-out rows stop improving
               # (with enough rows for a meaningful held-out split).
               early_stopping=c.n_train is None or c.n_train >= HGB_EARLY_STOPPING_ROWS,
               validation_fraction=0.1, n_iter_no_change=10, random_state=c.random_state)


def _lightgbm(params: dict[str, Any], c: BuildContext) -> Any:
    from lightgbm import LGBMClassifier, LGBMRegressor

    cls = LGBMClassifier if c.classification else LGBMRegressor
    return cls(n_estimators=int(params["n_estimators"]),
               learning_rate=params["learning_rate"], num_leaves=int(params["num_leaves"]),
               min_child_samples=int(params["min_child_samples"]),
               subsample=params["subsample"], subsample_freq=1,
               colsample_bytree=params["colsample_bytree"], reg_lambda=params["reg_lambda"],
               n_jobs=c.n_threads, random_state=c.random_state, verbose=-1)


def _catboost(params: dict[str, Any], c: BuildContext) -> Any:
    from .catboost import CatBoostClassifierLearner, CatBoostRegressorLearner

    cls = CatBoostClassifierLearner if c.classification else CatBoostRegressorLearner
    return cls(iterations=int(params["iterations"]), learning_rate=params["learning_rate"],
               depth=int(params["depth"]), l2_leaf_reg=params["l2_leaf_reg"],
               n_numeric=c.n_numeric, thread_count=c.n_threads, random_state=c.random_state)


def _mlp(params: dict[str, Any], c: BuildContext) -> Any:
    from .torch.mlp import TorchMLPClassifier, TorchMLPRegressor

    cls = TorchMLPClassifier if c.classification else TorchMLPRegressor
    return cls(hidden_size=int(params["hidden_size"]), n_layers=int(params["n_layers"]),
               dropout=params["dropout"], learning_rate=params["learning_rate"],
               weight_decay=params["weight_decay"], epochs=int(params["epochs"]),
               batch_size=int(params["batch_size"]), random_state=c.random_state,
               n_threads=c.n_threads, device=c.device)


def _mlp_meta(params: dict[str, Any], c: BuildContext) -> Any:
    from .torch.meta import MetaMLPClassifier, MetaMLPRegressor

    common = dict(steps=int(params["steps"]), learning_rate=params["learning_rate"],
                  adapt=params["adapt"], views=int(params.get("views", 1)), init=c.meta_init,
                  random_state=c.random_state, n_threads=c.n_threads, device=c.device)
    if c.classification:
        return MetaMLPClassifier(head=params["head"], **common)
    return MetaMLPRegressor(**common)


def _protonet(params: dict[str, Any], c: BuildContext) -> Any:
    from .torch.meta import ProtoNetClassifier

    return ProtoNetClassifier(distance=params["distance"], temperature=params["temperature"],
                              init=c.meta_init, random_state=c.random_state,
                              n_threads=c.n_threads, device=c.device)


_FOREST_SPACE = {
    "n_estimators": _int(50, 400, log=True),
    "max_features": _float(0.1, 1.0),
    "min_samples_leaf": _int(1, 20, log=True),
}
_FOREST_DEFAULTS = {"n_estimators": 100, "max_features": 0.5, "min_samples_leaf": 1}

BUILTIN: tuple[LearnerSpec, ...] = (
    LearnerSpec("baseline", "tree", "predicts the class prior or the mean (no search)",
                _baseline, space={"any": {}}, searched=False),
    LearnerSpec(
        "linear", "scaled", "logistic regression / ridge regression", _linear,
        space={"classification": {"C": _float(1e-4, 1e3, log=True)},
               "regression": {"alpha": _float(1e-4, 1e3, log=True)}},
        defaults={"C": 1.0, "alpha": 1.0}, default_rank=1),
    LearnerSpec(
        "knn", "scaled", "k-nearest neighbours", _knn, sample_weight=False,
        predict_seconds=_knn_predict_seconds,
        space={"any": {"n_neighbors": _int(1, 50, log=True),
                       "weights": CategoricalDistribution(["uniform", "distance"]),
                       "p": _int(1, 2)}},
        defaults={"n_neighbors": 5, "weights": "uniform", "p": 2}, default_rank=4),
    LearnerSpec(
        "svm", "scaled", "RBF-kernel SVM (Platt-calibrated for probabilities)", _svm,
        max_rows=10_000,
        space={"classification": {"C": _float(1e-2, 1e3, log=True),
                                  "gamma": _float(1e-4, 1.0, log=True)},
               "regression": {"C": _float(1e-2, 1e3, log=True),
                              "gamma": _float(1e-4, 1.0, log=True),
                              "epsilon": _float(1e-3, 1.0, log=True)}},
        defaults={"C": 1.0, "gamma": 0.01, "epsilon": 0.1}, default_rank=7),
    LearnerSpec("random_forest", "tree", "random forest", _random_forest,
                space={"any": _FOREST_SPACE}, defaults=_FOREST_DEFAULTS, default_rank=2),
    LearnerSpec("extra_trees", "tree", "extremely randomised trees", _extra_trees,
                space={"any": _FOREST_SPACE}, defaults=_FOREST_DEFAULTS, default_rank=5),
    LearnerSpec(
        "hist_gradient_boosting", "tree", "scikit-learn histogram gradient boosting",
        _hist_gradient_boosting,
        space={"any": {"learning_rate": _float(0.01, 0.3, log=True),
                       "max_iter": _int(50, 500, log=True),
                       "max_leaf_nodes": _int(8, 128, log=True),
                       "min_samples_leaf": _int(2, 100, log=True),
                       "l2_regularization": _float(1e-6, 10.0, log=True)}},
        defaults={"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31,
                  "min_samples_leaf": 20, "l2_regularization": 1e-6}, default_rank=3),
    LearnerSpec(
        "lightgbm", "tree", "LightGBM gradient boosting", _lightgbm,
        space={"any": {"n_estimators": _int(50, 1000, log=True),
                       "learning_rate": _float(0.01, 0.3, log=True),
                       "num_leaves": _int(8, 256, log=True),
                       "min_child_samples": _int(2, 100, log=True),
                       "subsample": _float(0.5, 1.0),
                       "colsample_bytree": _float(0.3, 1.0),
                       "reg_lambda": _float(1e-6, 10.0, log=True)}},
        defaults={"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31,
                  "min_child_samples": 20, "subsample": 1.0, "colsample_bytree": 1.0,
                  "reg_lambda": 1e-6}, default_rank=0),
    LearnerSpec(
        "catboost", "tree",
        "CatBoost gradient boosting (native handling of categorical columns)", _catboost,
        space={"any": {"iterations": _int(50, 1000, log=True),
                       "learning_rate": _float(0.01, 0.3, log=True),
                       "depth": _int(4, 8),
                       "l2_leaf_reg": _float(0.5, 30.0, log=True)}},
        defaults={"iterations": 300, "learning_rate": 0.08, "depth": 6, "l2_leaf_reg": 3.0},
        default_rank=6),
    LearnerSpec(
        "mlp", "scaled", "torch multi-layer perceptron (random initialisation)", _mlp,
        torch=True,
        space={"any": {"hidden_size": _int(16, 256, log=True),
                       "n_layers": _int(1, 3),
                       "dropout": _float(0.0, 0.5),
                       "learning_rate": _float(1e-4, 1e-2, log=True),
                       "weight_decay": _float(1e-6, 1e-2, log=True),
                       "epochs": _int(5, 100, log=True),
                       "batch_size": CategoricalDistribution([32, 64, 128, 256])}},
        defaults={"hidden_size": 64, "n_layers": 2, "dropout": 0.1, "learning_rate": 1e-3,
                  "weight_decay": 1e-5, "epochs": 20, "batch_size": 64}, default_rank=8),
    # From the meta-learned initialisation (automl_meta.learners.torch.meta): SGD steps as
    # in meta-training's inner loop; adapt every layer or the output layer only; the output
    # layer starts from the meta-learned units or from the class prototypes; how many
    # views of the inputs to fine-tune and average.
    LearnerSpec(
        "mlp_meta", "scaled", "torch MLP fine-tuned from the meta-learned initialisation",
        _mlp_meta, torch=True, meta_init=True,
        space={"classification": {"steps": _int(1, 300, log=True),
                                  "learning_rate": _float(0.01, 1.0, log=True),
                                  "adapt": CategoricalDistribution(["all", "head"]),
                                  "head": CategoricalDistribution(["meta", "prototypes"]),
                                  "views": _int(1, 8)},
               "regression": {"steps": _int(1, 300, log=True),
                              "learning_rate": _float(0.01, 1.0, log=True),
                              "adapt": CategoricalDistribution(["all", "head"]),
                              "views": _int(1, 8)}},
        defaults={"steps": 25, "learning_rate": 0.1, "adapt": "all", "head": "meta",
                  "views": 5}, default_rank=10),
    LearnerSpec(
        "protonet", "scaled",
        "prototypical network on the meta-learned encoder (no gradient steps)", _protonet,
        tasks=("classification",), torch=True, meta_init=True,
        space={"classification": {"distance": CategoricalDistribution(["euclidean", "cosine"]),
                                  "temperature": _float(0.05, 20.0, log=True)}},
        defaults={"distance": "euclidean", "temperature": 1.0}, default_rank=9),
)
