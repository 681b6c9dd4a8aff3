#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: package_lists
short_description: Make sure a node's apt package lists know the packages it must install
version_added: 0.1.0
description:
  - Runs C(apt-get update) when the apt sources changed since the last update this module ran (a
    digest of the source files kept in O(stamp)), or when a package of O(names) has no candidate.
    Otherwise it changes nothing.
  - Unlike C(cache_valid_time) of M(ansible.builtin.apt), the age of the lists does not count; a
    machine built from an image whose sources were changed after its last update has young lists
    that know none of the packages of its new sources.
  - Fails, naming the packages and the sources that were asked, when a package is still unknown
    after the update.
author:
  - quorum.k8s developers (@quorum-k8s)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  names:
    description:
      - Packages the following M(ansible.builtin.apt) task installs. A version (C(name=1.2)) is allowed and ignored here.
    type: list
    elements: str
    required: true
  stamp:
    description: Where the digest of the sources of the last update is recorded.
    type: path
    default: /var/lib/quorum/apt-sources.sha256
requirements:
  - apt-get and apt-cache on the node (Debian, Ubuntu).
"""

EXAMPLES = r"""
- name: Make sure the package lists know keepalived and HAProxy
  quorum.k8s.package_lists:
    names: [keepalived, haproxy]

- name: Install keepalived and HAProxy
  ansible.builtin.apt:
    name: [keepalived, haproxy]
    state: present
"""

RETURN = r"""
updated:
  description: Whether C(apt-get update) ran (or would run, in check mode).
  returned: always
  type: bool
  sample: true
reason:
  description: Why the lists were updated; empty when they were not.
  returned: always
  type: str
  sample: the apt sources changed since the last update
sources:
  description: The repository URIs of the node's apt sources.
  returned: always
  type: list
  elements: str
  sample: [http://10.231.0.1/debian]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.quorum.k8s.plugins.module_utils import _apt

ENV = dict(LANG="C", LC_ALL="C", DEBIAN_FRONTEND="noninteractive")


def _policy(module, names):
    rc, out, err = module.run_command(["apt-cache", "policy"] + [_apt.query_name(n) for n in names], environ_update=ENV)
    if rc != 0:
        module.fail_json(msg="apt-cache policy failed (rc=%d): %s" % (rc, err.strip()))
    return _apt.parse_policy(out)


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except (IOError, OSError):
        return ""


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", required=True),
            stamp=dict(type="path", default="/var/lib/quorum/apt-sources.sha256"),
        ),
        supports_check_mode=True,
    )
    names = module.params["names"]
    stamp = module.params["stamp"]
    files = _apt.source_files()
    digest = _apt.sources_digest(files)
    sources = _apt.source_uris([_read(f) for f in files])
    unknown = _apt.unknown_packages(names, _policy(module, names))
    reason = _apt.update_reason(_read(stamp), digest, unknown)
    result = dict(changed=reason is not None, updated=reason is not None, reason=reason or "", sources=sources)
    if reason is None or module.check_mode:
        module.exit_json(**result)

    rc, out, err = module.run_command(["apt-get", "update", "-q"], environ_update=ENV)
    if rc != 0:
        module.fail_json(msg="apt-get update failed (rc=%d) for the sources %s: %s" % (rc, ", ".join(sources), err.strip() or out.strip()), **result)
    missing = _apt.unknown_packages(names, _policy(module, names))
    if missing:
        module.fail_json(msg="package(s) %s not found at the apt sources %s (after apt-get update)"
                         % (", ".join(missing), ", ".join(sources) or "(none configured)"), **result)
    os.makedirs(os.path.dirname(stamp), mode=0o755, exist_ok=True)
    with open(stamp + ".tmp", "w") as f:
        f.write(digest + "\n")
    module.atomic_move(stamp + ".tmp", stamp)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
