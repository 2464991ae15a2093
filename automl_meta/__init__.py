"""automl-meta: automatic model selection and tuning where every search is an Optuna study.

>>> from automl_meta import fit, AutoMLClassifier, AutoMLRegressor  # doctest: +SKIP

Heavy modules (scikit-learn, Optuna; torch only for the MLP learner) load on first use:
``import automl_meta`` itself stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .automl import AutoMLClassifier, AutoMLRegressor, fit
    from .warm_start.suggest import suggest_configs

__all__ = ["AutoMLClassifier", "AutoMLRegressor", "fit", "suggest_configs", "__version__"]

_LAZY = {"AutoMLClassifier", "AutoMLRegressor", "fit"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import automl

        return getattr(automl, name)
    if name == "suggest_configs":
        from .warm_start.suggest import suggest_configs

        return suggest_configs
    raise AttributeError(f"module 'automl_meta' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY | {"suggest_configs"})
