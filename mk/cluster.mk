# The HA cluster on the lab (issue 8).
#   make cluster                boot the lab's stacked topology, run site.yml, write an admin kubeconfig
#   make cluster-stacked        the Molecule scenario cluster_stacked (9 min measured; test-e2e)
#   make cluster-external       the Molecule scenario cluster_external: external etcd, 10 nodes (11.5 min; test-e2e)
#   make cluster-lifecycle      the Molecule scenario lifecycle: scale.yml, remove_node.yml, reset.yml (test-e2e)
#   make cluster-upgrade        the Molecule scenarios upgrade and upgrade_external: upgrade.yml from the previous minor (test-e2e)
#   make certs-recovery         the Molecule scenarios certs_recovery (renewal, expiry, stacked etcd backup and restore)
#                               and certs_recovery_external (external etcd restore) (test-e2e)
# Both need the Kubernetes artifacts (make artifacts) and run on systemd-nspawn nodes (docs/lab.md).
CLUSTER_TOPOLOGY ?= stacked
CLUSTER_KUBECONFIG ?= $(QUORUM_LAB_HOME)/results/$(CLUSTER_TOPOLOGY)-admin.conf

.PHONY: cluster cluster-stacked cluster-external cluster-lifecycle certs-recovery cluster-upgrade

cluster: venv
	lab/lab up $(CLUSTER_TOPOLOGY)
	inv=$$(lab/lab inventory $(CLUSTER_TOPOLOGY)) && \
	lab/lab exec ansible-playbook -i "$$inv" site.yml && \
	lab/lab exec ansible-playbook -i "$$inv" playbooks/kubeconfig.yml -e kubeconfig_path=$(CLUSTER_KUBECONFIG) -e kubeconfig_ttl=8h
	@install -D -m 0755 "$$(ls $(QUORUM_LAB_HOME)/mirror/dl.k8s.io/release/v*/bin/linux/amd64/kubectl | tail -1)" $(QUORUM_LAB_HOME)/bin/kubectl; \
	echo; echo "The cluster answers inside the lab's namespace:"; \
	echo "  lab/lab exec $(QUORUM_LAB_HOME)/bin/kubectl --kubeconfig $(CLUSTER_KUBECONFIG) get nodes -o wide"; \
	echo "A new admin kubeconfig (short-lived): lab/lab exec ansible-playbook -i \$$(lab/lab inventory $(CLUSTER_TOPOLOGY)) playbooks/kubeconfig.yml -e kubeconfig_path=PATH"

cluster-stacked: venv artifacts
	scripts/molecule.sh cluster_stacked

E2E_TARGETS += cluster-stacked

cluster-external: venv artifacts
	scripts/molecule.sh cluster_external

E2E_TARGETS += cluster-external

cluster-lifecycle: venv artifacts
	scripts/molecule.sh lifecycle

E2E_TARGETS += cluster-lifecycle

certs-recovery: venv artifacts
	scripts/molecule.sh certs_recovery
	scripts/molecule.sh certs_recovery_external

E2E_TARGETS += certs-recovery

# The rolling upgrade (issue 18): playbooks/upgrade.yml from the previous minor, on both topologies.
cluster-upgrade: venv
	$(MAKE) artifacts QUORUM_ARTIFACTS_UPGRADE_FROM=1
	scripts/molecule.sh upgrade
	scripts/molecule.sh upgrade_external

E2E_TARGETS += cluster-upgrade
