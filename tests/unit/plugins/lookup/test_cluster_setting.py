"""The cluster_setting lookup: inventory value, else the one default of CLUSTER_DEFAULTS."""

import pytest
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.quorum.k8s.plugins.lookup.cluster_setting import LookupModule
from ansible_collections.quorum.k8s.plugins.module_utils._defaults import CLUSTER_DEFAULTS, KUBERNETES_VERSION


def lookup(terms, variables):
    loader = DataLoader()
    plugin = LookupModule(loader=loader, templar=Templar(loader=loader, variables=variables))
    return plugin.run(terms, variables=variables)


def test_defaults_when_the_inventory_is_silent():
    names = sorted(CLUSTER_DEFAULTS)
    assert lookup(names, {}) == [CLUSTER_DEFAULTS[n] for n in names]
    assert lookup(["quorum_kubernetes_version"], {}) == [KUBERNETES_VERSION]


def test_inventory_values_win_and_are_templated():
    variables = {"quorum_api_port": 8443, "site_port": 7443, "quorum_apiserver_port": trust_as_template("{{ site_port }}"),
                 "quorum_etcd_topology": "external"}
    assert lookup(["quorum_api_port", "quorum_apiserver_port", "quorum_etcd_topology"], variables) == [
        8443, 7443, "external"]


@pytest.mark.parametrize("name", ["quorum_cluster_name", "quorum_api_prot", 5])
def test_names_without_a_default_are_errors(name):
    with pytest.raises(AnsibleLookupError):
        lookup([name], {"quorum_cluster_name": "x"})
