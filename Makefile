# Every target sets itself up: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The docs' tools (the `docs` extra) go into the same venv, for `make docs` and `make test`.
DOCS_STAMP := $(VENV)/.installed-docs
# The pre-commit hooks' tools (the `dev` extra): `make hooks`.
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test test-fast lint docs hooks bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/preserve demo

# Warnings are errors (-W), and every one is reported before failing (--keep-going).
docs: $(DOCS_STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

test: $(STAMP) docs
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs
	$(BIN)/python -m pytest -q

# The edit-and-run loop: without the long end-to-end runs, the browser and pywb replay.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser and not replay"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs

hooks: $(DEV_STAMP)
	$(BIN)/pre-commit install

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(if $(WRITE),--write,) $(if $(BIG),--big,)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache docs/_build
