# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the kubeadm helpers: only modules turn them into fail_json."""

from __future__ import annotations


class KubeadmError(Exception):
    """Base class of every error raised by the _kubeadm helpers."""


class ParseError(KubeadmError):
    """Input from kubectl/kubeadm or a certificate could not be understood."""


class CommandError(KubeadmError):
    """A kubectl or kubeadm command failed.

    ``what`` names the operation (never the full command line, which may carry a secret).
    """

    def __init__(self, what, rc, stderr):
        self.what = what
        self.rc = rc
        self.stderr = (stderr or "").strip()
        super().__init__("%s failed (rc=%s): %s" % (what, rc, self.stderr or "no output"))
