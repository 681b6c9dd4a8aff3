# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How the modules that talk to the API server reach it (argument spec: KUBECTL_ARGS in
    # module_utils/_kubeadm/module.py).
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description: Admin kubeconfig on the node.
    type: path
    default: /etc/kubernetes/admin.conf
  kubectl_path:
    description: The kubectl binary; looked up in E(PATH) and C(/usr/local/bin) when not absolute.
    type: str
    default: kubectl
"""
