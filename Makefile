# Two commands on a fresh machine: `make demo` and `make test`. Each sets up what it needs:
# a virtualenv in .venv, the package with its test and dev extras, and the control plane binaries
# (built once from Debian packages and cached in ~/.cache/airflow-k8s-reconcile).
# `make test-oldest` runs the unit and integration suites again on the OLDEST supported Airflow, in its own
# virtualenv (.venv-oldest), against the built wheel.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

# The oldest supported Airflow. 3.0.5 (the official chart's defaultAirflowTag) is not on the package index;
# 3.0.6 is the nearest. pip resolves the matching Task SDK (apache-airflow 3.0.6 pins task-sdk 1.0.x).
OLDEST_AIRFLOW ?= 3.0.6
VENV_OLDEST ?= .venv-oldest
OLDEST_BIN := $(VENV_OLDEST)/bin
OLDEST_STAMP := $(VENV_OLDEST)/.airflow-$(OLDEST_AIRFLOW)
OLDEST_DIST := $(VENV_OLDEST)/dist
# Airflow pinned, plus the web stack 3.0.6 was released with (why: see the file).
OLDEST_CONSTRAINTS := .ci/constraints-airflow-$(OLDEST_AIRFLOW).txt

.PHONY: help venv assets chromium lint test unit integration e2e demo bench cluster-up cluster-down clean test-oldest venv-oldest

help:
	@echo "make test    lint, types, import contracts, then the whole suite against a real local control plane"
	@echo "make test-oldest  unit + integration suites on the oldest supported Airflow ($(OLDEST_AIRFLOW)), from the wheel"
	@echo "make demo    the example DAGs on a real local control plane: preflight, reconcile, tamper, restore (KEEP=1 keeps it up)"
	@echo "make e2e     only the event-driven restore through the real Airflow components (minutes)"
	@echo "make lint    ruff, ruff format --check, mypy --strict, import-linter"
	@echo "make bench   connection, start-up, import-cost, reconcile, drift-latency, preflight RBAC and event-restore benchmarks (tables with ratios)"
	@echo "make clean   remove .venv and caches (the control plane cache in ~/.cache stays)"
	@echo "make helm-yaml  regenerate helm-values/rbac.yaml (from the DAGs' declared permissions) and networkpolicy.yaml"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $@

venv: $(STAMP)

assets: $(STAMP)
	$(BIN)/airflow-k8s-reconcile cluster provision

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest exits 5 when it collected no tests: that is a broken suite, say so.
# The browser test drives Debian's chromium (Playwright never downloads a browser); CI runs as root.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: lint assets chromium
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5)" >&2; fi; exit $$rc

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: assets
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

# The real-scheduler test alone: scheduler, dag-processor, triggerer and api-server on SQLite (about 2-3 minutes).
e2e: assets
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

# The oldest-Airflow environment: a fresh virtualenv holding apache-airflow==$(OLDEST_AIRFLOW) (and the Task SDK
# pip picks for it), plus hatchling to build the wheel offline. Rebuilt when OLDEST_AIRFLOW or its constraints change.
$(OLDEST_STAMP): $(OLDEST_CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s)" % sys.version.split()[0])'
	rm -rf $(VENV_OLDEST)
	$(PYTHON) -m venv $(VENV_OLDEST)
	$(OLDEST_BIN)/python -m pip install --quiet --upgrade pip
	$(OLDEST_BIN)/python -m pip install --quiet -c $(OLDEST_CONSTRAINTS) "apache-airflow==$(OLDEST_AIRFLOW)" "hatchling>=1.25"
	@touch $@

venv-oldest: $(OLDEST_STAMP)

# 1. build the wheel; 2. install it as a user would (no constraint): Airflow must stay at $(OLDEST_AIRFLOW);
# 3. add the test extra with Airflow pinned (pip fails rather than upgrade it; the same constraints as Airflow's); 4. reinstall this wheel (same
# version number, new code); 5. the unit and integration suites, from outside the source tree's import path
# (the `pytest` script, PYTHONPATH unset), so they exercise the installed wheel. Not the e2e test (real scheduler)
# nor the browser test: they run in `make test` on the newest Airflow. On 3.0.6 the browser never showed the
# connection form's custom fields (the form API returns them); that UI is not covered on 3.0 (README, Compatibility).
test-oldest: $(OLDEST_STAMP)
	@started=$$(date +%s); \
	set -e; \
	rm -rf $(OLDEST_DIST); \
	$(OLDEST_BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w $(OLDEST_DIST) .; \
	wheel=$$(ls $(OLDEST_DIST)/airflow_k8s_reconcile-*.whl); \
	$(OLDEST_BIN)/python -m pip install --quiet "$$wheel"; \
	$(OLDEST_BIN)/python -c 'import sys; from importlib.metadata import version as v; found = v("apache-airflow"); \
	print("test-oldest: wheel installed; apache-airflow", found, "core", v("apache-airflow-core"), "task-sdk", v("apache-airflow-task-sdk")); \
	sys.exit(0 if found == "$(OLDEST_AIRFLOW)" else "installing the wheel changed apache-airflow to " + found)'; \
	$(OLDEST_BIN)/python -m pip install --quiet -c $(OLDEST_CONSTRAINTS) "$$wheel[test]"; \
	$(OLDEST_BIN)/python -m pip install --quiet --no-deps --force-reinstall "$$wheel"; \
	$(OLDEST_BIN)/airflow-k8s-reconcile cluster provision; \
	echo "test-oldest: environment ready in $$(( $$(date +%s) - started ))s"; \
	set +e; \
	env -u PYTHONPATH AIRFLOW_K8S_RECONCILE_EXPECT_AIRFLOW=$(OLDEST_AIRFLOW) AIRFLOW_K8S_RECONCILE_EXPECT_WHEEL=1 \
		$(OLDEST_BIN)/pytest -m "not e2e and not browser" $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-oldest: pytest collected no tests (exit 5)" >&2; fi; exit $$rc

# The demo provisions the control plane binaries itself (saying first that the first time takes minutes).
demo: $(STAMP)
	$(BIN)/python -m airflow_k8s_reconcile.testing.demo

bench: assets
	$(BIN)/python bench/connection_bench.py
	$(BIN)/python bench/import_cost.py
	$(BIN)/python bench/reconcile.py
	$(BIN)/python bench/drift_latency.py
	$(BIN)/python bench/preflight.py
	$(BIN)/python bench/event_restore.py

cluster-up: assets
	$(BIN)/airflow-k8s-reconcile cluster up

cluster-down: $(STAMP)
	$(BIN)/airflow-k8s-reconcile cluster down

# helm-values/rbac.yaml: the Role the example DAGs declare, bound to the chart's worker and triggerer service
# accounts (helm-values/values-airflow.yaml names them). -n default: the namespace of the mapped task, whose
# namespaces are expanded at run time; the others resolve from their default params. The namespace variables the
# DAGs read are unset so the file does not depend on the shell. test_helm_values.py reads RBAC_ARGS from here.
.PHONY: helm-yaml rbac-yaml networkpolicy-yaml
RBAC_ARGS := --dags dags -n default --subject system:serviceaccount:airflow:airflow-worker --subject system:serviceaccount:airflow:airflow-triggerer
DAG_ENV := env -u K8S_RECONCILE_NAMESPACE -u K8S_RECONCILE_NAMESPACES

helm-yaml: rbac-yaml networkpolicy-yaml

rbac-yaml: $(STAMP)
	$(DAG_ENV) $(BIN)/airflow-k8s-reconcile rbac $(RBAC_ARGS) > helm-values/rbac.yaml.tmp
	mv helm-values/rbac.yaml.tmp helm-values/rbac.yaml

networkpolicy-yaml: $(STAMP)
	$(BIN)/python helm-values/networkpolicy.py > helm-values/networkpolicy.yaml.tmp
	mv helm-values/networkpolicy.yaml.tmp helm-values/networkpolicy.yaml

clean:
	rm -rf $(VENV) $(VENV_OLDEST) .mypy_cache .ruff_cache .pytest_cache dist build
