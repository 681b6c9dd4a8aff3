"""The vault_connection lookup: the inventory's quorum_vault_* variables as module options, unset ones left out."""

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.quorum.k8s.plugins.lookup import vault_connection
from ansible_collections.quorum.k8s.plugins.module_utils import _preflight
from ansible_collections.quorum.k8s.plugins.module_utils._vault.client import CONNECTION_ARGUMENT_SPEC, INVENTORY_VARIABLES


@pytest.fixture(autouse=True)
def documented_options():
    """What the plugin loader does for a plugin it loads: register the options of its DOCUMENTATION."""
    C.config.initialize_plugin_configuration_definitions(
        "lookup", "quorum.k8s.vault_connection", yaml.safe_load(vault_connection.DOCUMENTATION)["options"])


def lookup(variables):
    loader = DataLoader()
    plugin = vault_connection.LookupModule(loader=loader, templar=Templar(loader=loader, variables=variables))
    plugin._load_name = "quorum.k8s.vault_connection"  # as the plugin loader names it
    return plugin.run([], variables=variables)


def test_nothing_set_gives_nothing():
    # the modules' own defaults and VAULT_ADDR / VAULT_CACERT / VAULT_TOKEN then apply
    assert lookup({"unrelated": 1}) == [{}]


def test_every_variable_reaches_its_option_templated_and_typed():
    variables = {
        "quorum_vault_addr": "https://vault:8200", "quorum_vault_ca_cert": "/etc/ca.pem",
        "quorum_vault_validate_certs": "no", "site_timeout": 12, "quorum_vault_timeout": trust_as_template("{{ site_timeout }}"),
        "quorum_vault_auth_method": "approle", "quorum_vault_token": "t0k", "quorum_vault_approle_mount": "quorum-nodes",
        "quorum_vault_role_id": "rid", "quorum_vault_secret_id": "sid",
    }
    assert lookup(variables) == [dict(url="https://vault:8200", ca_cert="/etc/ca.pem", validate_certs=False, timeout=12,
                                      auth_method="approle", token="t0k", approle_mount="quorum-nodes",
                                      role_id="rid", secret_id="sid")]


def test_empty_values_are_left_out():
    assert lookup({"quorum_vault_addr": "https://v", "quorum_vault_ca_cert": "", "quorum_vault_token": None}) == [
        {"url": "https://v"}]


def test_an_unknown_auth_method_is_refused():
    with pytest.raises(AnsibleError, match="auth_method"):
        lookup({"quorum_vault_auth_method": "userpass"})


def test_documented_variables_are_the_connection_options():
    options = yaml.safe_load(vault_connection.DOCUMENTATION)["options"]
    assert dict((name, o["vars"][0]["name"]) for name, o in options.items()) == INVENTORY_VARIABLES
    # only options every module of group/quorum.k8s.vault accepts
    assert set(INVENTORY_VARIABLES) <= set(CONNECTION_ARGUMENT_SPEC)


def test_preflight_knows_the_connection_variables():
    report = _preflight.Report()
    _preflight.check_unknown({"h1": dict((v, "x") for v in INVENTORY_VARIABLES.values())}, report)
    assert report.warnings == []
    _preflight.check_unknown({"h1": {"quorum_vault_tokn": "x"}}, report)
    assert len(report.warnings) == 1
