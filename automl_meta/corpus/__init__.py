"""The offline corpus behind the shipped knowledge base: its datasets and its build."""

from __future__ import annotations

from .datasets import CorpusDataset, corpus_datasets

__all__ = ["CorpusDataset", "corpus_datasets"]
