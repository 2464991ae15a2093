"""Per-fold preprocessing pipelines, built from a :class:`~.plan.ColumnPlan`.

Two flavours, chosen by the learner:

* ``"scaled"`` (linear models, k-NN, SVM, MLP): median imputation with missing indicators
  and standard scaling for numbers, one-hot encoding for low-cardinality categories and
  target encoding for high-cardinality ones;
* ``"tree"`` (forests and gradient boosting): numbers pass through with NaN (these learners
  handle missing values natively) and every category is ordinal-encoded.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler, TargetEncoder

from .._types import Task
from .plan import ColumnPlan

PreprocessingKind = Literal["scaled", "tree"]


class NoFeatures(TransformerMixin, BaseEstimator):
    """Outputs a matrix with no columns: used when every input column was dropped."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.zeros((len(X), 0))


def make_preprocessor(plan: ColumnPlan, kind: PreprocessingKind, task: Task):
    """Return an unfitted transformer from the cleaned frame to a float matrix.

    Parameters
    ----------
    plan : ColumnPlan
        The fitted column plan whose output the transformer reads.
    kind : {"scaled", "tree", "native"}
        The learner family's preprocessing (:attr:`LearnerSpec.preprocessing`): one-hot and
        scaled, ordinal codes for trees, or the categories left to the learner.
    task : {"classification", "regression"}
        For the target encoding of high-cardinality columns.

    Examples
    --------
    >>> import pandas as pd, warnings
    >>> warnings.simplefilter("ignore")
    >>> frame = pd.DataFrame({"a": [1.0, None, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    >>> plan = ColumnPlan().fit(frame)
    >>> make_preprocessor(plan, "scaled", "regression").fit_transform(
    ...     plan.transform(frame), [1, 2, 3, 4]).shape
    (4, 4)
    """
    if plan.n_output_columns == 0:
        return NoFeatures()
    # The cleaned frame holds numbers first, then low- and high-cardinality categories:
    # positional slices select them (much faster than names for very wide data).
    n_num, n_low = len(plan.numeric_), len(plan.categorical_low_)
    num = slice(0, n_num)
    low = slice(n_num, n_num + n_low)
    high = slice(n_num + n_low, plan.n_output_columns)
    parts = []
    if kind == "scaled":
        if plan.numeric_:
            parts.append(("num", make_pipeline(
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                StandardScaler()), num))
        if plan.categorical_low_:
            parts.append(("onehot", OneHotEncoder(
                handle_unknown="ignore", sparse_output=False, dtype=np.float64), low))
        if plan.categorical_high_:
            target_type = "continuous" if task == "regression" else "auto"
            parts.append(("target", make_pipeline(
                TargetEncoder(target_type=target_type, random_state=0), StandardScaler()),
                high))
    else:
        if plan.numeric_:
            parts.append(("num", "passthrough", num))
        if plan.categorical_low_ or plan.categorical_high_:
            parts.append(("ordinal", OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64),
                slice(n_num, plan.n_output_columns)))
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)
