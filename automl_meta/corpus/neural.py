"""The knowledge base's evidence on the meta-learned neural families (``mlp_meta``,
``protonet``), without leaking the corpus into their scores.

The shipped initialisation was meta-trained on the corpus itself, so a neural trial run
with it on a corpus dataset would score a start that has seen that dataset: better than
any new dataset gets, and the warm start would learn to over-propose the neural
families. Instead the corpus families are split into ``n_folds`` folds (sorted by name,
every ``n_folds``-th), one initialisation is meta-trained per fold with the shipped
recipe minus that fold's families, and every dataset's neural trials start from the
initialisation that never saw its family, as a new dataset's start never saw it.

Each dataset evaluates a second shared portfolio, :data:`NEURAL_LEARNERS`' defaults plus
seeded random configurations (:func:`~automl_meta.corpus.build.portfolio`), so the
dataset × configuration matrix stays complete. Resumable like the main build: finished
initialisations and trials are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from .build import BuildSettings, build_knowledge
from .datasets import SOURCES, corpus_datasets

logger = logging.getLogger(__name__)

__all__ = ["NEURAL_LEARNERS", "NEURAL_CONFIGS", "family_folds", "build_neural_knowledge"]

NEURAL_LEARNERS: tuple[str, ...] = ("mlp_meta", "protonet")
NEURAL_CONFIGS = 8  # per task: the families' defaults, then seeded random ones


def family_folds(families: Iterable[str], n_folds: int) -> list[list[str]]:
    """The families sorted by name, every ``n_folds``-th to a fold.

    >>> family_folds(["wine", "iris", "abalone", "glass", "yeast"], 2)
    [['abalone', 'iris', 'yeast'], ['glass', 'wine']]
    """
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, not {n_folds}.")
    names = sorted(set(families))
    return [names[i::n_folds] for i in range(n_folds)]


def build_neural_knowledge(storage: Any, init_dir: str | Path, sources: Iterable[str] = SOURCES,
                           n_folds: int = 5, settings: BuildSettings | None = None,
                           names: Sequence[str] | None = None, recipe: Any = None,
                           device: str = "cpu", progress: bool = True) -> list[str]:
    """Evaluate the neural portfolio on the corpus into ``storage``, each dataset from
    the initialisation meta-trained without its fold of families.

    ``init_dir`` keeps the fold initialisations (``fold-<i>-of-<n>.pt``; about 20 s
    each on two CPU cores, re-used when present), meta-trained with ``recipe`` (default:
    the shipped initialisation's) minus the fold's families. ``settings``' portfolio
    size and learners are replaced by :data:`NEURAL_CONFIGS` and :data:`NEURAL_LEARNERS`;
    its folds, row cap and time limit must be the main build's (default: the same).
    """
    from ..learners.torch.initialisation import (
        Recipe,
        load_initialisation,
        shipped_initialisation,
    )
    from ..meta_learning.train import meta_train
    from .meta_tasks import corpus_tasks

    if recipe is None:
        recipe = Recipe(**load_initialisation(shipped_initialisation())[1]["recipe"])

    datasets = corpus_datasets(sources)
    if names is not None:
        wanted = set(names)
        datasets = [d for d in datasets if d.name in wanted or d.key in wanted]
    folds = family_folds((d.family for d in corpus_datasets(SOURCES)), n_folds)
    init_dir = Path(init_dir)
    base = replace(settings or BuildSettings(), learners=NEURAL_LEARNERS,
                   n_configs=NEURAL_CONFIGS, added_portfolios={})
    results: list[str] = []
    for i, families in enumerate(folds):
        members = [d for d in datasets if d.family in families]
        if not members:
            continue
        fold_recipe = replace(recipe, exclude_families=families)
        path = init_dir / f"fold-{i}-of-{n_folds}.pt"
        if path.exists():
            _, meta = load_initialisation(path)
            if meta["recipe"] != asdict(fold_recipe):
                raise ValueError(f"{path} was meta-trained with another recipe or other "
                                 "folds; remove it or pick another init_dir.")
        else:
            logger.info("Meta-training fold %d of %d without %d families.", i + 1, n_folds,
                        len(families))
            meta_train(fold_recipe, path, corpus_tasks(), device=device, progress=progress)
        results += build_knowledge(storage, sources, replace(base, meta_init=str(path)),
                                   names=[d.key for d in members], progress=progress)
    return results
