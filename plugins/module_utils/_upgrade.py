# -*- coding: utf-8 -*-
# Copyright: quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes' version-skew rules for an upgrade, decided from what the cluster reports.

Input: the target release, the Node list (each kubelet's running version) and the API server
pods (each control plane's running image). Output: the versions seen and every reason to refuse,
each naming the host. https://kubernetes.io/releases/version-skew-policy/: API servers move one
minor at a time; a kubelet is never newer than an API server and at most three minors older.
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
# Kubelets may be up to this many minors older than the API servers (1.28 and later).
KUBELET_MAX_MINORS_BEHIND = 3


def parse(version):
    """(major, minor, patch) of "1.35.8" or "v1.35.8"; None when it is not a release version."""
    match = _VERSION.match(str(version or "").strip())
    return tuple(int(part) for part in match.groups()) if match else None


def _show(version):
    return "%d.%d.%d" % version


def _tag(image):
    """The tag of an image reference: "registry.k8s.io/kube-apiserver:v1.34.12" -> "v1.34.12"."""
    name = str(image).rsplit("/", 1)[-1]
    return name.split(":", 1)[1].split("@", 1)[0] if ":" in name else ""


def running_versions(nodes, apiserver_pods):
    """({node: kubelet version}, {node: API server image tag}) from the two `kubectl get -o json` lists."""
    kubelets = {}
    for node in (nodes or {}).get("items", []):
        name = node.get("metadata", {}).get("name")
        kubelets[name] = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    apis = {}
    for pod in (apiserver_pods or {}).get("items", []):
        spec = pod.get("spec") or {}
        for container in spec.get("containers") or []:
            if container.get("name") == "kube-apiserver":
                apis[spec.get("nodeName") or pod.get("metadata", {}).get("name")] = _tag(container.get("image", ""))
    return kubelets, apis


def upgrade_plan(target, nodes, apiserver_pods):
    """{target, kubelets, api_servers, pending, refusals}: ``pending`` lists the nodes whose kubelet or
    API server is not at the target yet; ``refusals`` every skew rule the target breaks (empty: go)."""
    refusals = []
    wanted = parse(target)
    kubelets, apis = running_versions(nodes, apiserver_pods)
    if wanted is None:
        return {"target": target, "kubelets": kubelets, "api_servers": apis, "pending": [],
                "refusals": ["quorum_kubernetes_version: %r is not a release version X.Y.Z" % (target,)]}
    if not apis:
        refusals.append("no API server pod found in kube-system: is this a kubeadm cluster that answers?")
    for kind, versions in (("API server", apis), ("kubelet", kubelets)):
        for node, seen in sorted(versions.items()):
            parsed = parse(seen)
            if parsed is None:
                refusals.append("%s on %s reports %r, not a release version" % (kind, node, seen))
            elif parsed > wanted:
                refusals.append("%s on %s runs %s, newer than the target %s: a downgrade is not supported"
                                % (kind, node, _show(parsed), _show(wanted)))
            elif parsed[0] != wanted[0]:
                refusals.append("%s on %s runs %s: a major version change is not supported" % (kind, node, _show(parsed)))
    api_parsed = [v for v in (parse(s) for s in apis.values()) if v]
    if api_parsed:
        oldest_api = min(api_parsed)
        if wanted[1] > oldest_api[1] + 1:
            refusals.append("the API servers run %s: upgrade to %d.%d first, one minor at a time (target %s skips %s)"
                            % (", ".join(sorted({_show(v) for v in api_parsed})), oldest_api[0], oldest_api[1] + 1,
                               _show(wanted), ", ".join("%d.%d" % (oldest_api[0], m)
                                                        for m in range(oldest_api[1] + 1, wanted[1]))))
        newest_api = max(api_parsed)
        for node, seen in sorted(kubelets.items()):
            parsed = parse(seen)
            if parsed is None or parsed[0] != wanted[0]:
                continue
            # During an upgrade a control plane's kubelet moves with its own API server (kubeadm's
            # procedure), so only a kubelet newer than every API server breaks the rule.
            if parsed > newest_api:
                refusals.append("kubelet on %s runs %s, newer than every API server (newest %s)"
                                % (node, _show(parsed), _show(newest_api)))
            if wanted[1] - parsed[1] > KUBELET_MAX_MINORS_BEHIND:
                refusals.append("kubelet on %s runs %s: more than %d minors behind the target %s; upgrade it first"
                                % (node, _show(parsed), KUBELET_MAX_MINORS_BEHIND, _show(wanted)))
    pending = sorted({n for n, v in kubelets.items() if parse(v) != wanted}
                     | {n for n, v in apis.items() if parse(v) != wanted})
    return {"target": _show(wanted), "kubelets": kubelets, "api_servers": apis, "pending": pending,
            "refusals": refusals}
