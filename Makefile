# The README's commands. Each target installs what it uses, and only that, from uv.lock into .venv (created on first
# use), so a fresh clone needs nothing but Python 3.11+ (and Node.js for `make test`). No target needs the venv to be
# activated.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# uv, installed with pip from the hash-pinned tools/requirements-uv.txt; it then installs the rest from uv.lock.
# Inside .venv so that deleting the venv also forgets it.
UV_HOME := $(VENV)/tools/uv
UV := $(UV_HOME)/bin/uv
# checkov pins boto3 1.35 and packaging 23, which clash with the function's SDK and the tools: it gets a virtualenv of
# its own.
CHECKOV_VENV := $(VENV)/tools/checkov
# The Lambda runtime's Python: python3.13 on PATH if it runs (a pyenv shim may not), else pyenv's newest 3.13.
PYTHON313 := $(shell for p in "$$(command -v python3.13)" \
  "$$(PYENV_VERSION="$$(pyenv latest 3.13 2>/dev/null)" pyenv which python3.13 2>/dev/null)"; do \
  [ -n "$$p" ] && "$$p" -c '' 2>/dev/null && { echo "$$p"; break; }; done)
# The venv's Python: 3.13 when there is one, else python3 (3.11 or newer).
PYTHON ?= $(or $(PYTHON313),$(shell command -v python3))
# make run PORT=8080 when 3000 is taken; likewise the demo page, the sign-in service (Cognito) and the portal stand-in.
PORT ?= 3000
DEMO_PORT ?= 3001
COGNITO_PORT ?= 3002
PORTAL_PORT ?= 3003
LAMBDA_PORT ?= 3004
# make token USER=<demo user's email> (USER is also your login name: anything without an @ means the claim user).
TOKEN_USER = $(if $(findstring @,$(USER)),$(USER),claim-user@example.com)
# The artifact tier's aarch64 CPython 3.13 (Debian arm64 packages, run under qemu-user) and the runtime interface
# client for it (tests/artifact). Both inside .venv: deleting the venv forgets them.
AARCH64_ROOT := $(VENV)/tools/aarch64-python
AWSLAMBDARIC := $(VENV)/tools/awslambdaric
PYTEST_ARGS ?=

# uv never downloads a Python (only packages, from PyPI), and installs exactly what uv.lock says: --locked fails when
# pyproject.toml changed without `make lock`. --inexact: a target adds its group and leaves the others installed.
export UV_PYTHON_DOWNLOADS := never
# pyproject.toml declares checkov's group in conflict with the project itself (the function ships boto3 1.43, checkov
# pins 1.35): uv calls conflicts with a package a preview feature, and says so on every run unless it is named here.
export UV_PREVIEW_FEATURES := package-conflicts
SYNC := $(UV) sync --locked --inexact --no-default-groups
# sam build (BuildMethod makefile) runs python3.13 from PATH; tools run from the venv without activating it.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv run token test unit integration check put-key check-deploy lint format typecheck validate build deploy bench load lock clean \
  deps-run deps-lint deps-typecheck deps-dev deps-sam deps-checkov deps-node deps-artifact artifact

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# --- environments (each target below names the ones it uses) ---

$(BIN)/python:
	@[ -n "$(PYTHON)" ] || { echo "No python3 found: install Python 3.11 or newer (3.13 is the Lambda runtime's)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "$(PYTHON) is older than Python 3.11: run make PYTHON=/path/to/python3.13" >&2; exit 1; }
	@echo "Creating $(VENV) with $$($(PYTHON) -V)"
	$(PYTHON) -m venv $(VENV)

$(UV): tools/requirements-uv.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --upgrade \
	  --require-hashes --no-deps --only-binary=:all: --target $(UV_HOME) -r $<
	@touch $@

deps-run: $(UV) # the function's dependencies (the layer) and the local stand-ins
	@$(SYNC) --group local

deps-lint: $(UV)
	@$(SYNC) --group lint

deps-typecheck: $(UV)
	@$(SYNC) --group local --group lint

deps-dev: $(UV) # everything the test suite imports (browser: Playwright, driving the system Chromium)
	@$(SYNC) --group local --group lint --group test --group browser

deps-sam: $(UV)
	@$(SYNC) --group sam

deps-checkov: $(UV)
	@UV_PROJECT_ENVIRONMENT=$(CHECKOV_VENV) $(UV) sync --locked --only-group checkov --python $(BIN)/python

deps-node: $(if $(wildcard package-lock.json),node_modules/.installed.stamp)

node_modules/.installed.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The artifact tier: qemu-user-static (apt, when missing) and the aarch64 root (tools/aarch64-python.sh), then
# awslambdaric's aarch64 wheels, hash-checked from uv.lock. Without qemu (no root, no sudo) the tier skips with one line
# saying so; under CI (CI set) this target fails instead.
deps-artifact: $(AWSLAMBDARIC)/.complete
	@PYTHON313="$(PYTHON313)" tools/aarch64-python.sh $(AARCH64_ROOT) \
	  || { [ -z "$$CI" ] && echo "make deps-artifact: no aarch64 Python under qemu here; tests/artifact will skip" >&2; }

$(AWSLAMBDARIC)/.complete: uv.lock | $(UV)
	rm -rf $(AWSLAMBDARIC)
	$(UV) export --locked --quiet --only-group artifact --no-emit-project --no-header --no-annotate > $(VENV)/tools/awslambdaric.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-warn-conflicts \
	  --require-hashes --only-binary=:all: --implementation cp --python-version 3.13 \
	  --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 --target $(AWSLAMBDARIC) \
	  -r $(VENV)/tools/awslambdaric.txt
	@touch $@

venv: deps-dev deps-sam deps-checkov deps-node deps-artifact ## Install everything every target uses (.venv, npm ci, checkov, aarch64 Python)

lock: $(UV) ## After editing dependencies in pyproject.toml: re-resolve uv.lock, export the layer's requirements
	$(UV) lock
	@{ sed -n '/^#/p;/^#/!q' layers/dependencies/requirements.txt; \
	  $(UV) export --locked --quiet --no-default-groups --no-emit-project --no-header --no-annotate; \
	} > layers/dependencies/requirements.txt.new
	mv layers/dependencies/requirements.txt.new layers/dependencies/requirements.txt

# --- the developer loop ---

run: deps-run ## Local API on 127.0.0.1:3000, demo page :3001, Lambda Invoke API :3004 (PORT=, DEMO_PORT=, LAMBDA_PORT=...)
	PYTHONPATH=functions $(BIN)/python -m local.server --port $(PORT) --demo-port $(DEMO_PORT) \
	  --cognito-port $(COGNITO_PORT) --portal-port $(PORTAL_PORT) --lambda-port $(LAMBDA_PORT)

token: ## Print a demo user's ID token from the running `make run` (USER=email-user@example.com; COGNITO_PORT=)
	@PYTHONPATH=$(CURDIR) $(BIN)/python -m local.token --endpoint http://127.0.0.1:$(COGNITO_PORT) $(TOKEN_USER)

test: deps-dev deps-sam deps-checkov deps-node deps-artifact ## The whole test suite (no AWS account, no Docker, no internet)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: deps-dev ## The unit tests and the repository's checks: no server, no subprocess (seconds)
	$(BIN)/python -m pytest tests/unit tests/repo $(PYTEST_ARGS)

integration: deps-dev deps-sam deps-checkov deps-node ## The real handler, local servers, Prism, the template's tools (minutes)
	$(BIN)/python -m pytest tests/integration tests/security tests/local tests/contract tests/infrastructure $(PYTEST_ARGS)

lint: deps-lint ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: deps-lint ## ruff: apply the safe fixes, then format (what is left to fix by hand is listed)
	-$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: deps-typecheck ## mypy on the function package
	$(BIN)/mypy functions

validate: deps-sam ## sam validate with cfn-lint
	$(BIN)/sam validate --lint

# The layer and the function are built with python3.13 from PATH (bytecode is version-specific, and the layer's
# Makefile runs its pip): the venv's when the venv is 3.13, else the one found above, ahead of any pyenv shim.
# The SBOM lists exactly what the layer installs: layers/dependencies/requirements.txt, exported from uv.lock with the
# hashes pip checks at build time; the root component is this project (pyproject.toml), whose code is functions/.
SBOM := .aws-sam/sbom.cdx.json
build: deps-sam ## sam build: function + dependencies layer (arm64 wheels) into .aws-sam/, and its SBOM
	@[ -n "$(PYTHON313)" ] || { echo "sam build needs Python 3.13 (the Lambda runtime) as python3.13 on PATH;" \
	  "none runs here. Install it (e.g. pyenv install 3.13) and try again." >&2; exit 1; }
	PATH="$(CURDIR)/$(BIN):$(dir $(PYTHON313)):$$PATH" $(BIN)/sam build
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/cyclonedx-py requirements --pyproject pyproject.toml --mc-type application --of JSON \
	  --output-reproducible -o $(SBOM) layers/dependencies/requirements.txt
	@echo "SBOM (CycloneDX) of what ships: $(SBOM)"

deploy: build ## Build, then deploy asking only the essentials (stack, region, sign-in, domain), store the API key, check
	@PYTHONPATH=functions $(BIN)/python -m tools.stack deploy

put-key: deps-sam ## Store the Paddle API key in the stack's secret (asked without echo), then check the stack
	@PYTHONPATH=functions $(BIN)/python -m tools.stack put-key $(if $(STACK),--stack $(STACK))

check-deploy: deps-sam ## What is wrong with a deployed stack's key (readable, its Paddle environment, permissions), in one line
	@PYTHONPATH=functions $(BIN)/python -m tools.stack check $(if $(STACK),--stack $(STACK))

# The artifact tier alone: builds first, then runs .aws-sam/build on aarch64 Python 3.13 under qemu (tests/artifact).
artifact: build deps-dev deps-artifact ## sam build, then run the built artifact on emulated arm64 through awslambdaric
	$(BIN)/python -m pytest tests/artifact $(PYTEST_ARGS)

load: deps-dev ## Load scenarios on 127.0.0.1: throttles, retry budget, one customer flooding (docs/operations.md)
	PYTHONPATH=functions $(BIN)/python -m load $(LOAD_ARGS)

bench: deps-dev ## Cold start and warm path beside a no-op floor and a typical Powertools function (bench/README.md)
	$(BIN)/python -m bench $(BENCH_ARGS)

# What CI runs (.ci/run calls it): every check, each one even after another failed; fails if any failed. build comes
# before test: the artifact tier (tests/artifact) runs what it built.
CHECKS := lint typecheck validate build layer-arm64 test
check: ## Everything CI runs, in the same way
	@failed=(); for check in $(CHECKS); do \
	  echo "=== make $$check"; started=$$SECONDS; \
	  if $(MAKE) --no-print-directory $$check; then echo "=== ok ($$((SECONDS - started)) s): make $$check"; \
	  else echo "=== FAILED ($$((SECONDS - started)) s): make $$check"; failed+=("$$check"); fi; \
	done; \
	if (( $${#failed[@]} )); then echo "failed: $${failed[*]}"; exit 1; fi; echo "all checks passed"

# The layer must carry arm64 wheels (BuildArchitecture), or the function cannot import pydantic-core.
.PHONY: layer-arm64
layer-arm64:
	@compgen -G ".aws-sam/build/DependenciesLayer/python/pydantic_core/*aarch64*.so" >/dev/null \
	  || { echo "no arm64 pydantic-core in .aws-sam/build/DependenciesLayer (run make build)" >&2; exit 1; }

clean: ## Remove build output and tool caches (keeps .venv)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
