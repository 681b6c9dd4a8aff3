"""Which results the censoring actions hide: those carrying a secret, never a plain failure."""

from ansible_collections.quorum.k8s.plugins.action.kubeadm_token import ActionModule as KubeadmTokenAction
from ansible_collections.quorum.k8s.plugins.action.vault_secret import ActionModule as VaultSecretAction
from ansible_collections.quorum.k8s.plugins.plugin_utils._censored_action import censor


def test_a_result_with_a_token_is_censored():
    result = censor({"changed": True, "token": "abcdef.0123456789abcdef"}, KubeadmTokenAction._secret_fields)
    assert result["_ansible_no_log"] is True


def test_a_failure_without_secrets_keeps_its_message_visible():
    result = censor({"failed": True, "msg": "kubeadm token create failed (rc=1)"}, KubeadmTokenAction._secret_fields)
    assert "_ansible_no_log" not in result
    # an empty or null secret field is not a secret
    assert "_ansible_no_log" not in censor({"token": None, "certificate_key": ""}, KubeadmTokenAction._secret_fields)


def test_vault_results_are_censored_on_their_own_fields():
    assert censor({"secret": {"value": "x"}}, VaultSecretAction._secret_fields)["_ansible_no_log"] is True
    assert censor({"private_key": "PEM"}, VaultSecretAction._secret_fields)["_ansible_no_log"] is True
    assert "_ansible_no_log" not in censor({"token": "t"}, VaultSecretAction._secret_fields)


def test_secrets_read_by_name_are_censored():
    result = censor({"secrets": {"vrrp-auth": {"value": "x"}}}, VaultSecretAction._secret_fields)
    assert result["_ansible_no_log"] is True
    assert "_ansible_no_log" not in censor({"secrets": {}, "changed": False}, VaultSecretAction._secret_fields)
