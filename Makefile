# Two entry points for a fresh clone (see README "Quick start"):
#   make run    set up .venv and stream a reply (offline demo when no API key is set)
#   make test   set up .venv with test extras and run pytest, ruff and mypy
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.stamp-run
STAMP_TEST := $(VENV)/.stamp-test

.PHONY: run test setup clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

setup: $(STAMP_TEST)

run: $(STAMP_RUN)
	$(BIN)/kairos stream $(ARGS)

test: $(STAMP_TEST)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m ruff check src tests examples benchmarks
	$(BIN)/python -m ruff format --check src tests examples benchmarks
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) build dist

# Benchmarks (issue 6): a separate venv with the SDKs and LiteLLM; writes benchmarks/RESULTS.md
BENCH_VENV := .venv-bench
.PHONY: bench
bench:
	test -x $(BENCH_VENV)/bin/python || $(PY) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . -r benchmarks/requirements.txt
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

# kairos batch throughput and memory (issue 16): prints a section for benchmarks/RESULTS.md
.PHONY: bench-batch
bench-batch: $(STAMP_RUN)
	$(BIN)/python benchmarks/batch.py $(BENCH_ARGS)
