# -*- coding: utf-8 -*-
# Copyright: quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which control plane inits, or hands out join material: the decision of _kubeadm/node.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.errors import KubeadmError
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.node import choose_leader


def kubeadm_leader(hosts, states):
    """{leader, needs_init, members} of ``hosts`` (inventory order) given ``states`` (host -> node_state)."""
    if not isinstance(states, dict):
        raise AnsibleFilterError("kubeadm_leader: expected a dict of host -> node_state, got %r"
                                 % (type(states).__name__,))
    try:
        return choose_leader(hosts, states)
    except KubeadmError as exc:
        raise AnsibleFilterError("kubeadm_leader: %s" % exc)


class FilterModule:
    def filters(self):
        return {"kubeadm_leader": kubeadm_leader}
