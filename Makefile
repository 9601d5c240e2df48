# Two entry points for a fresh clone (see README "Quick start"):
#   make run    set up .venv and stream a reply (offline demo when no API key is set)
#   make test   set up .venv with test extras and run pytest, ruff and mypy
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.stamp-run
STAMP_TEST := $(VENV)/.stamp-test

.PHONY: run test setup clean browser-deps

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

# stdin is /dev/null: without a PROMPT, `kairos stream` reads a non-terminal stdin
run: $(STAMP_RUN)
	$(BIN)/kairos stream $(ARGS) </dev/null

test: $(STAMP_TEST) browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m ruff check src tests examples benchmarks
	$(BIN)/python -m ruff format --check src tests examples benchmarks
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) build dist .node

# What the browser tests (tests/test_web_browser.py, tests/test_web_ai_sdk.py) need besides the
# test extra (which brings Playwright): Debian's chromium (installed with apt when root) and the
# `ai` npm package in .node/ (when npm is present). Where neither can happen it says so loudly and
# those tests skip with the reason; nothing is downloaded when both are already there.
CHROMIUM ?= /usr/bin/chromium
NODE_AI := .node/node_modules/ai/package.json

browser-deps: $(NODE_AI)
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing chromium with apt-get (for the browser test)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "make: WARNING: $(CHROMIUM) is missing and cannot be installed here (needs root and apt-get): the browser test WILL BE SKIPPED"; \
	  fi; \
	fi

$(NODE_AI):
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --prefix .node --no-audit --no-fund --loglevel=error 'ai@6'; \
	else \
	  echo "make: WARNING: npm is missing: the check against the ai package's own parser WILL BE SKIPPED"; \
	fi

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
