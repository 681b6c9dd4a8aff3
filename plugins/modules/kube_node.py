#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kube_node
short_description: Set the labels and taints of a Kubernetes Node
version_added: 0.1.0
description:
  - Runs on a control-plane node that holds an admin kubeconfig (labels in C(node-role.kubernetes.io/)
    cannot be set by a node's own kubelet).
  - Waits up to O(wait_timeout) seconds for the Node to register (a node that has just joined), reads
    it with kubectl (a failed read is retried until then) and changes only the labels and taints that differ.
author:
  - quorum.k8s developers (@quorum-k8s)
attributes:
  check_mode:
    support: full
    description: Reads the Node (without waiting for it) and reports what would change.
  diff_mode:
    support: full
    description: Shows the labels and taints before and after.
extends_documentation_fragment:
  - quorum.k8s.kubectl
options:
  name:
    description: The Node's name.
    type: str
    required: true
  labels:
    description: Label key -> value; a null value removes the label. Labels not named are left alone.
    type: dict
    default: {}
  taints:
    description: Taints to add or remove. Taints not named are left alone.
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: Taint key.
        type: str
        required: true
      value:
        description: Taint value.
        type: str
      effect:
        description:
          - Taint effect; V(NoSchedule) when a present taint names none.
          - For an absent taint without effect, the key goes with every effect.
        type: str
        choices: [NoSchedule, PreferNoSchedule, NoExecute]
      state:
        description: Whether the taint must be there.
        type: str
        choices: [present, absent]
        default: present
  wait_timeout:
    description: Seconds to wait for the Node to register before failing.
    type: int
    default: 300
notes:
  - Needs kubectl and an admin kubeconfig on the node; no Python library is required.
seealso:
  - module: quorum.k8s.kubeadm_node
"""

EXAMPLES = r"""
- name: Label and taint a meta-worker, drop the worker label
  quorum.k8s.kube_node:
    name: mw1
    labels:
      node-role.kubernetes.io/meta-worker: ""
      node-role.kubernetes.io/worker: null
    taints:
      - key: node-role.kubernetes.io/meta-worker
        effect: NoSchedule
  delegate_to: "{{ groups['control_plane'][0] }}"
"""

RETURN = r"""
registered:
  description: Whether the Node exists (false only in check mode, for a node that has not registered yet).
  returned: success
  type: bool
labels:
  description: The Node's labels after the change.
  returned: success
  type: dict
  sample: {"node-role.kubernetes.io/meta-worker": ""}
taints:
  description: The Node's taints after the change.
  returned: success
  type: list
  elements: dict
  sample: [{"key": "node-role.kubernetes.io/meta-worker", "effect": "NoSchedule"}]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.errors import CommandError, KubeadmError
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.module import KUBECTL_ARGS, client as kubeadm_client
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.nodeobj import EFFECTS, ensure


def argument_spec():
    return dict(
        KUBECTL_ARGS,
        name=dict(type="str", required=True),
        labels=dict(type="dict", default={}),
        taints=dict(type="list", elements="dict", default=[], options=dict(
            key=dict(type="str", required=True, no_log=False),
            value=dict(type="str"),
            effect=dict(type="str", choices=list(EFFECTS)),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        )),
        wait_timeout=dict(type="int", default=300),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    if not os.path.exists(params["kubeconfig"]):
        module.fail_json(msg="admin kubeconfig %s not found: run this on an initialised control plane"
                         % params["kubeconfig"])
    client = kubeadm_client(module, kubectl=params["kubectl_path"], kubeconfig=params["kubeconfig"])
    try:
        result = ensure(client, params["name"], labels=params["labels"], taints=params["taints"],
                        wait_timeout=params["wait_timeout"], check_mode=module.check_mode)
    except CommandError as exc:
        module.fail_json(msg="%s; check that the API server answers through %s" % (exc, params["kubeconfig"]),
                         rc=exc.rc)
    except KubeadmError as exc:
        module.fail_json(msg=str(exc))
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
