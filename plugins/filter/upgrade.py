# -*- coding: utf-8 -*-
# Copyright: quorum.k8s developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade's version-skew check: the decision of module_utils/_upgrade.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.quorum.k8s.plugins.module_utils._upgrade import upgrade_plan as _plan


def upgrade_plan(target, nodes, apiserver_pods):
    """{target, kubelets, api_servers, pending, refusals} of an upgrade to ``target``."""
    for name, value in (("nodes", nodes), ("apiserver_pods", apiserver_pods)):
        if not isinstance(value, dict):
            raise AnsibleFilterError("upgrade_plan: %s must be the JSON of `kubectl get ... -o json`, got %r"
                                     % (name, type(value).__name__))
    return _plan(target, nodes, apiserver_pods)


class FilterModule:
    def filters(self):
        return {"upgrade_plan": upgrade_plan}
