# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FILE ?=

.PHONY: run test lint typecheck unit hunt bench install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/schemashift run $(if $(FILE),--file $(FILE),)

lint: $(STAMP)
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench

typecheck: $(STAMP)
	$(PY) -m mypy

unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

test: $(STAMP)
	bash scripts/prepare-test-env.sh $(PY)
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench
	$(PY) -m mypy
	$(PY) -m pytest -q

# property tests with fresh randomness, ROUNDS times (CI replays a fixed sequence)
ROUNDS ?= 20
hunt: $(STAMP)
	for i in $$(seq $(ROUNDS)); do HYPOTHESIS_PROFILE=hunt $(PY) -m pytest tests/unit -q -x -p no:cacheprovider || exit 1; done

bench: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
