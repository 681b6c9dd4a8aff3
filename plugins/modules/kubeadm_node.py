#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kubeadm_node
short_description: Read a node's kubeadm state; run kubeadm init or join when it has not joined
version_added: 0.1.0
description:
  - Runs on the node itself (as root).
  - Reads the node's state from the files a successful C(kubeadm init) or C(kubeadm join) leaves
    (a state check, not a C(creates:) guess). V(member) when all of them exist
    (C(/etc/kubernetes/kubelet.conf); on a control plane also the API server's manifest and, with
    stacked etcd, etcd's); V(absent) when none of them nor any other trace of kubeadm exists
    (C(bootstrap-kubelet.conf), C(/var/lib/kubelet/config.yaml), the other control-plane manifests, a
    worker's C(/etc/kubernetes/pki/ca.crt)); V(partial) otherwise, a failed or interrupted init or join.
  - With O(state=initialized), runs C(kubeadm init --config O(config) --skip-token-print) on a node
    that has not joined.
  - With O(state=joined), renders the C(JoinConfiguration) (kubeadm v1beta4) from the options into a
    private 0600 file in the module's temporary directory, runs C(kubeadm join --config) with it and
    removes it. The token never appears on a command line and never stays on disk.
  - A member is left alone (nothing runs, not changed). A half-joined node is refused with a message
    that lists the files found, whenever O(state) is set.
  - A failed join is undone at once with C(kubeadm reset --force) (a half-joined node would be refused
    by the next run); the failure message starts with kubeadm's error line. A failed init is left as it
    is for inspection.
author:
  - quorum.k8s developers (@quorum-k8s)
attributes:
  check_mode:
    support: full
    description: Reads the state and reports whether init or join would run; runs no kubeadm command.
  diff_mode:
    support: full
    description: Shows the node state before and after (never the token or certificate key).
options:
  state:
    description:
      - Unset, the module only reads the node's state (never fails on a half-joined node; see RV(node_state)).
      - V(initialized) runs C(kubeadm init) unless the node is a member (control planes only).
      - V(joined) runs C(kubeadm join) unless the node is a member.
    type: str
    choices: [initialized, joined]
  node_role:
    description: What the node is or becomes; decides which files make a member.
    type: str
    choices: [control_plane, worker]
    default: worker
  etcd_topology:
    description:
      - With V(stacked), a control plane is a member only with etcd's static pod manifest too.
      - Ignored for workers.
    type: str
    choices: [stacked, external]
    default: stacked
  node_name:
    description: The node's name, in the JoinConfiguration and in messages. Defaults to the host name.
    type: str
  kubeadm_path:
    description: The kubeadm binary; looked up in E(PATH) and C(/usr/local/bin) when not absolute.
    type: str
    default: kubeadm
  verbosity:
    description: kubeadm's log level (C(--v)); 5 shows each API and etcd call when a join fails.
    type: int
    default: 0
  config:
    description:
      - The kubeadm configuration C(kubeadm init) reads (InitConfiguration, ClusterConfiguration, ...).
      - Required with O(state=initialized); it need not exist in check mode.
    type: path
  api_server_endpoint:
    description: C(host:port) of the API server to join through (the VIP). Required with O(state=joined).
    type: str
  token:
    description:
      - The bootstrap token (C(id.secret)), for example RV(quorum.k8s.kubeadm_token#module:token).
      - Required when a join runs; may be missing in check mode (a token that would be created).
    type: str
  discovery_token_ca_cert_hash:
    description:
      - C(sha256:...) pin of the cluster CA, for example
        RV(quorum.k8s.kubeadm_token#module:discovery_token_ca_cert_hash).
      - Required when a join runs; may be missing in check mode.
    type: str
  node_ip:
    description: The address the kubelet registers (kubelet flag C(node-ip)).
    type: str
  cri_socket:
    description: The CRI socket (C(nodeRegistration.criSocket)); also given to C(kubeadm reset).
    type: str
  taints:
    description:
      - Taints the node registers with. Unset, kubeadm's default (a control plane gets
        C(node-role.kubernetes.io/control-plane:NoSchedule), a worker none); V([]), no taint.
    type: list
    elements: dict
    suboptions:
      key:
        description: Taint key.
        type: str
        required: true
      value:
        description: Taint value.
        type: str
      effect:
        description: Taint effect.
        type: str
        choices: [NoSchedule, PreferNoSchedule, NoExecute]
        default: NoSchedule
  ignore_preflight_errors:
    description: kubeadm preflight checks to ignore during the join.
    type: list
    elements: str
    default: []
  patches_dir:
    description: Directory of kubeadm patches for the join (C(patches.directory)).
    type: path
  timeouts:
    description: "kubeadm v1beta4 C(timeouts) of the join, for example C({discovery: 5m0s})."
    type: dict
  control_plane:
    description:
      - The C(controlPlane) section of the join; required when O(node_role=control_plane) and O(state=joined).
    type: dict
    suboptions:
      advertise_address:
        description: Address this node's API server and etcd advertise.
        type: str
        required: true
      bind_port:
        description: Port this node's API server listens on.
        type: int
      certificate_key:
        description:
          - Key that decrypts C(kube-system/kubeadm-certs), for example from
            M(quorum.k8s.kubeadm_token) with O(quorum.k8s.kubeadm_token#module:upload_certs=true).
          - Leave it out when the shared certificates are already on the node (the quorum.k8s roles
            write them from Vault).
        type: str
notes:
  - Needs kubeadm on the node; no Python library is required.
  - "Run control-plane joins one at a time (C(serial: 1)): kubeadm adds a stacked etcd member per join."
seealso:
  - module: quorum.k8s.kubeadm_token
  - name: kubeadm join
    description: The kubeadm command this module runs.
    link: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-join/
"""

EXAMPLES = r"""
- name: Read the node state
  quorum.k8s.kubeadm_node:
    node_role: control_plane
    etcd_topology: stacked
  register: node

- name: Initialise the cluster on the first control plane
  quorum.k8s.kubeadm_node:
    state: initialized
    node_role: control_plane
    config: /etc/kubernetes/kubeadm-config.yaml

- name: Get join material
  quorum.k8s.kubeadm_token:
  delegate_to: "{{ groups['control_plane'][0] }}"
  run_once: true
  register: join

- name: Join a worker, tainted
  quorum.k8s.kubeadm_node:
    state: joined
    node_name: "{{ inventory_hostname }}"
    node_ip: "{{ inventory_hostname | quorum.k8s.node_address(hostvars) }}"
    api_server_endpoint: "{{ quorum_api_vip }}:{{ lookup('quorum.k8s.cluster_setting', 'quorum_api_port') }}"
    token: "{{ join.token }}"
    discovery_token_ca_cert_hash: "{{ join.discovery_token_ca_cert_hash }}"
    taints:
      - key: node-role.kubernetes.io/meta-worker
        effect: NoSchedule

- name: Join a control plane
  quorum.k8s.kubeadm_node:
    state: joined
    node_role: control_plane
    node_name: "{{ inventory_hostname }}"
    api_server_endpoint: "{{ quorum_api_vip }}:{{ lookup('quorum.k8s.cluster_setting', 'quorum_api_port') }}"
    token: "{{ join.token }}"
    discovery_token_ca_cert_hash: "{{ join.discovery_token_ca_cert_hash }}"
    patches_dir: /etc/kubernetes/patches
    control_plane:
      advertise_address: "{{ inventory_hostname | quorum.k8s.node_address(hostvars) }}"
      bind_port: "{{ lookup('quorum.k8s.cluster_setting', 'quorum_apiserver_port') }}"
"""

RETURN = r"""
node_state:
  description: V(absent) (not joined), V(member) or V(partial) (half-joined); after an init or join, the state it left.
  returned: always
  type: str
  sample: member
found:
  description: The member and trace files that exist on the node.
  returned: always
  type: list
  elements: str
  sample: [/etc/kubernetes/kubelet.conf, /etc/kubernetes/manifests/kube-apiserver.yaml]
expected:
  description: The files that make a member.
  returned: always
  type: list
  elements: str
  sample: [/etc/kubernetes/kubelet.conf, /etc/kubernetes/manifests/kube-apiserver.yaml, /etc/kubernetes/manifests/etcd.yaml]
missing:
  description: The files of RV(expected) that do not exist.
  returned: always
  type: list
  elements: str
  sample: [/etc/kubernetes/manifests/etcd.yaml]
action:
  description: V(init) or V(join) when it ran (or, in check mode, would run); null when nothing ran.
  returned: always
  type: str
  sample: join
reset:
  description: Whether a failed join was undone with C(kubeadm reset).
  returned: always
  type: bool
  sample: false
stdout:
  description: kubeadm's standard output of the init or join.
  returned: when an init or join ran
  type: str
stderr:
  description: kubeadm's error output of a failed init or join.
  returned: failure
  type: str
msg:
  description: The state in words; on failure, what failed on which node, then kubeadm's error line and its last lines.
  returned: always
  type: str
  sample: "cp1 has joined the cluster (/etc/kubernetes/kubelet.conf, /etc/kubernetes/manifests/kube-apiserver.yaml present)"
"""

import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.errors import KubeadmError
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.module import client as kubeadm_client
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.module import temp_writer
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.node import (
    CONTROL_PLANE,
    KubeadmRunFailed,
    NodeRequest,
    ensure,
    read_state,
    rooted,
)
from ansible_collections.quorum.k8s.plugins.module_utils._kubeadm.tokens import valid_certificate_key, valid_token

# Where the node's files are looked for (unit tests point it at a tree of their own).
ROOT = "/"


def argument_spec():
    return dict(
        state=dict(type="str", choices=["initialized", "joined"]),
        node_role=dict(type="str", choices=["control_plane", "worker"], default="worker"),
        etcd_topology=dict(type="str", choices=["stacked", "external"], default="stacked"),
        node_name=dict(type="str"),
        kubeadm_path=dict(type="str", default="kubeadm"),
        verbosity=dict(type="int", default=0),
        config=dict(type="path"),
        api_server_endpoint=dict(type="str"),
        token=dict(type="str", no_log=True),
        discovery_token_ca_cert_hash=dict(type="str", no_log=False),
        node_ip=dict(type="str"),
        cri_socket=dict(type="str"),
        taints=dict(type="list", elements="dict", options=dict(
            key=dict(type="str", required=True, no_log=False),
            value=dict(type="str"),
            effect=dict(type="str", choices=["NoSchedule", "PreferNoSchedule", "NoExecute"], default="NoSchedule"),
        )),
        ignore_preflight_errors=dict(type="list", elements="str", default=[]),
        patches_dir=dict(type="path"),
        timeouts=dict(type="dict"),
        control_plane=dict(type="dict", options=dict(
            advertise_address=dict(type="str", required=True),
            bind_port=dict(type="int"),
            certificate_key=dict(type="str", no_log=True),
        )),
    )


def _check_join_params(module, params):
    """What a join needs; the token and hash may be missing in check mode (kubeadm_token creates none there)."""
    if params["node_role"] == CONTROL_PLANE and not params["control_plane"]:
        module.fail_json(msg="control_plane (at least advertise_address) is required to join a control plane")
    if module.check_mode:
        return
    for name in ("token", "discovery_token_ca_cert_hash"):
        if not params[name]:
            module.fail_json(msg="%s is required to join %s" % (name, params["node_name"]))
    if not valid_token(params["token"]):
        module.fail_json(msg="token must look like [a-z0-9]{6}.[a-z0-9]{16} (a kubeadm bootstrap token)")
    if not params["discovery_token_ca_cert_hash"].startswith("sha256:"):
        module.fail_json(msg="discovery_token_ca_cert_hash must start with sha256:")
    key = (params["control_plane"] or {}).get("certificate_key")
    if key and not valid_certificate_key(key):
        module.fail_json(msg="control_plane.certificate_key must be 64 lowercase hex characters (32 bytes)")


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[
            ("state", "initialized", ("config",)),
            ("state", "joined", ("api_server_endpoint",)),
        ],
        supports_check_mode=True,
    )
    params = module.params
    params["node_name"] = params["node_name"] or socket.gethostname()
    exists = rooted(ROOT)

    if params["state"] == "joined":
        _check_join_params(module, params)

    join = dict(
        api_server_endpoint=params["api_server_endpoint"],
        token=params["token"],
        ca_cert_hash=params["discovery_token_ca_cert_hash"],
        node_ip=params["node_ip"],
        taints=params["taints"],
        ignore_preflight_errors=params["ignore_preflight_errors"],
        patches_dir=params["patches_dir"],
        timeouts=params["timeouts"],
        control_plane=params["control_plane"],
    )
    try:
        request = NodeRequest(params["state"] or "info", params["node_role"], params["node_name"],
                              etcd_topology=params["etcd_topology"], config=params["config"], join=join,
                              verbosity=params["verbosity"], cri_socket=params["cri_socket"])
        # kubeadm is looked up only when it may run: check mode works before the binaries are installed
        runs = params["state"] is not None and not module.check_mode
        client = kubeadm_client(module, params["kubeadm_path"]) if runs else None
        result = ensure(client, request, exists, check_mode=module.check_mode, write_temp=temp_writer(module))
    except KubeadmRunFailed as exc:
        state = read_state(exists, params["node_role"], params["etcd_topology"]).as_dict()
        module.fail_json(msg=str(exc), rc=exc.rc, stderr=exc.stderr, reset=exc.reset, changed=True,
                         action="init" if params["state"] == "initialized" else "join", **state)
    except KubeadmError as exc:
        state = read_state(exists, params["node_role"], params["etcd_topology"]).as_dict()
        module.fail_json(msg=str(exc), action=None, reset=False, **state)

    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
