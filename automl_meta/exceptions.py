"""The exception hierarchy of automl-meta.

Every error the library raises on purpose is an :class:`AutoMLError`. Errors about the
user's data also subclass :class:`ValueError` or :class:`TypeError`, so code written
against scikit-learn's conventions catches them as it expects.
"""

from __future__ import annotations

__all__ = [
    "AutoMLError",
    "DataError",
    "DataTypeError",
    "TargetError",
    "ColumnMismatchError",
    "InsufficientMemoryError",
    "StorageError",
    "SearchFailedError",
]


class AutoMLError(Exception):
    """Base class of every error raised by automl-meta."""


class DataError(AutoMLError, ValueError):
    """The input data cannot be used as given (shape, values, missing file or column)."""


class DataTypeError(AutoMLError, TypeError):
    """The input has a type automl-meta does not accept (for example sparse pandas)."""


class TargetError(DataError):
    """The target ``y`` cannot be learned (NaN, a single class, mixed label types...)."""


class ColumnMismatchError(DataError):
    """The columns given at predict time differ from those seen during ``fit``."""


class InsufficientMemoryError(AutoMLError, MemoryError):
    """The data would not fit in the memory available for the search."""


class StorageError(AutoMLError):
    """The study storage cannot be opened, read or written."""


class SearchFailedError(AutoMLError):
    """Every trial of a search failed; the message lists the causes."""
