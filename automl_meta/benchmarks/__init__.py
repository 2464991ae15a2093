"""Reproducible benchmarks: ``python -m automl_meta.benchmarks.<name>`` prints a table."""
