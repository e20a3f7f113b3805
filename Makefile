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
CHECKOV_VENV := .venv-checkov
PYCACHE := $(abspath .salesflow/cache/pycache)
VENV_BYTECODE := $(PYCACHE)/$(VENV).compiled $(PYCACHE)/$(FLINK_VENV).compiled $(PYCACHE)/$(CHECKOV_VENV).compiled
SYNTH_OUT := terraform/cdktf.out
export UV_PYTHON := 3.11
export UV_PYTHON_DOWNLOADS := never
# Bytecode goes to a cache outside the tree (no __pycache__ beside the sources, none in a Lambda zip), and it
# is written even where the caller's environment says not to.
export PYTHONPYCACHEPREFIX := $(PYCACHE)
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup uv strip-tools lint fmt test test-main test-flink demo clean bench-sql synth scan package bench-exporter lint-workflows bootstrap doctor

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

# checkov has its own pinned environment (tools/checkov/uv.lock): its dependency tree stays out of uv.lock.
$(CHECKOV_VENV)/.synced: tools/checkov/pyproject.toml tools/checkov/uv.lock | uv
	UV_PROJECT_ENVIRONMENT=$(abspath $(CHECKOV_VENV)) $(UV) sync --locked --project tools/checkov
	@touch $@

# Every Python process (each pytest-xdist worker, each `python -m exporter` or CLI subprocess, each synth,
# each checkov or local Flink run) reads its bytecode from $(PYCACHE), so none compiles what another already
# did: pytest's rewritten test modules (~6 s a worker), a synth's cdktf bindings (~30 s once), a checkov run's
# libraries (~6 s). Each environment's libraries are compiled once per sync, in parallel, so the first test
# run's processes do not all compile the same files at once.
$(PYCACHE)/%.compiled: %/.synced
	@site=$$($*/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	$*/bin/python -m compileall -q -j 0 "$$site" >/dev/null
	@touch $@

setup: $(VENV)/.synced $(FLINK_VENV)/.synced $(CHECKOV_VENV)/.synced $(VENV_BYTECODE) ## Install uv if missing and create the environments
	@command -v java >/dev/null || { echo "Java 17 is required for the local Flink harness (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@# The Iceberg REST OpenAPI document the REST catalog twin is checked against (from PyPI, SHA-256 pinned, cached
	@# under .salesflow/: never committed).
	@$(PY) tests/iceberg_rest_contract.py

lint: setup ## ruff, sqlfluff (flink dialect) and workflow checks
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/salesflow sql lint
	$(VENV)/bin/salesflow sql lock --check
	$(MAKE) lint-workflows

lint-workflows: setup ## Audit .github/ offline: zizmor (pedantic) and shellcheck on the pipeline scripts
	$(VENV)/bin/zizmor --offline --persona=pedantic .github/workflows
	$(VENV)/bin/shellcheck --severity=style .github/scripts/*.sh

fmt: setup ## Format Python code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The main suite spreads over every core (pytest-xdist; tests/conftest.py schedules tests that share costly
# fixtures on one worker), the Flink suite runs beside it in its own environment, and so do the linters (their
# ~10 s no longer hold the suites back); each prints when it is done, and any failure fails `make test`.
test: setup ## Lint and run every test (slow ones included)
	@rm -rf $(PYCACHE)/tmp  # bytecode of the last run's temporary checkouts: never read again
	$(MAKE) --output-sync=target -j3 lint test-main test-flink

test-main: setup strip-tools
	$(PY) -m pytest --ignore=tests/sql/flink -n auto --dist loadscope

test-flink: setup
	$(FLINK_PY) -m pytest tests/sql/flink

bench-sql: setup ## Wall time of the SQL tests and of `salesflow sql run` on 10k events, against peers
	$(PY) bench/sql_suite.py

demo: setup ## Run the pipeline end to end on this machine (DEMO_ARGS="--events 20000" to change it)
	$(VENV)/bin/salesflow demo $(DEMO_ARGS)

# The AWS stack points the Lambda at the exporter artifact by its SHA-256, so synth builds it first.
synth: setup package ## Synthesize Terraform JSON (ENV=dev|prod|all) into terraform/cdktf.out/stacks/<stack>/cdk.tf.json
	$(PY) terraform/main.py --env $(ENV) --outdir $(SYNTH_OUT)

scan: ENV = all
scan: synth ## checkov on every synthesized stack (ENV=all unless given): 0 failed, skips justified inline
	$(CHECKOV_VENV)/bin/python tools/checkov/scan.py $(SYNTH_OUT)/stacks

# Day 0 (docs/runbook.md, "From zero"): an administrator applies <ENV>-bootstrap once. Its first state stays in
# .bootstrap/<ENV>/ until it moves into the bucket the stack creates; `make clean` never touches .bootstrap/.
bootstrap: setup ## Apply ENV's bootstrap stack as an administrator: plan, confirm, apply, move its state to S3
	$(PY) terraform/main.py --env $(ENV) --bootstrap-only --outdir .bootstrap/$(ENV)/cdktf.out
	$(VENV)/bin/salesflow bootstrap --env $(ENV) --synth-dir .bootstrap/$(ENV)/cdktf.out $(BOOTSTRAP_ARGS)

doctor: setup ## Check that everything ENV's first deploy needs exists (with whatever credentials you have)
	$(VENV)/bin/salesflow doctor --env $(ENV)

clean: ## Remove environments, build output and local runs
	rm -rf $(VENV) $(FLINK_VENV) $(CHECKOV_VENV) .salesflow out build terraform/cdktf.out .pytest_cache .ruff_cache

# --- exporter (issue 4) ---------------------------------------------------------------------------------
# Architectures of the exporter for ENV (all: every environment's), read from environments/*.yaml; the
# monitor's likewise. Each Lambda (deployable) is built for each of its architectures by the same builder.
EXPORTER_ARCHS = $(shell $(PY) -c "from salesflow.config import environment_names, load_environment as l; \
	names = environment_names() if '$(ENV)' == 'all' else ['$(ENV)']; \
	print(*sorted({l(n).exporter.lambda_.architecture for n in names}))")
MONITOR_ARCHS = $(shell $(PY) -c "from salesflow.config import environment_names, load_environment as l; \
	names = environment_names() if '$(ENV)' == 'all' else ['$(ENV)']; \
	print(*sorted({l(n).monitor.lambda_.architecture for n in names}))")
BENCH_ARGS ?=

# GNU strip for both Lambda architectures (exporter/package.py strips every shared object); the tests build
# both, so `make test` installs them on a fresh machine as `make package` does.
strip-tools:
	@for tool in x86_64-linux-gnu-strip aarch64-linux-gnu-strip; do \
	  command -v $$tool >/dev/null && continue; \
	  pkg=$$([ "$$tool" = aarch64-linux-gnu-strip ] && echo binutils-aarch64-linux-gnu || echo binutils); \
	  echo "--- installing $$pkg (apt) for $$tool"; \
	  $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get update -qq && $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get install -y -qq $$pkg >/dev/null; \
	done

package: setup strip-tools ## Build the exporter's and the monitor's Lambda zips for ENV's architectures into build/<deployable> (size, SHA-256, smoke test)
	@for arch in $(EXPORTER_ARCHS); do \
	  $(PY) -m exporter.package --arch "$$arch" || exit 1; \
	done
	@for arch in $(MONITOR_ARCHS); do \
	  $(PY) -m exporter.package --deployable monitor --arch "$$arch" || exit 1; \
	done

bench-exporter: setup ## Exporter vs DuckDB vs naive pandas on a local table (BENCH_ARGS="--weeks 2 --lines 100000" for a quick run)
	$(PY) bench/exporter.py $(BENCH_ARGS)
