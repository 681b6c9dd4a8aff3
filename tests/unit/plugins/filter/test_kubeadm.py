"""The kubeadm_leader filter: the leader decision of _kubeadm/node.py, errors as filter errors."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.filter.kubeadm import FilterModule


def leader(hosts, states):
    return FilterModule().filters()["kubeadm_leader"](hosts, states)


def test_first_member_leads():
    assert leader(["cp1", "cp2"], {"cp1": "absent", "cp2": "member"})["leader"] == "cp2"


def test_no_member_needs_init():
    assert leader(["cp1", "cp2"], {"cp1": "absent", "cp2": "absent"}) == {
        "leader": "cp1", "needs_init": True, "members": []}


@pytest.mark.parametrize("states", [{}, ["cp1"], {"cp1": "partial"}])
def test_errors(states):
    with pytest.raises(AnsibleFilterError, match="kubeadm_leader"):
        leader(["cp1"], states)


def test_api_host_is_the_recorded_leader_else_the_first_control_plane():
    api_host = FilterModule().filters()["api_host"]
    assert api_host({"control_plane": ["cp1", "cp2"], "quorum_api": ["cp2"]}) == "cp2"
    assert api_host({"control_plane": ["cp1", "cp2"]}) == "cp1"
    with pytest.raises(AnsibleFilterError, match="control_plane is empty"):
        api_host({"control_plane": []})
