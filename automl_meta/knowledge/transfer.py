"""Export, import and merge knowledge: copy studies between storages, losing nothing.

Every study automl-meta writes carries a ``uid`` user attribute (a UUID set when it is
created). Import skips studies whose ``uid`` the target already holds, so importing twice
changes nothing; a study whose *name* is taken by a different study is imported under
``<name>~<uid[:8]>``. The portable file is a SQLite database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from ..attributes import STUDY_UID
from ..exceptions import StorageError
from .base import studies_by_uid
from .storage import get_storage

logger = logging.getLogger(__name__)


@dataclass
class TransferReport:
    """What a copy did."""

    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)


def copy_studies(source: Any, target: Any) -> TransferReport:
    """Copy every study of ``source`` that ``target`` does not hold yet (by ``uid``).

    Parameters
    ----------
    source : str or optuna storage
        Where the studies are read.
    target : str or optuna storage
        Where they are written.
    """
    src, dst = get_storage(source), get_storage(target)
    have = studies_by_uid(dst)
    taken = set(optuna.get_all_study_names(dst))
    report = TransferReport()
    for summary in optuna.get_all_study_summaries(src, include_best_trial=False):
        name = summary.study_name
        uid = summary.user_attrs.get(STUDY_UID)
        if uid is not None and uid in have:
            report.skipped.append(name)
            continue
        new_name = name
        if name in taken:
            if uid is None:  # an unrelated study without uid: the same name means the same
                report.skipped.append(name)
                continue
            new_name = f"{name}~{uid[:8]}"
            report.renamed[name] = new_name
        optuna.copy_study(from_study_name=name, from_storage=src, to_storage=dst,
                          to_study_name=new_name)
        taken.add(new_name)
        report.copied.append(new_name)
    return report


def export_knowledge(storage: Any, path: str | Path) -> TransferReport:
    """Write every study of ``storage`` into the SQLite file ``path`` (created or merged).

    Parameters
    ----------
    storage : str or optuna storage
        The knowledge to export.
    path : str or Path
        The SQLite file written (merged into when it exists).
    """
    path = Path(path)
    if path.suffix.lower() not in (".db", ".sqlite", ".sqlite3"):
        raise StorageError(f"Export to a SQLite file ending in .db; got {str(path)!r}.")
    return copy_studies(storage, f"sqlite:///{path.resolve()}")


def import_knowledge(path: str | Path, storage: Any) -> TransferReport:
    """Merge the studies of the SQLite file ``path`` into ``storage`` (idempotent).

    Parameters
    ----------
    path : str or Path
        An exported SQLite file.
    storage : str or optuna storage
        Where its studies are merged.
    """
    path = Path(path)
    if not path.is_file():
        raise StorageError(f"Knowledge file not found: {str(path)!r}.")
    return copy_studies(f"sqlite:///{path.resolve()}", storage)
