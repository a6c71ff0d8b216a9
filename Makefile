# The README's commands. Everything runs from the project's virtualenv (.venv), created on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# Inside .venv so that deleting the venv also forgets that it was installed.
STAMP := $(VENV)/requirements.stamp
REQUIREMENTS := requirements-dev.txt layers/dependencies/requirements.txt
# The Lambda runtime's Python (3.13) from pyenv when it has it, else the system python3 (must be >= 3.11).
PYTHON ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3)
# Node tooling for the contract tests (Prism), installed from package-lock.json when the project has one.
NODE_STAMP := $(if $(wildcard package-lock.json),node_modules/.installed.stamp)
# sam build (BuildMethod python3.13) looks for python3.13 on PATH; the venv provides it.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv run test lint typecheck validate build deploy clean bench

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# checkov pins versions that clash with ours (boto3, urllib3, packaging): it gets a virtualenv of its own.
CHECKOV := $(VENV)/tools/checkov/bin/checkov

venv: $(STAMP) $(NODE_STAMP) $(CHECKOV) ## Create .venv, install requirements-dev.txt (and npm ci); again only when they change

$(STAMP): $(REQUIREMENTS)
	@if [ ! -x $(BIN)/python ]; then \
	  [ -n "$(PYTHON)" ] || { echo "No python3 found" >&2; exit 1; }; \
	  $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	    || { echo "$(PYTHON) is older than Python 3.11" >&2; exit 1; }; \
	  echo "Creating $(VENV) with $$($(PYTHON) -V)"; \
	  $(PYTHON) -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(CHECKOV): tests/security/requirements-checkov.txt | $(STAMP)
	$(BIN)/python -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/pip install --quiet --disable-pip-version-check -r $<
	@touch $@

node_modules/.installed.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: venv ## Local HTTP API on 127.0.0.1 with a fake Paddle and Secrets Manager (real sandbox with PADDLE_API_KEY)
	PYTHONPATH=functions $(BIN)/python -m local.server

test: venv ## The whole test suite (no AWS account, no Docker, no internet)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv ## mypy on the function package
	$(BIN)/mypy functions

validate: venv ## sam validate with cfn-lint
	$(BIN)/sam validate --lint

build: venv ## sam build: function + dependencies layer (arm64 wheels) into .aws-sam/
	$(BIN)/sam build

deploy: build ## Build, then deploy interactively (asks for stack name, region, parameters)
	$(BIN)/sam deploy --guided

bench: venv ## Cold start and warm path beside a no-op floor and a typical Powertools function (bench/README.md)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean: ## Remove build output and tool caches (keeps .venv)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
