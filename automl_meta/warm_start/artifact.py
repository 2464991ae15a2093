"""Save, load and keep current the proposal model artifact.

The artifact is gzipped JSON (no pickle: a shared file cannot run code), with the format
version, the package version, when it was built and a digest of the knowledge base it was
built from. It lives next to the knowledge base: ``studies/warm_start.json.gz`` beside
``studies/knowledge.db``. :func:`load_or_build` rebuilds it when the knowledge base has
grown since (its digest differs) or the format changed.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import AutoMLError
from .build import build_proposal_model
from .model import ARTIFACT_VERSION, ProposalModel, TaskModel

logger = logging.getLogger(__name__)

__all__ = ["FORMAT", "artifact_path", "load_or_build", "load_proposal_model",
           "save_proposal_model"]

FORMAT = "automl-meta/warm-start"
ARTIFACT_NAME = "warm_start.json.gz"


def artifact_path(knowledge_url: str) -> Path | None:
    """Where the artifact of a SQLite knowledge base lives (``None`` for other storages)."""
    if not knowledge_url.startswith("sqlite:///"):
        return None
    db = Path(knowledge_url[len("sqlite:///"):].split("?", 1)[0])
    if db.name == knowledge_url or not db.name:
        return None
    return db.with_name(ARTIFACT_NAME if db.stem == "knowledge"
                        else f"{db.stem}.{ARTIFACT_NAME}")


def save_proposal_model(model: ProposalModel, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``path`` (gzipped JSON); returns the path.

    Parameters
    ----------
    model : ProposalModel
        The model.
    path : str or path-like
        The file written.
    """
    doc: dict[str, Any] = {
        "format": FORMAT, "version": model.version, "package_version": model.package_version,
        "built_at": model.built_at, "knowledge_digest": model.knowledge_digest,
        "knowledge_urls": model.knowledge_urls, "tasks": {}}
    for task, tm in model.tasks.items():
        doc["tasks"][task] = {
            "learners": tm.learners, "feature_names": tm.feature_names,
            "median": tm.median.tolist(), "scale": tm.scale.tolist(),
            "datasets": tm.datasets, "meta": np.round(tm.meta, 6).tolist(),
            "portfolio": tm.portfolio, "n_training_rows": tm.n_training_rows,
            "surrogate": tm.surrogate.model_to_string() if tm.surrogate is not None else None,
            "cost": tm.cost.model_to_string() if tm.cost is not None else None,
        }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    # mtime=0: the same model gives the same bytes.
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(json.dumps(doc, sort_keys=True).encode())
    os.replace(tmp, path)
    return path


def load_proposal_model(path: str | os.PathLike[str]) -> ProposalModel:
    """Read an artifact written by :func:`save_proposal_model`.

    Parameters
    ----------
    path : str or path-like
        The artifact file.

    Raises
    ------
    AutoMLError
        When the file is not a warm-start artifact or has an unsupported version.
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as fh:
            doc = json.loads(fh.read())
    except (OSError, json.JSONDecodeError, EOFError) as exc:
        raise AutoMLError(f"{str(path)!r} is not a readable warm-start artifact ({exc}); "
                          "rebuild it with `automl-meta warm-start build`.") from exc
    if doc.get("format") != FORMAT:
        raise AutoMLError(f"{str(path)!r} is not a warm-start artifact (format "
                          f"{doc.get('format')!r}).")
    if doc.get("version") != ARTIFACT_VERSION:
        raise AutoMLError(
            f"{str(path)!r} has warm-start format version {doc.get('version')}, this "
            f"automl-meta reads version {ARTIFACT_VERSION}; rebuild it with "
            "`automl-meta warm-start build`.")
    model = ProposalModel(knowledge_digest=doc["knowledge_digest"],
                          knowledge_urls=list(doc["knowledge_urls"]), built_at=doc["built_at"],
                          version=doc["version"], package_version=doc["package_version"])
    for task, td in doc["tasks"].items():
        model.tasks[task] = TaskModel(
            task=task, learners=td["learners"], feature_names=td["feature_names"],
            median=np.array(td["median"]), scale=np.array(td["scale"]),
            datasets=td["datasets"], meta=np.array(td["meta"]).reshape(
                len(td["datasets"]), len(td["feature_names"])),
            portfolio=td["portfolio"], surrogate=_booster(td["surrogate"]),
            n_training_rows=td["n_training_rows"], cost=_booster(td["cost"]))
    return model


def _booster(text: str | None) -> Any:
    """A LightGBM booster from its saved text (``None`` stays ``None``)."""
    if text is None:
        return None
    import lightgbm as lgb

    return lgb.Booster(model_str=text)


_DIGESTS: dict[tuple, str] = {}
DIGEST_CACHE_SIZE = 32


def _file_key(kb: Any) -> tuple | None:
    """What identifies the contents of a single SQLite knowledge base without reading it:
    its path, size and modification time (and its write-ahead log's)."""
    if len(kb.urls) != 1 or kb.excluded or kb.excluded_families:
        return None
    url = str(kb.urls[0])
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url[len("sqlite:///"):].split("?", 1)[0]).resolve()
    try:
        stat = path.stat()
    except OSError:
        return None
    wal = Path(f"{path}-wal")
    extra = (wal.stat().st_size, wal.stat().st_mtime_ns) if wal.exists() else ()
    return (str(path), stat.st_size, stat.st_mtime_ns, *extra)


def _digest_cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "automl-meta" / "knowledge-digests.json"


def knowledge_digest(kb: Any) -> str:
    """``kb.digest()``, remembered per file state (in this process and in the user's cache
    directory): reading every study of a large knowledge base to hash it took most of a
    second of each fit's set-up."""
    key = _file_key(kb)
    if key is None:
        return kb.digest()
    if key in _DIGESTS:
        return _DIGESTS[key]
    cache_file = _digest_cache_file()
    stored: dict[str, Any] = {}
    try:
        stored = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        stored = {}
    entry = stored.get(key[0])
    if isinstance(entry, dict) and entry.get("key") == list(key):
        _DIGESTS[key] = str(entry["digest"])
        return _DIGESTS[key]
    digest = _DIGESTS[key] = kb.digest()
    try:
        stored.pop(key[0], None)
        stored[key[0]] = {"key": list(key), "digest": digest}
        stored = dict(list(stored.items())[-DIGEST_CACHE_SIZE:])  # the latest files only
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(stored))
    except OSError:
        pass  # no writable cache directory: this process still remembers it
    return digest


def load_or_build(kb: Any, path: str | os.PathLike[str] | None = None,
                  rebuild: bool = False) -> ProposalModel:
    """The proposal model of knowledge base ``kb``: read from ``path`` when it is current
    (same knowledge digest and format version), else built and, where ``path`` is given
    and writable, saved there.

    Parameters
    ----------
    kb : KnowledgeBase
        The knowledge base.
    path : str or path-like, optional
        The artifact file.
    rebuild : bool, default False
        Build even when the artifact is current.
    """
    digest = knowledge_digest(kb)
    if path is not None and Path(path).exists() and not rebuild:
        try:
            model = load_proposal_model(path)
        except AutoMLError as exc:
            logger.warning("%s Rebuilding it.", exc)
        else:
            if model.knowledge_digest == digest:
                return model
            logger.info("The knowledge base changed since %s was built; rebuilding it.", path)
    model = build_proposal_model(kb)
    if path is not None:
        try:
            save_proposal_model(model, path)
        except OSError as exc:
            logger.warning("Could not save the warm-start model to %s (%s); it is used "
                           "from memory.", path, exc)
    return model
