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

# make test proves the README's first command (issue 15): the node image and the apt mirror are
# built afresh (a warm image once hid that nodes never fetched their package lists), the smoke
# scenario runs on the QEMU VMs, then cluster_minimal builds a cluster on nspawn nodes through the
# path `make lab` takes and runs site.yml twice (0 changed on the second run).
TEST_TARGETS += lab-fresh test-molecule test-cluster
.PHONY: lab-fresh test-cluster
lab-fresh: venv
	$(LAB) build --force

test-molecule: venv
	scripts/molecule.sh smoke

test-cluster: venv artifacts
	scripts/molecule.sh cluster_minimal
