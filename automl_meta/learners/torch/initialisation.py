"""The meta-learned initialisation's artifact: its recipe, its network, and the reader
the ``mlp_meta`` and ``protonet`` learners start from.

:mod:`automl_meta.meta_learning.train` writes artifacts of this format; this module only
reads them (``torch.load(weights_only=True)``: tensors and plain values, no code), once
per process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from ...exceptions import AutoMLError
from .input_map import check_reduce
from .location import INIT_ENV, SHIPPED_INIT, initialisation_reference, shipped_initialisation
from .mlp import _network

# The meta-training algorithms a recipe may name (automl_meta.meta_learning.core).
ALGORITHMS = ("maml", "fomaml", "reptile")
ARTIFACT_FORMAT = 2
# What an artifact meant by a recipe field before the field existed
LEGACY_RECIPE = {"augment": False, "reduce": "random", "synthetic": 0.0, "meta_sgd": False}


@dataclass
class Recipe:
    """Everything that defines a meta-training run (stored in its artifact)."""

    algorithm: str = "reptile"
    width: int = 32
    hidden: int = 128
    layers: int = 2
    n_out: int = 10
    k_shot: int = 5
    n_query: int = 10
    tasks_per_batch: int = 16
    inner_steps: int = 5
    inner_lr: float = 0.1
    outer_lr: float = 1e-3
    steps: int = 1000
    seed: int = 0
    augment: bool = True
    reduce: str = "random"
    synthetic: float = 0.0
    meta_sgd: bool = False
    exclude_families: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, not "
                             f"{self.algorithm!r}.")
        check_reduce(self.reduce)
        if not 0.0 <= self.synthetic <= 1.0:
            raise ValueError(f"synthetic is the share of generated tasks per batch, in "
                             f"[0, 1], not {self.synthetic!r}.")
        if self.meta_sgd and self.algorithm == "reptile":
            raise ValueError("meta_sgd learns the inner learning rates from the query "
                             "loss's gradient through the inner loop, which Reptile does "
                             "not take: use algorithm 'fomaml' or 'maml'.")


def network(recipe: Recipe) -> nn.Module:
    """The meta-learned network: the plain MLP learner's architecture (``layers`` ReLU
    layers of ``hidden`` units, no dropout) with ``n_out`` output units shared by every
    task's classes."""
    return _network(recipe.width, recipe.n_out, recipe.hidden, recipe.layers, dropout=0.0)


def load_initialisation(path: str | Path) -> tuple[nn.Module, dict]:
    """The network of an artifact with its meta-learned weights, and the artifact's
    metadata (recipe, corpus fingerprint, losses, ``inner_lrs``: Meta-SGD's learned inner
    learning rates per weight, or None); refuses another format version."""
    blob = torch.load(Path(path), map_location="cpu", weights_only=True)
    if blob.get("format") != ARTIFACT_FORMAT:
        raise AutoMLError(f"{path} has artifact format {blob.get('format')!r}; this "
                          f"automl-meta reads format {ARTIFACT_FORMAT}. Meta-train again.")
    recipe = Recipe(**{**LEGACY_RECIPE, **blob["recipe"]})
    model = network(recipe)
    model.load_state_dict(blob["state_dict"])
    meta = {k: v for k, v in blob.items() if k != "state_dict"}
    meta.setdefault("inner_lrs", None)  # artifacts from before Meta-SGD
    return model, {**meta, "recipe": asdict(recipe)}  # (with defaults of newer fields)


class Initialisation(NamedTuple):
    """A loaded artifact: the network with its meta-learned weights (do not modify it:
    copy it), its recipe, and Meta-SGD's learned inner learning rates per weight (None
    unless the recipe has ``meta_sgd``)."""

    network: nn.Module
    recipe: dict
    inner_lrs: dict[str, torch.Tensor] | None


_LOADED: dict[tuple[str, int], Initialisation] = {}


def load_cached_initialisation(path: str | Path | None = None) -> Initialisation:
    """:func:`load_initialisation` of ``path`` (default: :func:`shipped_initialisation`),
    read once per process (a worker runs many trials) and re-read when the file changes."""
    path = Path(path) if path is not None else shipped_initialisation()
    if not path.exists():
        raise AutoMLError(
            f"No meta-learned initialisation at {path}: the repository ships "
            f"studies/{SHIPPED_INIT}; set ${INIT_ENV} to another artifact, or create one "
            f"with `automl-meta meta-train --out {path}`.")
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _LOADED:
        model, meta = load_initialisation(path)
        _LOADED.clear()
        _LOADED[key] = Initialisation(model.eval(), meta["recipe"], meta["inner_lrs"])
    return _LOADED[key]


def initialisation_record(path: str | Path) -> dict[str, Any]:
    """What a study records about the initialisation its neural trials started from: the
    file and its digest (:func:`.location.initialisation_reference`), the corpus it was
    meta-trained on and the families it left out."""
    path = Path(path)
    blob = torch.load(path, map_location="cpu", weights_only=True)
    return {**initialisation_reference(path), "file": path.name,
            "corpus": blob.get("corpus"),
            "exclude_families": list(blob["recipe"].get("exclude_families", []))}
