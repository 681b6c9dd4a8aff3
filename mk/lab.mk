# The offline VM lab (issue 3): lab/lab is its CLI, docs/lab.md its guide.
LAB := lab/lab
LAB_TOPOLOGY ?= stacked

.PHONY: lab lab-down lab-status test-molecule

# From a fresh machine: host packages + venv, image + apt mirror (built or reused),
# offline Kubernetes artifacts, the `stacked` topology with OpenBao, then site.yml (make cluster).
lab:
	scripts/host-deps.sh
	$(MAKE) --no-print-directory artifacts
	$(MAKE) --no-print-directory cluster CLUSTER_TOPOLOGY=$(LAB_TOPOLOGY)
	@echo "Shell in lab:   $(LAB) exec            (VAULT_ADDR, VAULT_CACERT, VAULT_TOKEN exported)"
	@echo "SSH to a VM:    $(LAB) ssh cp-1"
	@echo "Status / stop:  $(LAB) status   |   make lab-down"

lab-down:
	$(LAB) down

lab-status:
	$(LAB) status

# Molecule smoke scenario on 3 lab VMs (cold: builds image and mirror first).
# The smoke scenario on 3 lab VMs is part of make test (about 9 min warm, measured).
TEST_TARGETS += test-molecule
test-molecule: venv
	scripts/molecule.sh smoke
