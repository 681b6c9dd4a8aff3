#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cert_expiry
short_description: List the certificates on a node with the days they have left
version_added: 0.1.0
description:
  - Reads every file matching O(paths) on the node. A PEM file counts with its first certificate (the leaf,
    or the CA of a CA file); a kubeconfig counts with the client certificates it embeds
    (C(client-certificate-data)).
  - Reads certificates without python3-cryptography or openssl, so it runs on minimal nodes.
  - Changes nothing. The certificates below O(threshold_days) are returned in RV(expiring); deciding what to
    do about them is left to the play (report, fail or renew).
author:
  - quorum.k8s developers (@quorum-k8s)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  paths:
    description:
      - Files or shell-style glob patterns of the files to read; a pattern that matches nothing is skipped.
      - Private keys must not be matched; a file that holds no certificate is returned in RV(unreadable).
    type: list
    elements: str
    required: true
  threshold_days:
    description: A certificate with fewer days than this left is listed in RV(expiring). Fractions allowed.
    type: float
    default: 30
"""

EXAMPLES = r"""
- name: Read the control plane's certificates
  quorum.k8s.cert_expiry:
    paths:
      - /etc/kubernetes/pki/*.crt
      - /etc/kubernetes/pki/etcd/*.crt
      - /etc/kubernetes/*.conf
    threshold_days: 30
  register: certs

- name: Fail when one expires within 30 days
  ansible.builtin.assert:
    that: certs.expiring | length == 0
    fail_msg: "{{ certs.expiring | map(attribute='path') | join(', ') }} expire within 30 days"
"""

RETURN = r"""
certificates:
  description: Every certificate found, the one expiring first first.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
      sample: /etc/kubernetes/pki/apiserver.crt
    source:
      description: V(pem) for a certificate file, V(kubeconfig) for a certificate a kubeconfig embeds.
      type: str
      sample: pem
    subject:
      description: Common name of the subject.
      type: str
      sample: kube-apiserver
    issuer:
      description: Common name of the issuer.
      type: str
      sample: kubernetes
    not_before:
      description: Start of validity, UTC, RFC 3339.
      type: str
      sample: "2026-12-03T12:00:00Z"
    not_after:
      description: End of validity, UTC, RFC 3339.
      type: str
      sample: "2027-12-03T12:00:00Z"
    seconds_left:
      description: Seconds until RV(certificates[].not_after); negative once expired.
      type: int
      sample: 31535000
    days_left:
      description: Days until RV(certificates[].not_after), two decimals; negative once expired.
      type: float
      sample: 364.99
expiring:
  description: The entries of RV(certificates) with fewer than O(threshold_days) days left.
  returned: always
  type: list
  elements: dict
  sample: []
unreadable:
  description: Files that matched O(paths) but hold no readable certificate, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/kubernetes/pki/broken.crt, reason: no PEM certificate found}]
"""

import datetime

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.quorum.k8s.plugins.module_utils import _certfiles


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="str", required=True),
            threshold_days=dict(type="float", default=30),
        ),
        supports_check_mode=True,
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    certificates, unreadable = _certfiles.scan(module.params["paths"], now)
    limit = module.params["threshold_days"] * 86400
    module.exit_json(
        changed=False,
        certificates=certificates,
        expiring=[cert for cert in certificates if cert["seconds_left"] < limit],
        unreadable=unreadable,
    )


if __name__ == "__main__":
    main()
