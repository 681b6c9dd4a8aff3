# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the quorum.k8s Vault modules."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Address of the Vault or OpenBao server, for example V(https://vault.example.org:8200).
      - When not set, the E(VAULT_ADDR) environment variable is used.
    type: str
    aliases: [vault_addr]
  ca_cert:
    description:
      - Path of a PEM bundle of the CA certificates that verify the server's TLS certificate.
      - When not set, the E(VAULT_CACERT) environment variable is used, then the system trust store.
    type: path
    aliases: [cacert]
  validate_certs:
    description:
      - Verify the server's TLS certificate. Only turn this off for throw-away test servers.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each HTTP answer.
    type: int
    default: 30
  auth_method:
    description:
      - How to authenticate. V(token) uses O(token) (or E(VAULT_TOKEN)); V(approle) logs in with O(role_id) and O(secret_id).
    type: str
    choices: [token, approle]
    default: token
  token:
    description:
      - Vault token for O(auth_method=token). When not set, the E(VAULT_TOKEN) environment variable is used.
    type: str
  role_id:
    description: AppRole role ID, for O(auth_method=approle).
    type: str
  secret_id:
    description: AppRole secret ID, for O(auth_method=approle).
    type: str
  approle_mount:
    description:
      - Path where the AppRole auth method is mounted, without the C(auth/) prefix.
      - The quorum.k8s bootstrap mounts the nodes' AppRoles at C(<prefix>-nodes).
    type: str
    default: approle
requirements:
  - hvac (Python library, on the host that runs the module, usually the controller)
notes:
  - Errors (server unreachable, sealed, invalid or expired token, permission denied, missing mount)
    fail with one message naming the address or path and what to do.
  - Set connection options once for all Vault modules with C(module_defaults) and the action group C(group/quorum.k8s.vault).
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""
