"""Reading and validating input, task inference, and the preprocessing pipeline."""

from __future__ import annotations

from .fingerprint import dataset_fingerprint
from .loading import load_dataset
from .plan import ColumnPlan, DataWarning
from .prepared import PreparedDataset, prepare_dataset
from .preprocessing import make_preprocessor
from .splits import make_folds
from .task import infer_task
from .validation import check_sample_weight, check_target, check_X, check_X_y

__all__ = [
    "ColumnPlan",
    "DataWarning",
    "PreparedDataset",
    "check_X",
    "check_X_y",
    "check_sample_weight",
    "check_target",
    "dataset_fingerprint",
    "infer_task",
    "load_dataset",
    "make_folds",
    "make_preprocessor",
    "prepare_dataset",
]
