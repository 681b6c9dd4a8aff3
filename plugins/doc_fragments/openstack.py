# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options shared by the OpenStack modules (argument spec in module_utils/_openstack/argspec.py).
    # Their names are openstack.cloud's, so one module_defaults dict serves both action groups.
    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - Name of the cloud in C(clouds.yaml), or a dict of its settings (then the other connection options must be unset).
      - Unset, openstacksdk uses E(OS_CLOUD) or the E(OS_*) variables.
      - C(clouds.yaml) is read from E(OS_CLIENT_CONFIG_FILE), C(./clouds.yaml), C(~/.config/openstack/clouds.yaml)
        or C(/etc/openstack/clouds.yaml).
    type: raw
  auth_type:
    description: Keystone authentication plugin (C(password), C(v3applicationcredential), ...); the cloud's otherwise.
    type: str
  auth:
    description: Authentication settings (auth_url, username, password, project_name, ...) that override the cloud's.
    type: dict
  region_name:
    description: Region to use; the cloud's otherwise.
    type: str
  interface:
    description: Which endpoints of the catalog to use.
    type: str
    choices: [public, internal, admin]
    default: public
    aliases: [endpoint_type]
  validate_certs:
    description: Verify the endpoints' TLS certificates; the cloud's setting otherwise.
    type: bool
    aliases: [verify]
  ca_cert:
    description: CA bundle for the endpoints' certificates.
    type: path
    aliases: [cacert]
  client_cert:
    description: Client certificate (PEM) presented to the endpoints.
    type: path
    aliases: [cert]
  client_key:
    description: Private key of O(client_cert).
    type: path
    aliases: [key]
  api_timeout:
    description: Seconds each API request may take.
    type: int
requirements:
  - openstacksdk >= 1.0 (tested with 4.22.0)
notes:
  - Runs on the controller (C(localhost)), where openstacksdk is installed.
  - Action group C(quorum.k8s.openstack) takes these options through C(module_defaults), like openstack.cloud's
    group C(openstack.cloud.openstack).
"""
