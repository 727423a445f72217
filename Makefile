# Every target sets itself up: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# pywb (the replay tests' wayback) pins redis==2.10.6, which Dramatiq's redis>=4 cannot
	# share a venv with: it gets one of its own (tests/replay.py looks there).
	$(PYTHON) -m venv $(VENV)/pywb
	$(VENV)/pywb/bin/pip install --quiet --upgrade pip
	$(VENV)/pywb/bin/pip install --quiet 'pywb>=2.8'
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

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
