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
# Integration tests run on this many pytest-xdist workers; each test module (and the lab it shares) stays
# on one worker, the slowest modules first (tests/integration/conftest.py). 1 runs them in one process.
TEST_WORKERS ?= 2
XDIST := $(if $(filter-out 0 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder,)

.PHONY: test demo venv sanity lint units integration integration-etcd34 integration-ansible-core ansible-core-versions etcd34 lab-os bench dist ee-context clean

# Debian's etcd 3.4 (etcd-server, etcd-client), unpacked into the venv without installing the
# packages (no service gets started): the second etcd version the lab and modules are tested on.
ETCD34_DIR := $(VENV)/etcd-3.4
ETCD34 := $(ETCD34_DIR)/usr/bin/etcd
# The tests that run again on etcd 3.4: the lab itself, the modules' behaviour against it, a rolling
# defragmentation, and a member replaced by replace_member (learner added, caught up, promoted).
ETCD34_TESTS ?= tests/integration/test_lab.py tests/integration/test_etcd_member_info.py tests/integration/test_etcd_leader.py \
	tests/integration/test_etcd_maintenance.py \
	tests/integration/test_playbook_defrag.py::test_defrag_followers_first_leader_last_with_writes_flowing_and_a_second_run_changes_nothing \
	tests/integration/test_etcd_member.py \
	tests/integration/test_playbook_restore_quorum.py::test_two_of_three_destroyed_recover_refuses_restore_quorum_rebuilds \
	tests/integration/test_etcd_lock.py::test_acquire_four_ways_then_release_four_ways \
	tests/integration/test_etcd_lock.py::test_second_holder_waits_then_fails_naming_the_first_and_break_lock \
	tests/integration/test_etcd_lock.py::test_killed_run_frees_the_lock_within_its_ttl \
	tests/integration/test_playbook_replace_member.py::test_member_with_destroyed_data_comes_back_as_a_healthy_voter

# Debian's OpenSSH server and sudo, unpacked into the venv without installing the packages (no service
# gets started, nothing outside the checkout changes): as root, every lab node is a host of its own,
# with an sshd in its own mount namespace (tests/lab/node.py). Without root the lab falls back to the
# local connection and says so; so does this target, which then unpacks nothing.
LAB_OS_DIR := $(VENV)/lab-os
LAB_OS := $(LAB_OS_DIR)/usr/sbin/sshd
LAB_OS_PACKAGES := openssh-server openssh-sftp-server sudo libwrap0
IS_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo yes)
# As root, the tests and the demo run every playbook over SSH and refuse to fall back silently.
LAB_CONNECTION := $(if $(IS_ROOT),ssh,auto)

test: venv lab-os
	@$(PY) tests/stage.py sanity -- $(MAKE) --no-print-directory sanity
	@$(PY) tests/stage.py lint -- $(MAKE) --no-print-directory lint
	@$(PY) tests/stage.py units -- $(MAKE) --no-print-directory units
	@$(PY) tests/stage.py integration -- $(MAKE) --no-print-directory integration
	@$(PY) tests/stage.py etcd-3.4 -- $(MAKE) --no-print-directory integration-etcd34
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

# A deprecation warning that ansible-lint (or the ansible-core it loads) prints fails the stage too.
lint: venv
	cd $(CURDIR) && set -o pipefail && $(BIN)/ansible-lint --offline -q 2>&1 | tee $(VENV)/lint.log
	@! grep -i 'deprecat' $(VENV)/lint.log || { echo 'lint: a deprecation warning above fails the lint stage'; exit 1; }
	$(BIN)/antsibull-changelog lint

units: venv
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

# The older ansible-core versions are installed first: their test module shares the workers with the others.
integration: venv lab-os ansible-core-versions
	KUBEMAINT_LAB_CONNECTION=$(LAB_CONNECTION) $(PY) -m pytest -q --durations=30 $(XDIST) tests/integration $(PYTEST_ARGS)

# The older ansible-core versions meta/runtime.yml claims (2.16, 2.17, 2.18; 2.19 is the tool chain above),
# each in a venv of its own, .venv/ansible-core-<version>, installed from the package index once and
# reused; then the playbooks on one shared lab with each of them (tests/ansible_core_versions.py). `make test` runs
# that module within the integration stage; integration-ansible-core runs it alone.
ANSIBLE_CORE_TESTS := tests/integration/test_ansible_core_versions.py

ansible-core-versions: venv
	$(PY) tests/ansible_core_versions.py

integration-ansible-core: ansible-core-versions lab-os
	KUBEMAINT_LAB_CONNECTION=$(LAB_CONNECTION) $(PY) -m pytest -q $(ANSIBLE_CORE_TESTS) $(PYTEST_ARGS)

etcd34: $(ETCD34)

$(ETCD34):
	@command -v apt-get >/dev/null || { echo "etcd 3.4 needs Debian's apt-get (or set ETCD_BIN to an etcd 3.4 binary)"; exit 1; }
	rm -rf $(ETCD34_DIR).tmp && mkdir -p $(ETCD34_DIR).tmp
	cd $(ETCD34_DIR).tmp && { apt-get download etcd-server etcd-client >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get download etcd-server etcd-client; }; }
	for deb in $(ETCD34_DIR).tmp/*.deb; do dpkg-deb -x $$deb $(ETCD34_DIR).tmp/root; done
	rm -rf $(ETCD34_DIR) && mv $(ETCD34_DIR).tmp/root $(ETCD34_DIR) && rm -rf $(ETCD34_DIR).tmp
	$(ETCD34) --version | head -1

integration-etcd34: venv etcd34 lab-os
	ETCD_BIN=$(abspath $(ETCD34)) KUBEMAINT_LAB_CONNECTION=$(LAB_CONNECTION) $(PY) -m pytest -q --durations=15 $(XDIST) $(ETCD34_TESTS) $(PYTEST_ARGS)

lab-os: venv
ifeq ($(IS_ROOT),yes)
lab-os: $(LAB_OS)
else
	@echo "lab-os: not root, so the lab uses the local connection (no sshd unpacked)"
endif

$(LAB_OS):
	@command -v apt-get >/dev/null || { echo "the ssh lab needs Debian's apt-get for openssh-server and sudo"; exit 1; }
	rm -rf $(LAB_OS_DIR).tmp && mkdir -p $(LAB_OS_DIR).tmp
	cd $(LAB_OS_DIR).tmp && { apt-get download $(LAB_OS_PACKAGES) >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get download $(LAB_OS_PACKAGES); }; }
	for deb in $(LAB_OS_DIR).tmp/*.deb; do dpkg-deb -x $$deb $(LAB_OS_DIR).tmp/root; done
	rm -rf $(LAB_OS_DIR) && mv $(LAB_OS_DIR).tmp/root $(LAB_OS_DIR) && rm -rf $(LAB_OS_DIR).tmp
	LD_LIBRARY_PATH=$$(echo $(LAB_OS_DIR)/usr/lib/*-linux-gnu) $(LAB_OS) -V 2>&1 | head -1

bench: venv lab-os
	KUBEMAINT_LAB_CONNECTION=$(LAB_CONNECTION) $(PY) -m tests.bench $(BENCH_ARGS)

demo: venv lab-os
	KUBEMAINT_LAB_CONNECTION=$(LAB_CONNECTION) $(PY) tests/demo.py

# The release tarball, as Galaxy gets it: build/kubemaint-control_plane-<version>.tar.gz.
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := build/kubemaint-control_plane-$(VERSION).tar.gz

dist: venv
	mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .

# The build context of the execution environment (meta/execution-environment.yml) with this
# checkout's collection in it; `podman build -t NAME build/ee-context` (or docker) builds the image.
ee-context: dist
	cp $(TARBALL) build/kubemaint-control_plane.tar.gz
	rm -rf build/ee-context
	$(BIN)/ansible-builder create -f meta/execution-environment.yml -c build/ee-context --output-filename Containerfile

clean:
	-$(PY) -m tests.lab down --dir .lab 2>/dev/null
	rm -rf $(VENV) tests/output .pytest_cache build
