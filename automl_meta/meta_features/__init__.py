"""Meta-features: describe a dataset as a fixed set of named, finite numbers.

>>> from sklearn.datasets import load_iris
>>> from automl_meta.meta_features import extract
>>> features = extract(*load_iris(return_X_y=True), task="classification")
>>> features["n_rows"], features["n_classes"]
(150.0, 3.0)
"""

from __future__ import annotations

from .extract import GROUPS, extract, extract_prepared, feature_names, neutral_values

__all__ = ["GROUPS", "extract", "extract_prepared", "feature_names", "neutral_values"]
