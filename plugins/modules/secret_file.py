#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: secret_file
short_description: Write secret content to a file on the node, atomically and only when it differs
version_added: 0.1.0
description:
  - Writes O(content) to O(path) with O(mode) (default C(0600)) through a temporary file in the same
    directory and a rename, and only when the file's content differs.
  - Unlike M(ansible.builtin.copy) with C(content), the secret is never written to a temporary file on
    the controller; it travels as a module argument (with pipelining, over the connection's standard input).
  - The content is never returned or shown in a diff; the diff names the file and whether its content changes.
author:
  - quorum.k8s developers (@quorum-k8s)
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
options:
  path:
    description: Absolute path of the file. The directory must exist.
    type: path
    required: true
  content:
    description: What the file must contain (secret).
    type: str
    required: true
  mode:
    description: Permissions of the file.
    type: raw
    default: "0600"
"""

EXAMPLES = r"""
- name: Write the etcd peer key
  quorum.k8s.secret_file:
    path: /etc/etcd/pki/peer.key
    content: "{{ peer.private_key }}"
    owner: etcd
    group: etcd
  no_log: true
"""

RETURN = r"""
path:
  description: The file written or checked.
  returned: always
  type: str
  sample: /etc/etcd/pki/peer.key
"""

import hashlib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes


def _digest(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except (IOError, OSError):
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            content=dict(type="str", required=True, no_log=True),
            mode=dict(type="raw", default="0600"),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params["path"]
    data = to_bytes(module.params["content"])
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        module.fail_json(msg="directory %s of %s does not exist: create it first" % (directory, path))
    existing = _digest(path)
    content_changed = existing != hashlib.sha256(data).hexdigest()
    changed = content_changed
    if content_changed and not module.check_mode:
        fd, tmp = tempfile.mkstemp(prefix=".secret_file.", dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            module.atomic_move(tmp, path, unsafe_writes=module.params["unsafe_writes"])
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    file_args = module.load_file_common_arguments(module.params)
    if os.path.exists(path):
        changed = module.set_fs_attributes_if_different(file_args, changed)
    result = dict(changed=changed, path=path)
    if module._diff:
        result["diff"] = dict(before_header=path, after_header=path,
                              before="content: %s\n" % ("absent" if existing is None else "present"),
                              after="content: %s\n" % ("replaced" if content_changed else "unchanged"))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
