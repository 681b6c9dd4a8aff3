# -*- coding: utf-8 -*-
# Copyright (c) quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificates a node holds: PEM files and the client certificates kubeconfigs embed."""

from __future__ import annotations

import base64
import binascii
import glob
import os
import re

from ansible_collections.quorum.k8s.plugins.module_utils import _x509

# kubeadm's kubeconfigs embed the client certificate; kubelet.conf points at a file instead (the
# kubelet's rotated certificate, read on its own).
_KUBECONFIG_CERT_RE = re.compile(r"^\s*client-certificate-data:\s*(\S+)\s*$", re.MULTILINE)
_KUBECONFIG_RE = re.compile(r"^kind:\s*Config\s*$", re.MULTILINE)


def certificates_in(text):
    """[(source, der)] of a file's text: its first PEM certificate, or a kubeconfig's client certificates."""
    embedded = _KUBECONFIG_CERT_RE.findall(text)
    if embedded or _KUBECONFIG_RE.search(text):
        out = []
        for value in embedded:
            try:
                pem = base64.b64decode(value, validate=True).decode("ascii", "replace")
            except (binascii.Error, ValueError):
                raise _x509.X509Error("client-certificate-data is not base64")
            out.append(("kubeconfig", _x509.pem_certificates(pem)[0]))
        return out
    # A bundle's first certificate is the one the file is about (the leaf, or the CA itself).
    return [("pem", _x509.pem_certificates(text)[0])]


def expand(patterns):
    """Existing regular files matching the glob patterns, sorted, each once."""
    found = set()
    for pattern in patterns:
        found.update(path for path in glob.glob(pattern) if os.path.isfile(path))
    return sorted(found)


def scan(patterns, now, read=None):
    """(certificates, unreadable): a dict per certificate, with days left at ``now``; files that hold none."""
    read = read or _read
    certificates, unreadable = [], []
    for path in expand(patterns):
        try:
            found = [(source, _x509.certificate_summary(der)) for source, der in certificates_in(read(path))]
        except (OSError, _x509.X509Error) as exc:
            unreadable.append({"path": path, "reason": str(exc)})
            continue
        for source, summary in found:
            left = (summary["not_after"] - now).total_seconds()
            certificates.append({
                "path": path,
                "source": source,
                "subject": summary["subject"],
                "issuer": summary["issuer"],
                "not_before": summary["not_before"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                "not_after": summary["not_after"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                "seconds_left": int(left),
                "days_left": round(left / 86400.0, 2),
            })
    certificates.sort(key=lambda cert: (cert["seconds_left"], cert["path"]))
    return certificates, unreadable


def _read(path):
    with open(path, "r", encoding="ascii", errors="replace") as handle:
        return handle.read()
