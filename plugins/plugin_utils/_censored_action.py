# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared action: run the module, then mark its result no_log (secrets go to register, never to a callback)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class CensoredResultAction(ActionBase):
    """Executes the module of the same name and censors the displayed result.

    A module cannot mark its own return values no_log (Ansible drops ``_ansible_no_log`` from
    module output), so this action sets it: every callback, even at -vvv, shows the result as if
    the task had ``no_log: true``, while ``register`` still receives the values.
    """

    _requires_connection = True
    # A result that carries any of these keys is censored; a failure without them shows its message.
    _secret_fields = ("secret", "secrets", "private_key")

    def run(self, tmp=None, task_vars=None):
        result = super(CensoredResultAction, self).run(tmp, task_vars)
        result.update(self._execute_module(module_name=self._task.action, module_args=self._task.args,
                                           task_vars=task_vars))
        return censor(result, self._secret_fields)


def censor(result, secret_fields):
    """Mark ``result`` no_log when it carries a non-empty value under any of ``secret_fields``."""
    if any(result.get(field) for field in secret_fields):
        result["_ansible_no_log"] = True
    return result
