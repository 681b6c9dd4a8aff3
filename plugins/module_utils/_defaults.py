# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's pinned versions, stated once.

KUBERNETES_VERSION is the release the collection is tested with: the mirror builder builds it,
the lab installs it, and it is the default of ``quorum_kubernetes_version``.
"""

from __future__ import annotations

KUBERNETES_VERSION = "1.35.8"
