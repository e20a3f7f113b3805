# salesflow: every entry point a developer or a pipeline needs. `make test` and `make demo` bootstrap
# themselves (uv, both virtual environments) on a fresh machine.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
ENV ?= dev
VENV := .venv
FLINK_VENV := .venv-flink
PY := $(VENV)/bin/python
FLINK_PY := $(FLINK_VENV)/bin/python
export UV_PYTHON := 3.11
export UV_PYTHON_DOWNLOADS := never
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup uv lint fmt test test-main test-flink demo clean lint-workflows

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

uv: ## Install uv (pinned) if the machine lacks it
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | uv
	$(UV) sync --locked
	@touch $@

# The Flink harness has its own environment: PyFlink 2.3 pins pyarrow below what pyiceberg needs.
$(FLINK_VENV)/.synced: pyproject.toml uv.lock | uv
	UV_PROJECT_ENVIRONMENT=$(FLINK_VENV) $(UV) sync --locked --no-default-groups --group flink
	@touch $@

setup: $(VENV)/.synced $(FLINK_VENV)/.synced ## Install uv if missing and create both environments
	@command -v java >/dev/null || { echo "Java 17 is required for the local Flink harness (apt-get install openjdk-17-jre-headless)"; exit 1; }

lint: setup ## ruff, sqlfluff (flink dialect) and workflow checks
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lint-workflows: setup ## Audit .github/ offline: zizmor (pedantic) and shellcheck on the pipeline scripts
	$(VENV)/bin/zizmor --offline --persona=pedantic .github/workflows
	$(VENV)/bin/shellcheck --severity=style .github/scripts/*.sh

fmt: setup ## Format Python code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: setup lint test-main test-flink ## Lint and run every test (slow ones included)

test-main: setup
	$(PY) -m pytest --ignore=tests/flink

test-flink: setup
	@if [ -d tests/flink ]; then $(FLINK_PY) -m pytest tests/flink; else echo "no Flink tests yet"; fi

demo: setup ## Run the pipeline end to end on this machine
	$(VENV)/bin/salesflow generate --events 100000 --output .salesflow/events.jsonl
	@echo "Sample events written to .salesflow/events.jsonl. Next: the Flink statement, the Iceberg table and the exporter (see README)."

clean: ## Remove environments, build output and local runs
	rm -rf $(VENV) $(FLINK_VENV) .salesflow out build terraform/cdktf.out .pytest_cache .ruff_cache
