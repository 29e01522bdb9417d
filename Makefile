# The two commands a new machine needs: `make demo` and `make test`. Everything else they install themselves
# (a virtual environment in .venv; the SAM CLI in .tools/sam, whose pins clash with ours).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: install demo dev test lint typecheck cfn-lint unit integration e2e sam-build layer-check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## demo: start the local stack, book appointments in the fake Acuity, show each webhook's fate, stop
demo: $(STAMP)
	$(BIN)/acuity-sync demo

## dev: run the local stack until Ctrl-C (writes .acuity-sync/dev.json)
dev: $(STAMP)
	$(BIN)/acuity-sync dev

## test: everything CI runs
test: lint typecheck cfn-lint unit integration e2e sam-build layer-check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy tests scripts bench
	for handler in functions/*/app.py; do $(BIN)/mypy "$$handler" || exit 1; done

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

unit: $(STAMP)
	$(PYTEST) tests/unit -q

integration: $(STAMP)
	$(PYTEST) tests/integration -q -n 2

e2e: $(STAMP)
	$(PYTEST) tests/e2e -q -n 2 --dist loadgroup

## sam-build: the functions and the core layer as Lambda gets them (layers/core/Makefile builds the layer)
sam-build:
	bash scripts/sam-build.sh

## layer-check: read what sam-build left in .aws-sam/build (fails when there is none); python3.13 loads it, so
## pyenv is told about 3.13 as scripts/sam-build.sh tells it
layer-check: $(STAMP)
	PYENV_VERSION="$${PYENV_VERSION:-3.11.7:3.13.0}" $(PYTEST) tests/build -q

bench: $(STAMP)
	$(BIN)/python bench/webhook/run.py

clean:
	rm -rf $(VENV) .tools .aws-sam .acuity-sync .mypy_cache .ruff_cache .hypothesis
