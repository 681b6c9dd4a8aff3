# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A node's kubeadm state (not joined, member, half-joined) and kubeadm init, join and reset on it.

The state is read from the files a successful ``kubeadm init`` or ``kubeadm join`` leaves (a
state check, not a ``creates:`` guess): every member file present is a member; none of the
member files nor any other trace of kubeadm is a node that has not joined; anything in between
is a failed or interrupted init or join, which no run goes on over.
"""

from __future__ import annotations

import json
import os
import re

from .errors import CommandError, KubeadmError
from .nodeobj import EFFECTS

ABSENT = "absent"
MEMBER = "member"
PARTIAL = "partial"
STATES = (ABSENT, MEMBER, PARTIAL)

CONTROL_PLANE = "control_plane"
WORKER = "worker"

JOIN_API_VERSION = "kubeadm.k8s.io/v1beta4"

_KUBELET_CONF = "/etc/kubernetes/kubelet.conf"
_BOOTSTRAP_KUBELET_CONF = "/etc/kubernetes/bootstrap-kubelet.conf"
_KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
_MANIFESTS = "/etc/kubernetes/manifests/"


def member_files(node_role, etcd_topology="stacked"):
    """What a successful init or join leaves: all of them present is a member."""
    if node_role == WORKER:
        return [_KUBELET_CONF]
    files = [_KUBELET_CONF, _MANIFESTS + "kube-apiserver.yaml"]
    if etcd_topology == "stacked":
        files.append(_MANIFESTS + "etcd.yaml")
    return files


def trace_files(node_role, etcd_topology="stacked"):
    """Member files and what else only kubeadm writes (``kubeadm reset`` removes them all).

    Not the PKI of a control plane: the roles write it from Vault before kubeadm runs. A worker's
    cluster CA, though, comes only from kubeadm join.
    """
    files = member_files(node_role, etcd_topology) + [_BOOTSTRAP_KUBELET_CONF, _KUBELET_CONFIG]
    if node_role == WORKER:
        files.append("/etc/kubernetes/pki/ca.crt")
    else:
        files += [_MANIFESTS + name for name in ("kube-controller-manager.yaml", "kube-scheduler.yaml", "etcd.yaml")]
    return _unique(files)


def _unique(items):
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


class NodeState:
    """What was found on a node: ``state`` is one of STATES."""

    def __init__(self, state, found, expected):
        self.state = state
        self.found = list(found)
        self.expected = list(expected)

    @property
    def missing(self):
        return [path for path in self.expected if path not in self.found]

    def describe(self, node_name):
        if self.state == MEMBER:
            return "%s has joined the cluster (%s present)" % (node_name, ", ".join(self.expected))
        if self.state == ABSENT:
            return "%s has not joined a cluster (none of %s)" % (node_name, ", ".join(self.expected))
        return (
            "%s holds part of a node (%s) but not all of %s: a failed or interrupted kubeadm init or join. "
            "Run `kubeadm reset --force` on it, then run the playbook again."
            % (node_name, ", ".join(self.found), ", ".join(self.expected))
        )

    def as_dict(self):
        return {"node_state": self.state, "found": self.found, "expected": self.expected,
                "missing": self.missing}


def read_state(exists, node_role, etcd_topology="stacked"):
    """The node's state; ``exists(path) -> bool`` looks at the node's files."""
    expected = member_files(node_role, etcd_topology)
    found = [path for path in trace_files(node_role, etcd_topology) if exists(path)]
    if all(path in found for path in expected):
        state = MEMBER
    elif found:
        state = PARTIAL
    else:
        state = ABSENT
    return NodeState(state, found, expected)


def rooted(root):
    """An ``exists`` that looks under ``root`` (``/`` on a node; a test tree in unit tests)."""
    return lambda path: os.path.exists(os.path.join(root, path.lstrip("/")))


def choose_leader(hosts, states):
    """The host that inits, or that join material comes from.

    ``hosts``: the control planes of the play in inventory order; ``states``: host -> node
    state. The leader is the first member; when none is, the first host that has not joined
    (a half-joined host never leads), and the cluster needs an init.
    """
    hosts = list(hosts or [])
    if not hosts:
        raise KubeadmError("no control plane in the play: nothing to lead")
    unknown = [host for host in hosts if states.get(host) not in STATES]
    if unknown:
        raise KubeadmError("no node state for %s: read it with quorum.k8s.kubeadm_node state=info first"
                           % ", ".join(unknown))
    members = [host for host in hosts if states[host] == MEMBER]
    if members:
        return {"leader": members[0], "needs_init": False, "members": members}
    fresh = [host for host in hosts if states[host] == ABSENT]
    if not fresh:
        raise KubeadmError("every control plane of the play is half-joined (%s): run `kubeadm reset --force` "
                           "on them, then run the playbook again" % ", ".join(hosts))
    return {"leader": fresh[0], "needs_init": True, "members": []}


def join_configuration(api_server_endpoint, token, ca_cert_hash, node_name, node_ip=None,
                       cri_socket=None, taints=None, ignore_preflight_errors=None, patches_dir=None,
                       timeouts=None, control_plane=None):
    """The JoinConfiguration (kubeadm v1beta4) as a dict.

    ``taints`` None leaves kubeadm's default (a control plane gets its own taint); ``[]`` means
    no taint. ``control_plane``: {advertise_address, bind_port, certificate_key (optional)}.
    """
    registration = {"name": node_name}
    if cri_socket:
        registration["criSocket"] = cri_socket
    registration["imagePullPolicy"] = "IfNotPresent"
    if node_ip:
        registration["kubeletExtraArgs"] = [{"name": "node-ip", "value": node_ip}]
    if taints is not None:
        registration["taints"] = [_taint(taint) for taint in taints]
    if ignore_preflight_errors:
        registration["ignorePreflightErrors"] = list(ignore_preflight_errors)
    config = {
        "apiVersion": JOIN_API_VERSION,
        "kind": "JoinConfiguration",
        "discovery": {"bootstrapToken": {
            "apiServerEndpoint": api_server_endpoint,
            "token": token,
            "caCertHashes": [ca_cert_hash],
        }},
        "nodeRegistration": registration,
    }
    if patches_dir:
        config["patches"] = {"directory": patches_dir}
    if control_plane is not None:
        endpoint = {"advertiseAddress": control_plane["advertise_address"]}
        if control_plane.get("bind_port") is not None:
            endpoint["bindPort"] = int(control_plane["bind_port"])
        section = {"localAPIEndpoint": endpoint}
        if control_plane.get("certificate_key"):
            section["certificateKey"] = control_plane["certificate_key"]
        config["controlPlane"] = section
    if timeouts:
        config["timeouts"] = dict(timeouts)
    return config


def _taint(taint):
    if not isinstance(taint, dict) or not taint.get("key"):
        raise KubeadmError("a taint needs a key: %r" % (taint,))
    out = {"key": taint["key"]}
    if taint.get("value") not in (None, ""):
        out["value"] = str(taint["value"])
    out["effect"] = taint.get("effect") or "NoSchedule"
    if out["effect"] not in EFFECTS:
        raise KubeadmError("taint %s: effect must be one of %s" % (out["key"], ", ".join(EFFECTS)))
    return out


def to_yaml(value, indent=0):
    """Block YAML of dicts, lists and scalars; strings JSON-quoted (a JSON string is a YAML scalar).

    Nodes need no YAML library for this, and no value (a token, a path) can change the structure.
    """
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append("%s%s:\n%s" % (pad, key, to_yaml(item, indent + 2)))
            else:
                lines.append("%s%s: %s\n" % (pad, key, _scalar(item)))
        return "".join(lines)
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        lines = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                body = to_yaml(item, indent + 2)
                lines.append("%s- %s" % (pad, body[indent + 2:]))
            else:
                lines.append("%s- %s\n" % (pad, _scalar(item)))
        return "".join(lines)
    return pad + _scalar(value) + "\n"


def _scalar(value):
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def failure_summary(output, tail=6):
    """kubeadm's error lines first (its warnings come before them), then the last lines, once each."""
    lines = [line for line in (output or "").splitlines() if line.strip()]
    chosen = [line for line in lines if re.match(r"error", line)] + lines[-tail:]
    return " | ".join(_unique(chosen)) or "no output"


class KubeadmRunFailed(KubeadmError):
    """kubeadm init or join failed; ``reset`` tells whether the node was reset afterwards."""

    def __init__(self, message, rc, stderr, reset):
        super().__init__(message)
        self.rc = rc
        self.stderr = stderr
        self.reset = reset


class NodeRequest:
    """What the caller wants: ``state`` is info, initialized or joined."""

    def __init__(self, state, node_role, node_name, etcd_topology="stacked", config=None, join=None,
                 verbosity=0, cri_socket=None):
        if state not in ("info", "initialized", "joined"):
            raise KubeadmError("state must be info, initialized or joined, not %r" % (state,))
        if state == "initialized" and node_role != CONTROL_PLANE:
            raise KubeadmError("only a control plane can be initialised (node_role=control_plane)")
        self.state = state
        self.node_role = node_role
        self.node_name = node_name
        self.etcd_topology = etcd_topology
        self.config = config
        self.join = join or {}
        self.verbosity = verbosity
        self.cri_socket = cri_socket


def ensure(client, request, exists, check_mode=False, write_temp=None):
    """Read the node, then init or join it when asked and needed; return the module result.

    A member is left alone (nothing runs); a half-joined node is refused; a failed join is
    undone with ``kubeadm reset`` before the failure is raised.
    """
    before = read_state(exists, request.node_role, request.etcd_topology)
    result = dict(before.as_dict(), changed=False, action=None, reset=False,
                  msg=before.describe(request.node_name))
    result["diff"] = {"before": {"node_state": before.state}, "after": {"node_state": before.state}}
    if request.state == "info" or before.state == MEMBER:
        return result
    if before.state == PARTIAL:
        raise KubeadmError(before.describe(request.node_name))

    action = "init" if request.state == "initialized" else "join"
    result.update(changed=True, action=action)
    result["diff"]["after"]["node_state"] = MEMBER
    if check_mode:
        result["msg"] = "%s would run kubeadm %s" % (request.node_name, action)
        return result

    if action == "init":
        if not exists(request.config):
            raise KubeadmError("kubeadm configuration %s not found on %s: write it before the init"
                               % (request.config, request.node_name))
        try:
            result["stdout"] = client.init(request.config, request.verbosity)
        except CommandError as exc:
            raise KubeadmRunFailed(
                "kubeadm init failed on %s: %s. Nothing was undone: look at the node, run "
                "`kubeadm reset --force` on it, then run the playbook again"
                % (request.node_name, failure_summary(exc.stderr)), exc.rc, exc.stderr, False)
    else:
        join = dict(request.join)
        if request.node_role != CONTROL_PLANE:
            join["control_plane"] = None
        config = join_configuration(node_name=request.node_name, cri_socket=request.cri_socket, **join)
        path, cleanup = write_temp(to_yaml(config))
        try:
            result["stdout"] = client.join(path, request.verbosity)
        except CommandError as exc:
            raise _undo_join(client, request, exc)
        finally:
            cleanup()

    after = read_state(exists, request.node_role, request.etcd_topology)
    result.update(after.as_dict(), msg="%s: kubeadm %s done; %s" % (
        request.node_name, action, after.describe(request.node_name)))
    result["diff"]["after"]["node_state"] = after.state
    return result


def _undo_join(client, request, exc):
    """Reset the node a join failed on (it would look joined, or half-joined, to the next run)."""
    summary = failure_summary(exc.stderr)
    try:
        client.reset(request.cri_socket)
    except CommandError as reset_exc:
        return KubeadmRunFailed(
            "kubeadm join failed on %s: %s. kubeadm reset failed too (%s): run `kubeadm reset --force` "
            "on it, then run the playbook again" % (request.node_name, summary, failure_summary(reset_exc.stderr, 2)),
            exc.rc, exc.stderr, False)
    return KubeadmRunFailed(
        "kubeadm join failed on %s and was undone with kubeadm reset; re-run the playbook: %s"
        % (request.node_name, summary), exc.rc, exc.stderr, True)
