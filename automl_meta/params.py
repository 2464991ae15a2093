"""Checks of the search's settings (budgets, folds, seeds, workers): a clear error for what
is meaningless, a warning for what is adjusted, never a silent change.

Used by the estimators' ``fit`` and by the command line, so both say the same thing.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from .exceptions import AutoMLError

__all__ = ["ParameterError", "check_count", "check_seconds", "check_cv", "check_seed",
           "MAX_CV_FOLDS", "MAX_SECONDS"]

# More folds than this buys nothing a user can see and multiplies every trial's cost.
MAX_CV_FOLDS = 20
# Longer than this (about 116 days) is no budget a search can keep track of.
MAX_SECONDS = 1e7


class ParameterError(AutoMLError, ValueError):
    """A setting of the search (budget, folds, seed, workers) is out of its range."""


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_count(name: str, value: Any, *, minimum: int = 1, allow_none: bool = True
                ) -> int | None:
    """A whole number of at least ``minimum`` (or None where allowed).

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        The value given.
    minimum : int, default 1
        The smallest value allowed.
    allow_none : bool, default True
        Whether None (no limit) is allowed.

    Examples
    --------
    >>> check_count("n_trials", 5), check_count("n_trials", None)
    (5, None)
    >>> try:
    ...     check_count("n_trials", 2.5)
    ... except ValueError as exc:
    ...     print(exc)
    n_trials must be a whole number of at least 1 (or None), not 2.5.
    """
    if value is None and allow_none:
        return None
    whole = _is_number(value) and math.isfinite(float(value)) and float(value) == int(value)
    if not whole or int(value) < minimum:
        none = " (or None)" if allow_none else ""
        raise ParameterError(f"{name} must be a whole number of at least {minimum}{none}, "
                             f"not {value!r}.")
    return int(value)


def check_seconds(name: str, value: Any, *, allow_none: bool = True) -> float | None:
    """A finite, positive number of seconds (or None where allowed).

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        The value given.
    allow_none : bool, default True
        Whether None (no limit) is allowed.

    Examples
    --------
    >>> check_seconds("time_budget", 15)
    15.0
    >>> try:
    ...     check_seconds("time_budget", float("inf"))
    ... except ValueError as exc:
    ...     print(str(exc)[:50])
    time_budget must be a finite number of seconds abo
    """
    if value is None and allow_none:
        return None
    if not _is_number(value) or not 0 < float(value) <= MAX_SECONDS:
        none = " (or None for no limit)" if allow_none else ""
        raise ParameterError(f"{name} must be a finite number of seconds above 0{none}, "
                             f"not {value!r}.")
    return float(value)


def check_cv(value: Any, n_rows: int | None = None) -> int:
    """Cross-validation folds: 2 to :data:`MAX_CV_FOLDS`, or fewer rows than that.

    Parameters
    ----------
    value : object
        The folds given.
    n_rows : int, optional
        Rows of the data: fewer rows than folds lowers the folds, with a warning.
    """
    folds = check_count("cv", value, minimum=2, allow_none=False)
    assert folds is not None
    if folds > MAX_CV_FOLDS:
        raise ParameterError(f"cv must be at most {MAX_CV_FOLDS} folds, not {folds}.")
    if n_rows is not None and folds > n_rows:
        warnings.warn(f"cv={folds} folds for {n_rows} rows: using {max(2, n_rows)} folds.",
                      UserWarning, stacklevel=3)
    return folds


def check_seed(value: Any) -> int:
    """``random_state``: a whole number; None is refused, since every search is seeded
    (reproducible by default).

    Parameters
    ----------
    value : object
        The seed given.

    Examples
    --------
    >>> check_seed(0)
    0
    """
    if value is None:
        raise ParameterError("random_state must be a whole number: every search is seeded "
                             "(reproducible by default); pass e.g. random_state=0.")
    seed = check_count("random_state", value, minimum=0, allow_none=False)
    assert seed is not None
    return seed
