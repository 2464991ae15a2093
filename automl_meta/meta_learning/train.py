"""Meta-training an initialisation on the corpus: resumable, with a versioned artifact.

``automl-meta meta-train --algo maml|fomaml|reptile`` samples batches of n-way k-shot
episodes from the classification datasets it is handed (the corpus's, preprocessed as
the search's ``"scaled"`` learners see them: :func:`automl_meta.corpus.meta_tasks.corpus_tasks`;
each episode mapped to one input width by an
:class:`~automl_meta.learners.torch.input_map.InputMap` fitted on its support rows, as the
learners fit theirs on their training rows), takes outer steps with
:func:`.core.meta_step`, writes a checkpoint every ``checkpoint_every`` steps (a re-run
resumes from it, with the random state, so an interrupted run ends where an
uninterrupted one would), and saves the weights as an artifact
(:mod:`automl_meta.learners.torch.initialisation`: the format and its reader) with the
recipe and the datasets' fingerprint. Artifacts hold only tensors and plain values and
load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .._version import __version__
from ..exceptions import AutoMLError
from ..learners.torch.initialisation import ARTIFACT_FORMAT, Recipe, network
from .core import InnerLoop, meta_step
from .episodes import sample_episodes
from .synthetic import synthetic_task

logger = logging.getLogger(__name__)

# What meta-training learns from: ``recipe -> ([(name, X, y), ...], fingerprint)``, X as
# the "scaled" learners see it and y class indices (automl_meta.corpus.meta_tasks makes
# one from the corpus).
MetaTasks = tuple[list[tuple[str, np.ndarray, np.ndarray]], str]
TaskSource = Callable[[Recipe], MetaTasks]


def _big_enough(y: np.ndarray, k: int) -> np.ndarray:
    """Rows of the classes with at least ``k`` rows."""
    counts = np.bincount(y)
    return np.isin(y, np.flatnonzero(counts >= k))


def meta_train(recipe: Recipe, out: str | Path, source: TaskSource, *, device: str = "auto",
               checkpoint_every: int = 50, progress: bool = True) -> Path:
    """Meta-train ``recipe`` on the datasets ``source(recipe)`` gives and save the artifact
    to ``out``; resumes from ``out``'s checkpoint (``<out>.ckpt``) if there is one of the
    same recipe and datasets."""
    from ..learners.torch.mlp import resolve_device

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)  # the checkpoints go there too
    ckpt = out.with_name(out.name + ".ckpt")
    dev = resolve_device(device)
    tasks, fingerprint = source(recipe)
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
