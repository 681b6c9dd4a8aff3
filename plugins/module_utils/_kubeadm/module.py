# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the kubeadm modules share: finding the binaries, the client, private temporary files."""

from __future__ import annotations

import os
import tempfile

from .client import DEFAULT_KUBECONFIG, KubeadmClient

EXTRA_PATHS = ["/usr/local/bin", "/usr/bin"]

# Options of the modules that talk to the API server (documented by the quorum.k8s.kubectl fragment).
KUBECTL_ARGS = dict(
    kubeconfig=dict(type="path", default=DEFAULT_KUBECONFIG),
    kubectl_path=dict(type="str", default="kubectl"),
)


def binary(module, name):
    """An absolute path as given; a bare name looked up in PATH and EXTRA_PATHS (fails the module if absent)."""
    if os.path.isabs(name):
        if not os.access(name, os.X_OK):
            module.fail_json(msg="%s is not an executable file: install it or set the path option" % name)
        return name
    return module.get_bin_path(name, required=True, opt_dirs=EXTRA_PATHS)


def client(module, kubeadm=None, kubectl=None, kubeconfig=DEFAULT_KUBECONFIG):
    """The KubeadmClient of a module: commands through run_command, in the C locale.

    Only the binaries named are looked up (a module that runs no kubeadm needs none on the node).
    """
    return KubeadmClient(
        run=lambda argv: module.run_command(argv, environ_update={"LC_ALL": "C"}),
        kubeadm=binary(module, kubeadm) if kubeadm else "kubeadm",
        kubectl=binary(module, kubectl) if kubectl else "kubectl",
        kubeconfig=kubeconfig,
    )


def temp_writer(module):
    """``write_temp(text) -> (path, cleanup)``: a 0600 file in the module's private temporary directory."""
    def write_temp(text):
        fd, path = tempfile.mkstemp(prefix="kubeadm-", suffix=".yaml", dir=module.tmpdir)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o600)
        return path, lambda: os.path.exists(path) and os.unlink(path)
    return write_temp
