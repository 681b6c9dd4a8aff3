# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter wrapping the inventory checks in module_utils/_preflight.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.quorum.k8s.plugins.module_utils._inventory import NODE_ADDRESS_KEYS
from ansible_collections.quorum.k8s.plugins.module_utils._preflight import check_inventory, format_report


def _plain_hostvars(groups, hostvars):
    """Only what the rules read, so templating stays cheap on big inventories."""
    plain = {}
    for host in groups.get("all", []):
        try:
            hv = hostvars[host]
        except KeyError:
            continue
        plain[host] = dict((k, hv[k]) for k in hv if k.startswith("quorum_") or k in NODE_ADDRESS_KEYS)
    return plain


def preflight_report(groups, hostvars, remove=None):
    """Return {'ok', 'errors', 'warnings', 'message'} for the whole inventory (and a removal)."""
    if not isinstance(groups, dict):
        raise AnsibleFilterError("preflight_report expects the 'groups' magic variable as input")
    result = check_inventory(groups, _plain_hostvars(groups, hostvars), remove=remove)
    result["message"] = format_report(result)
    return result


class FilterModule(object):
    def filters(self):
        return {"preflight_report": preflight_report}
