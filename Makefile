# Quick start: `make kit` builds the PDFs into dist/, `make test` runs the tests. Both set up
# what they need first (Debian libraries via scripts/system-deps, a virtualenv in .venv).
#   make kit KIT_ARGS="poster --variant press"     build only some targets
#   make bench BENCH_ARGS="--runs 5"               more runs for steadier medians

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Touched only after a successful install, so the venv is refreshed when pyproject.toml
# changes (or a previous install failed) and left alone otherwise.
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := kit
.DELETE_ON_ERROR:
.PHONY: kit test lint bench clean distclean system-deps test-deps venv

kit: venv
	$(BIN)/pamphleteer build $(KIT_ARGS)

test: venv test-deps
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Phony and cheap (only dpkg queries when nothing is missing), so it runs every time.
system-deps:
	bash scripts/system-deps

# system-deps plus what only the tests need (chromium, for the browser tests).
test-deps:
	bash scripts/system-deps --tests

venv: $(STAMP)

# system-deps is order-only: it must run first, but being phony it must not force a reinstall.
# The pip check (not python) also repairs a venv whose creation died before ensurepip ran.
# pip is upgraded first: --group (dependency groups) needs pip >= 25.1.
$(STAMP): pyproject.toml | system-deps
	[ -x $(BIN)/pip ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/pip install -q -e . --group dev
	touch $@

# Build products and caches; keeps .venv (slow to rebuild) and bench/results (measurements).
clean:
	rm -rf dist .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d \
		-prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
