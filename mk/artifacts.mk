# Offline Kubernetes artifacts (issue 4): lab/artifacts builds them from the Go module
# proxy and the Debian mirror into $(QUORUM_LAB_HOME)/mirror. Not in TEST_TARGETS: the
# cold build takes long; its unit tests run with `make unit` (tests/unit/lab_artifacts).
#   make artifacts                                   build or reuse; last line = manifest.json path
#   make artifacts QUORUM_KUBERNETES_VERSION=v1.35.6 another patch (the default is in lab/artifacts/config.py)
#   make artifacts-verify                            host checks: hashes, versions, image set, archives
ARTIFACTS_PYTHON ?= python3
ARTIFACTS_ARGS = $(if $(QUORUM_KUBERNETES_VERSION),--kubernetes-version $(QUORUM_KUBERNETES_VERSION))

.PHONY: artifacts artifacts-verify

artifacts:
	@nice -n 10 $(ARTIFACTS_PYTHON) -m lab.artifacts build $(ARTIFACTS_ARGS)

artifacts-verify: artifacts
	@$(ARTIFACTS_PYTHON) -m lab.artifacts verify
