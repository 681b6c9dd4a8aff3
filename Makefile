# quorum.k8s: every target creates or reuses the virtualenv itself.
QUORUM_LAB_HOME ?= /var/lib/quorum-lab
export QUORUM_LAB_HOME
VENV := $(QUORUM_LAB_HOME)/venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
PYTEST := $(VENV)/bin/python -m pytest
S ?= smoke

.PHONY: help venv test lint sanity unit integration molecule test-e2e build

help:
	@echo "make lab | test | lint | sanity | unit | integration | molecule S=<scenario> | artifacts | test-e2e | build"

venv:
	@scripts/venv.sh

# Fragments (lab, artifacts, cluster) add targets and append to TEST_TARGETS / E2E_TARGETS.
TEST_TARGETS := lint sanity unit integration
E2E_TARGETS :=
-include mk/*.mk

# Everything CI runs (.ci/run calls this).
test: $(TEST_TARGETS)

# The cluster scenarios, too slow for CI.
test-e2e: $(E2E_TARGETS)

lint: venv
	yamllint -s .
	ansible-lint --offline --profile production

sanity: venv
	scripts/sanity.sh

unit: venv
	$(PYTEST) -q tests/unit

integration: venv
	$(PYTEST) -q tests/integration

molecule: venv
	scripts/molecule.sh $(S)

build: venv
	ansible-galaxy collection build --force
