"""Where the meta-learned initialisation is, and how a study refers to it.

No torch here: a search's driver process records which artifact its ``mlp_meta`` and
``protonet`` trials start from (:func:`initialisation_reference`) without loading it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..._system import shipped_file

__all__ = ["INIT_ENV", "SHIPPED_INIT", "initialisation_reference", "shipped_initialisation"]

INIT_ENV = "AUTOML_META_INIT"
SHIPPED_INIT = "meta_init.pt"


def shipped_initialisation() -> Path:
    """The initialisation ``mlp_meta`` and ``protonet`` start from: ``$AUTOML_META_INIT``
    if set; else ``studies/meta_init.pt`` of the source tree the package runs from (the
    repository ships it), or the copy an installed wheel carries; else
    ``./studies/meta_init.pt``."""
    env = os.environ.get(INIT_ENV)
    if env:
        return Path(env)
    return shipped_file("studies", SHIPPED_INIT)


def initialisation_reference(path: str | Path | None = None) -> dict[str, Any]:
    """What a study records of the artifact its neural trials start from (default:
    :func:`shipped_initialisation`): the file and the start of its SHA-256 (None when the
    file is missing: those trials then fail, naming it).

    >>> initialisation_reference("/nonexistent/meta_init.pt")
    {'file': '/nonexistent/meta_init.pt', 'sha256': None}
    """
    path = Path(path) if path is not None else shipped_initialisation()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else None
    return {"file": str(path), "sha256": digest}
