"""Study storage and the knowledge base of past experiences built on it."""

from __future__ import annotations

from .base import KnowledgeBase, config_key
from .storage import (
    DEFAULT_STORAGE_ENV,
    default_storage_url,
    get_storage,
    release_storage,
    storage_url,
)
from .transfer import copy_studies, export_knowledge, import_knowledge

__all__ = [
    "DEFAULT_STORAGE_ENV",
    "KnowledgeBase",
    "config_key",
    "copy_studies",
    "default_storage_url",
    "export_knowledge",
    "get_storage",
    "import_knowledge",
    "release_storage",
    "storage_url",
]
