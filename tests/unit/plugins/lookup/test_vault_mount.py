"""The vault_mount lookup: the bootstrap's own layout, from the inventory's prefix and cluster name."""

import pytest
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.quorum.k8s.plugins.lookup.vault_mount import LookupModule


def lookup(terms, variables):
    loader = DataLoader()
    plugin = LookupModule(loader=loader, templar=Templar(loader=loader, variables=variables))
    return plugin.run(terms, variables=variables)


def test_default_prefix():
    assert lookup(["kv", "k8s-pki", "nodes"], {"quorum_cluster_name": "lab"}) == ["quorum/lab/kv", "quorum/lab/k8s-pki", "quorum-nodes"]


def test_prefix_with_a_slash_and_the_node_role():
    variables = {"quorum_cluster_name": "prod", "quorum_vault_prefix": "k8s/eu", "inventory_hostname": "cp 1"}
    assert lookup(["etcd-pki", "nodes", "node-role"], variables) == ["k8s/eu/prod/etcd-pki", "k8s-eu-nodes", "prod--cp_1"]


@pytest.mark.parametrize("terms, variables", [
    (["kv"], {}),
    (["secrets"], {"quorum_cluster_name": "lab"}),
    (["kv"], {"quorum_cluster_name": "lab", "quorum_vault_prefix": "/bad/"}),
])
def test_faults_are_named(terms, variables):
    with pytest.raises(AnsibleLookupError, match="vault_mount"):
        lookup(terms, variables)
