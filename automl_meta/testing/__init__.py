"""Helpers for testing automl-meta and code built on it (fault injection)."""
