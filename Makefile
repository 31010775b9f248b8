# Two commands matter for a new user on a fresh machine:
#   make demo   bring up a 3-node lab with real etcd, run the collection against it, tear it down
#   make test   sanity, lint, unit and integration tests (what CI runs)
# Everything installs into .venv; nothing outside the checkout is touched except
# ansible-test's own cache under ~/.ansible/test.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
COLLECTIONS := $(abspath $(VENV))/collections
STAMP := $(VENV)/.installed
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(abspath $(BIN)):$(PATH)
PYTEST_ARGS ?=

.PHONY: test demo venv sanity lint units integration bench lab-up lab-down clean

test: venv
	@$(PY) tests/stage.py sanity -- $(MAKE) --no-print-directory sanity
	@$(PY) tests/stage.py lint -- $(MAKE) --no-print-directory lint
	@$(PY) tests/stage.py units -- $(MAKE) --no-print-directory units
	@$(PY) tests/stage.py integration -- $(MAKE) --no-print-directory integration
	@$(PY) tests/stage.py --summary

venv: $(STAMP)

$(STAMP): requirements-test.txt requirements.txt
	@echo "== creating $(VENV) and installing the pinned tool chain"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	mkdir -p $(COLLECTIONS)/ansible_collections/kubemaint
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/kubemaint/control_plane
	touch $(STAMP)

sanity: venv
	$(PY) tests/ansible_test_sanity.py

lint: venv
	cd $(CURDIR) && $(BIN)/ansible-lint --offline -q
	$(BIN)/antsibull-changelog lint

units: venv
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

integration: venv
	$(PY) -m pytest -q tests/integration $(PYTEST_ARGS)

bench: venv
	$(PY) -m tests.bench $(BENCH_ARGS)

demo: venv
	$(PY) tests/demo.py

clean:
	-$(PY) -m tests.lab down --dir .lab 2>/dev/null
	rm -rf $(VENV) tests/output .pytest_cache
