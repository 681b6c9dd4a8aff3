# The artifact mirror (docs/offline.md): mirror_builder/ builds it from the Go module proxy and
# the Debian mirror into $(QUORUM_LAB_HOME)/mirror, the same tool an operator runs for a site.
# make test builds or reuses it before cluster_minimal (test-cluster in mk/lab.mk); a cold build
# takes about 8 min. Its unit tests run with `make unit` (tests/unit/mirror_builder).
#   make artifacts                                   build or reuse; last line = manifest.json path
#   make artifacts QUORUM_KUBERNETES_VERSION=v1.35.6 another patch (the default is the collection's
#                                                    pin, plugins/module_utils/_defaults.py)
#   make artifacts QUORUM_ARTIFACTS_UPGRADE_FROM=1   also the release an upgrade starts from (the pin
#                                                    UPGRADE_FROM_VERSION; or =v1.34.11): a second
#                                                    Kubernetes build, opt-in; a plain make artifacts
#                                                    afterwards still finds the mirror up to date
#   make artifacts-verify                            host checks: hashes, versions, image set, archives
ARTIFACTS_PYTHON ?= python3
ARTIFACTS_ARGS = $(if $(QUORUM_KUBERNETES_VERSION),--kubernetes-version $(QUORUM_KUBERNETES_VERSION)) \
	$(if $(QUORUM_ARTIFACTS_UPGRADE_FROM),--upgrade-from $(QUORUM_ARTIFACTS_UPGRADE_FROM))

.PHONY: artifacts artifacts-verify

artifacts:
	@nice -n 10 $(ARTIFACTS_PYTHON) -m mirror_builder build $(ARTIFACTS_ARGS)

artifacts-verify: artifacts
	@$(ARTIFACTS_PYTHON) -m mirror_builder verify
