"""Meta-training an initialisation on the corpus: resumable, with a versioned artifact.

``automl-meta meta-train --algo maml|fomaml|reptile`` samples batches of n-way k-shot
episodes from the corpus's classification datasets (preprocessed as the search's
``"scaled"`` learners see them, then each episode mapped to one input width by an
:class:`.episodes.InputMap` fitted on its support rows, as the learners fit theirs on
their training rows), takes outer steps with :func:`.core.meta_step`, writes a
checkpoint every ``checkpoint_every`` steps (a re-run resumes from it, with the random
state, so an interrupted run ends where an uninterrupted one would), and saves the
weights as an artifact with the recipe and the corpus fingerprint. Artifacts hold only
tensors and plain values and load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .._version import __version__
from ..exceptions import AutoMLError
from .core import ALGORITHMS, InnerLoop, meta_step
from .episodes import check_reduce, sample_episodes
from .location import INIT_ENV, SHIPPED_INIT, shipped_initialisation
from .synthetic import synthetic_task

logger = logging.getLogger(__name__)

ARTIFACT_FORMAT = 2
MAX_ROWS = 2000
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
    from ..learners.torch.mlp import _network

    return _network(recipe.width, recipe.n_out, recipe.hidden, recipe.layers, dropout=0.0)


def scaled_table(X, y) -> tuple[np.ndarray, np.ndarray]:
    """A dataset as the search's ``"scaled"`` learners see it, and class indices.

    The same steps as a trial of ``mlp_meta`` or ``protonet``: :class:`ColumnPlan`
    cleaning, then the ``"scaled"`` preprocessing (imputation with missing indicators,
    standard scaling, one-hot or target encoding); the learner's :class:`InputMap` comes
    after. Meta-training on anything else would hand the search a mismatched start.
    """
    import warnings

    import pandas as pd

    from ..data.plan import ColumnPlan
    from ..data.preprocessing import make_preprocessor

    frame = pd.DataFrame(X).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    labels = pd.factorize(pd.Series(np.asarray(y)).astype(str), sort=True)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = ColumnPlan().fit(frame)
        clean = plan.transform(frame)
        matrix = make_preprocessor(plan, "scaled", "classification").fit_transform(
            clean, labels)
    return np.asarray(matrix, dtype=np.float64), labels


def corpus_tasks(recipe: Recipe, names: list[str] | None = None
                 ) -> tuple[list[tuple[str, np.ndarray, np.ndarray]], str]:
    """``[(name, X as the "scaled" learners see it, y), ...]`` for the corpus's classification
    datasets (not ``recipe.exclude_families``; only ``names`` if given) with at least
    two classes of ``k_shot`` rows, and a fingerprint of that selection."""
    from ..corpus.datasets import corpus_datasets

    rng = np.random.default_rng(recipe.seed)
    tasks = []
    for d in corpus_datasets(["sklearn", "keel"]):
        if d.task != "classification" or d.family in recipe.exclude_families:
            continue
        if names is not None and d.name not in names:
            continue
        X, y = scaled_table(*d.load())
        if len(y) > MAX_ROWS:
            keep = rng.choice(len(y), MAX_ROWS, replace=False)
            X, y = X[keep], y[keep]
        counts = np.bincount(y)
        if (counts >= recipe.k_shot).sum() < 2:
            continue
        tasks.append((d.key, X.astype(np.float32), y))
    if not tasks:
        raise AutoMLError("No corpus classification dataset is left to meta-train on.")
    digest = hashlib.sha256(json.dumps(sorted(
        (name, int(X.shape[0]), int(X.shape[1])) for name, X, _ in tasks)).encode())
    return tasks, digest.hexdigest()[:16]


def _big_enough(y: np.ndarray, k: int) -> np.ndarray:
    """Rows of the classes with at least ``k`` rows."""
    counts = np.bincount(y)
    return np.isin(y, np.flatnonzero(counts >= k))


def meta_train(recipe: Recipe, out: str | Path, *, device: str = "auto",
               checkpoint_every: int = 50, names: list[str] | None = None,
               progress: bool = True) -> Path:
    """Meta-train ``recipe`` and save the artifact to ``out``; resumes from
    ``out``'s checkpoint (``<out>.ckpt``) if there is one of the same recipe."""
    from ..learners.torch.mlp import resolve_device

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)  # the checkpoints go there too
    ckpt = out.with_name(out.name + ".ckpt")
    dev = resolve_device(device)
    tasks, fingerprint = corpus_tasks(recipe, names)
    torch.manual_seed(recipe.seed)
    model = network(recipe).to(dev)
    params = {k: v.detach().clone().requires_grad_(True) for k, v in model.named_parameters()}
    # Meta-SGD: one inner learning rate per weight, starting at inner_lr, learned with them
    lrs = None if not recipe.meta_sgd else {
        k: torch.full_like(v, recipe.inner_lr).requires_grad_(True) for k, v in params.items()}
    optimizer = torch.optim.Adam([*params.values(), *(lrs or {}).values()],
                                 lr=recipe.outer_lr)
    rng = np.random.default_rng(recipe.seed)
    start, losses = 0, []
    if ckpt.exists():
        state = torch.load(ckpt, map_location=dev, weights_only=True)
        if state["recipe"] != asdict(recipe) or state["corpus"] != fingerprint:
            raise AutoMLError(f"{ckpt} is a checkpoint of another recipe or corpus; remove "
                              "it or pick another --out.")
        with torch.no_grad():
            for k, v in state["params"].items():
                params[k].copy_(v)
            for k, v in (state.get("inner_lrs") or {}).items():
                lrs[k].copy_(v)  # type: ignore[index]
        optimizer.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]
        start, losses = state["step"], state["losses"]
        logger.info("Resuming %s from step %d.", ckpt, start)
    inner = InnerLoop(steps=recipe.inner_steps, lr=recipe.inner_lr)
    filtered = []
    for name, X, y in tasks:
        keep = _big_enough(y, recipe.k_shot)
        filtered.append((name, X[keep], y[keep]))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=recipe.steps, initial=start, desc=f"meta-train {recipe.algorithm}",
                   unit="step")
    for step in range(start, recipe.steps):
        picks = rng.choice(len(filtered), size=recipe.tasks_per_batch,
                           replace=len(filtered) < recipe.tasks_per_batch)
        batch = [filtered[i][1:] for i in picks]
        if recipe.synthetic > 0:
            generated = rng.random(len(batch)) < recipe.synthetic
            batch = [synthetic_task(rng, min_rows=recipe.k_shot) if g else t
                     for g, t in zip(generated, batch, strict=True)]
        episodes = sample_episodes(batch, k_shot=recipe.k_shot,
                                   n_query=recipe.n_query, n_out=recipe.n_out, rng=rng,
                                   input_map=(recipe.width, recipe.seed, recipe.reduce),
                                   augment=recipe.augment)
        losses.append(meta_step(model, params, optimizer, episodes.to(dev), inner,
                                recipe.algorithm, lrs=lrs))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(query_loss=f"{np.mean(losses[-20:]):.3f}")
        if (step + 1) % checkpoint_every == 0 and step + 1 < recipe.steps:
            torch.save({"recipe": asdict(recipe), "corpus": fingerprint, "step": step + 1,
                        "params": {k: v.detach().cpu() for k, v in params.items()},
                        "inner_lrs": _cpu(lrs), "optimizer": optimizer.state_dict(),
                        "rng": rng.bit_generator.state, "losses": losses}, ckpt)
    if bar is not None:
        bar.close()
    torch.save({"format": ARTIFACT_FORMAT, "automl_meta_version": __version__,
                "recipe": asdict(recipe), "corpus": fingerprint,
                "tasks": [n for n, _, _ in tasks], "losses": losses,
                "state_dict": {k: v.detach().cpu() for k, v in params.items()},
                "inner_lrs": _cpu(lrs)}, out)
    ckpt.unlink(missing_ok=True)
    return out


def _cpu(tensors: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor] | None:
    return None if tensors is None else {k: v.detach().cpu() for k, v in tensors.items()}


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
