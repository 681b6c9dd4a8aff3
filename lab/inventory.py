"""The Ansible inventory of a running lab (YAML), following the inventory contract."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import yaml

from lab import backend as backends
from lab import config, topology


# Upper bounds of the lab's waits: generous, because 7 nodes share 2 host cores. They change
# nothing when things go well, only how long a failure takes to be reported.
WAIT_VARS: dict[str, Any] = {
    "control_plane_kubeadm_timeouts": {
        "controlPlaneComponentHealthCheck": "15m0s",
        "kubeletHealthCheck": "10m0s",
        "kubernetesAPICall": "5m0s",
        "etcdAPICall": "5m0s",
        "tlsBootstrap": "15m0s",
        "discovery": "15m0s",
    },
    "control_plane_ready_retries": 600,
    "network_wait_retries": 450,
    "worker_kubeadm_timeouts": {
        "kubeletHealthCheck": "10m0s",
        "kubernetesAPICall": "5m0s",
        "tlsBootstrap": "15m0s",
        "discovery": "15m0s",
    },
}


def proxy_command(ssh_key: Path, via: list[str]) -> str:
    """ssh's ProxyCommand through the first of the frontends ``via`` that answers (ssh runs it with
    the shell); a dead frontend costs its 5 s connect timeout."""
    opts = "-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5"
    return " || ".join(f"ssh -i {ssh_key} {opts} -W %h:%p root@{ip}" for ip in via)


def kubernetes_version(home: Path) -> str:
    """The Kubernetes version the artifact mirror carries, else the lab default."""
    for candidate in (home / "mirror" / "manifest.json", home / "artifacts" / "manifest.json"):
        try:
            data = json.loads(candidate.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict):
            value = data.get("kubernetes_version")
            if value is None and isinstance(data.get("kubernetes"), dict):
                value = data["kubernetes"].get("version")
            if isinstance(value, str) and value:
                return value.lstrip("v")
    return config.DEFAULT_KUBERNETES_VERSION


def build(
    topo: str,
    node_list: list[topology.Node],
    *,
    ssh_key: Path,
    ca_cert: Path,
    instance: str,
    kubernetes: str = config.DEFAULT_KUBERNETES_VERSION,
    backend: str = "qemu",
) -> dict[str, Any]:
    """Inventory as a dict: groups of the contract, all hosts in ``lab``, quorum_* vars."""
    groups: dict[str, dict[str, Any]] = {}
    for node in node_list:
        groups.setdefault(node.group, {"hosts": {}})["hosts"][node.name] = {"ansible_host": node.ip}
    for group in topology.CONTRACT_GROUPS:
        groups.setdefault(group, {"hosts": {}})
    children: dict[str, Any] = {name: groups[name] if groups[name]["hosts"] else {} for name in sorted(groups)}
    cluster = "lab" if instance == "default" else f"lab-{instance}"
    all_vars: dict[str, Any] = {
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(ssh_key),
        # every lab VM gets fresh host keys at each boot: known_hosts would only get in the way
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        "lab_topology": topo,
        "lab_instance": instance,
        "lab_backend": backend,
        "quorum_cluster_name": cluster,
        "quorum_etcd_topology": topology.etcd_topology(topo),
        "quorum_node_cidr": config.NODE_CIDR,
        "quorum_api_vip": config.API_VIP,
        "quorum_api_port": 6443,
        "quorum_kubernetes_version": kubernetes,
        "quorum_pod_cidr": config.POD_CIDR,
        "quorum_service_cidr": config.SERVICE_CIDR,
        "quorum_vault_addr": config.VAULT_ADDR,
        "quorum_vault_ca_cert": str(ca_cert),
        "quorum_vault_prefix": "quorum",
        "quorum_artifacts": config.MIRROR_URL,
        # ECDSA P-256 instead of RSA-2048 for Vault's CAs and certificates: on an emulated guest an
        # RSA-2048 signature costs 5.8 ms, and every TLS handshake (probes, HAProxy checks, etcd
        # clients with kubeadm's fixed 2 s dial timeout) pays one on each side. On all, not on lab:
        # the Vault role runs on the controller.
        "vault_pki_key_type": "ec",
        "vault_pki_key_bits": 256,
    }
    # The collection's default pod network unless asked (the bridge's figures: docs/cluster.md).
    if os.environ.get("QUORUM_LAB_NETWORK_PLUGIN"):
        all_vars["quorum_network_plugin"] = os.environ["QUORUM_LAB_NETWORK_PLUGIN"]
    # The guests' interpreter sits on the lab group, not on all: the implicit localhost inherits
    # all's vars, and controller tasks (Vault, delegate_to: localhost) need the venv's Python.
    lab_vars = {"ansible_python_interpreter": "/usr/bin/python3", **WAIT_VARS, **backends.BACKENDS[backend].INVENTORY_VARS}
    # a backend's cluster variables go on all, like the others: the scenarios' controller tasks read them
    all_vars.update({key: lab_vars.pop(key) for key in [k for k in lab_vars if k.startswith("quorum_")]})
    if all_vars.get("quorum_firewall"):
        # nodes take SSH from the frontends only: the controller goes through them, as an operator's
        # inventory does (docs/inventory.md), the first frontend that answers. In the *_extra_args of
        # ssh, sftp and scp: Molecule's inventory sets ansible_ssh_common_args on every host.
        frontends = [n.ip for n in node_list if n.group == "frontend"]
        jump = "-o " + shlex.quote("ProxyCommand=" + proxy_command(ssh_key, frontends))
        for group in children:
            if group != "frontend" and children[group]:
                children[group]["vars"] = {f"ansible_{tool}_extra_args": jump for tool in ("ssh", "sftp", "scp")}
    return {"all": {"vars": all_vars, "children": {"lab": {"vars": lab_vars, "children": dict(children)}}}}


def render(inv: dict[str, Any]) -> str:
    header = "# Written by the quorum.k8s lab (lab up); regenerated on every run: do not edit.\n"
    return header + "---\n" + yaml.safe_dump(inv, default_flow_style=False, sort_keys=False)


def hosts(inv: dict[str, Any]) -> dict[str, str]:
    """name -> ansible_host for every host in the inventory."""
    found: dict[str, str] = {}

    def walk(group: dict[str, Any]) -> None:
        for name, hvars in (group.get("hosts") or {}).items():
            found[name] = (hvars or {}).get("ansible_host", name)
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk(inv["all"])
    return found
