"""Study storage: where every search, and so every past experience, is kept."""

from __future__ import annotations

from .storage import DEFAULT_STORAGE_ENV, default_storage_url, get_storage, storage_url

__all__ = ["DEFAULT_STORAGE_ENV", "default_storage_url", "get_storage", "storage_url"]
