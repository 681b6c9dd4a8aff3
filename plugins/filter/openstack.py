# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of roles/openstack over the pure logic of module_utils/_openstack/plan.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.module_utils._openstack import plan as planlib


def _plain(value):
    """Ansible's lazy containers and tagged strings as plain dicts, lists and str."""
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _plan(value, name):
    if not isinstance(value, dict) or "servers" not in value or "errors" not in value:
        raise AnsibleFilterError("%s: expected the result of quorum.k8s.openstack_plan as input" % name)
    return _plain(value)


def _info(value, name):
    if not isinstance(value, dict) or "auth" not in value:
        raise AnsibleFilterError("%s: expected the registered result of quorum.k8s.openstack_info" % name)
    return _plain(value)


def openstack_plan(settings):
    """Every resource provision makes, and the faults of the settings alone."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("openstack_plan: expected a dict of settings, got %r" % (type(settings).__name__,))
    return planlib.build_plan(_plain(settings))


def openstack_check(plan, info):
    """{ok, errors, warnings, message}: the settings' faults and the cloud's, in one list."""
    plan, info = _plan(plan, "openstack_check"), _info(info, "openstack_check")
    errors = list(plan["errors"]) + planlib.cloud_faults(plan, info)
    warnings = list(plan["warnings"])
    if (info.get("auth") or {}).get("ok"):
        warnings += planlib.server_group_warnings(plan, info)
        warnings += planlib.surplus_warnings(plan, info)
        warnings += ["%s cannot be read: not checked" % what for what in (info.get("limits") or {}).get("unreadable", [])]
    return {"ok": not errors, "errors": errors, "warnings": warnings, "message": planlib.format_faults(errors)}


def openstack_resolve(plan, info):
    """The openstack.cloud task parameters from the plan and what exists."""
    return planlib.resolve(_plan(plan, "openstack_resolve"), _info(info, "openstack_resolve"))


def openstack_inventory(plan, info):
    """The generated inventory of the cluster's servers."""
    return planlib.render_inventory(_plan(plan, "openstack_inventory"), _info(info, "openstack_inventory"))


def openstack_teardown(info, inventory_first_line=None, keep=None):
    """What destroy removes, in order."""
    return planlib.teardown(_info(info, "openstack_teardown"),
                            None if inventory_first_line is None else str(inventory_first_line),
                            [str(k) for k in keep or []])


class FilterModule(object):
    def filters(self):
        return {
            "openstack_plan": openstack_plan,
            "openstack_check": openstack_check,
            "openstack_resolve": openstack_resolve,
            "openstack_inventory": openstack_inventory,
            "openstack_teardown": openstack_teardown,
        }
