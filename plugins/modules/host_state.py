#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state
short_description: Read in one call whether a node's files, packages, units and kernel settings are as wanted
version_added: 0.1.0
description:
  - Compares the node with what a role would make of it and returns what differs. It changes nothing.
  - A role calls it first and runs its own steps only when O(files), O(packages), O(units),
    O(users), O(sysctls) or O(swap_off) differ. On a node already in that state, one call replaces a task per file, package and unit
    (each of which costs a round trip to every host, and most of a re-run).
  - The expected content of a file is given as its SHA-1, computed on the controller with the
    P(ansible.builtin.template#lookup) lookup and the C(hash) filter (see the examples), so no content, secret or
    not, is sent.
  - Any doubt is a difference (a file of another type, a unit systemd does not know); the role's own tasks
    then run and decide, as they would without this module.
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
  files:
    description: Files and directories, each compared only in the fields given.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path (a link is not followed).
        type: path
        required: true
      state:
        description: What must be there.
        type: str
        choices: [file, directory, absent]
        default: file
      sha1:
        description: SHA-1 of the file's content (hexadecimal).
        type: str
      sha256:
        description: SHA-256 of the file's content (hexadecimal), as published beside a download.
        type: str
      mode:
        description: Permissions, octal, as a string (C("0600")).
        type: str
      owner:
        description: Owner's name.
        type: str
      group:
        description: Group's name.
        type: str
  packages:
    description: Debian packages that must be installed (any version; C(name=version) is allowed, the version is ignored).
    type: list
    elements: str
    default: []
  units:
    description: systemd units.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The unit's name, with its suffix.
        type: str
        required: true
      enabled:
        description: Whether it must be enabled (C(UnitFileState=enabled)); not compared when omitted.
        type: bool
      active:
        description: Whether it must be active (running); not compared when omitted.
        type: bool
  users:
    description: Local users.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The user's name.
        type: str
        required: true
      shell:
        description: Login shell; not compared when omitted.
        type: str
      home:
        description: Home directory; not compared when omitted.
        type: str
  sysctls:
    description: Kernel settings (dotted names) and their values, read from C(/proc/sys).
    type: dict
    default: {}
  swap_off:
    description: Whether swap must be off, now (C(/proc/swaps)) and at boot (no active swap line in C(/etc/fstab)).
    type: bool
    default: false
requirements:
  - dpkg-query when O(packages) is given, systemctl when O(units) is given.
"""

EXAMPLES = r"""
- name: Read the firewall's state
  quorum.k8s.host_state:
    files:
      - path: /etc/quorum/firewall.nft
        sha1: "{{ lookup('ansible.builtin.template', 'firewall.nft.j2') | hash('sha1') }}"
        mode: "0600"
        owner: root
        group: root
    packages: [nftables]
    units:
      - {name: quorum-firewall.service, enabled: true, active: true}
  register: firewall_state

- name: Set up the firewall
  ansible.builtin.include_tasks: present.yml
  when: firewall_state.differences | length > 0
"""

RETURN = r"""
differences:
  description: What differs, one line each (empty when the node is as wanted).
  returned: always
  type: list
  elements: str
  sample: ["/etc/quorum/firewall.nft: content differs", "unit quorum-firewall.service: inactive, wanted active"]
matches:
  description: Whether nothing differs.
  returned: always
  type: bool
  sample: true
"""

import os
import pwd

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.quorum.k8s.plugins.module_utils import _hoststate

ENV = dict(LANG="C", LC_ALL="C")


def _installed(module, names):
    if not names:
        return set()
    rc, out, err = module.run_command(["dpkg-query", "-W", "-f", "${Package}\\t${db:Status-Abbrev}\\n"]
                                      + [n.split("=")[0] for n in names], environ_update=ENV)
    # rc 1: some package is unknown to dpkg (reported on stderr); the others are still listed
    if rc not in (0, 1):
        module.fail_json(msg="dpkg-query failed (rc=%d): %s" % (rc, err.strip()))
    return _hoststate.installed_packages(out)


def _units(module, names):
    if not names:
        return {}
    rc, out, err = module.run_command(["systemctl", "show", "-p", "Id,UnitFileState,ActiveState", "--"] + names,
                                      environ_update=ENV)
    if rc != 0:
        module.fail_json(msg="systemctl show failed (rc=%d): %s" % (rc, err.strip()))
    return _hoststate.parse_systemctl_show(out, names)


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def _sysctl(name):
    return _read(os.path.join("/proc/sys", *name.split(".")))


def _user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                state=dict(type="str", choices=list(_hoststate.FILE_STATES), default="file"),
                sha1=dict(type="str"),
                sha256=dict(type="str"),
                mode=dict(type="str"),
                owner=dict(type="str"),
                group=dict(type="str"),
            )),
            packages=dict(type="list", elements="str", default=[]),
            units=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                enabled=dict(type="bool"),
                active=dict(type="bool"),
            )),
            users=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                shell=dict(type="str"),
                home=dict(type="str"),
            )),
            sysctls=dict(type="dict", default={}),
            swap_off=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    differences = []
    for wanted in p["files"]:
        try:
            digests = [name for name in _hoststate.DIGESTS if wanted.get(name)]
            differences += _hoststate.file_differences(wanted, _hoststate.file_facts(wanted["path"], digests))
        except (OSError, ValueError) as e:
            differences.append("%s: %s" % (wanted["path"], e))
    differences += _hoststate.package_differences(p["packages"], _installed(module, p["packages"]))
    differences += _hoststate.unit_differences(p["units"], _units(module, [u["name"] for u in p["units"]]))
    differences += _hoststate.user_differences(p["users"], _user)
    differences += _hoststate.sysctl_differences(p["sysctls"], _sysctl)
    if p["swap_off"]:
        differences += _hoststate.swap_differences(_read("/proc/swaps") or "", _read("/etc/fstab"))
    module.exit_json(changed=False, differences=differences, matches=not differences)


if __name__ == "__main__":
    main()
