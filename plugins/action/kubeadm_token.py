# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the module of the same name; a result carrying a token or certificate key is shown censored."""

from __future__ import annotations

from ansible_collections.quorum.k8s.plugins.plugin_utils._censored_action import CensoredResultAction


class ActionModule(CensoredResultAction):
    """See CensoredResultAction."""

    _secret_fields = ("token", "certificate_key")
