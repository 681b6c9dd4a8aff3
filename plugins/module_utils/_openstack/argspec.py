# -*- coding: utf-8 -*-
# Copyright: quorum.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the OpenStack modules, and the one place that imports openstacksdk
and builds a connection.

The options have openstack.cloud's names, so one ``module_defaults`` dict serves both action groups
(``group/openstack.cloud.openstack`` and ``group/quorum.k8s.openstack``).
"""

from __future__ import annotations

import traceback

from ansible_collections.quorum.k8s.plugins.module_utils._openstack.errors import OpenStackAuthError

try:
    import openstack
except ImportError:
    HAS_OPENSTACKSDK = False
    OPENSTACKSDK_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_OPENSTACKSDK = True
    OPENSTACKSDK_IMPORT_ERROR = None

CONNECTION_KEYS = ("cloud", "auth_type", "auth", "region_name", "interface", "validate_certs", "ca_cert",
                   "client_cert", "client_key", "api_timeout")


def connection_argument_spec():
    return dict(
        cloud=dict(type="raw"),
        auth_type=dict(type="str"),
        auth=dict(type="dict", no_log=True),
        region_name=dict(type="str"),
        interface=dict(type="str", default="public", choices=["public", "internal", "admin"],
                       aliases=["endpoint_type"]),
        validate_certs=dict(type="bool", aliases=["verify"]),
        ca_cert=dict(type="path", aliases=["cacert"]),
        client_cert=dict(type="path", aliases=["cert"]),
        client_key=dict(type="path", no_log=False, aliases=["key"]),
        api_timeout=dict(type="int"),
    )


def require_sdk(module):
    """Fail once, in one place, when openstacksdk is missing."""
    if not HAS_OPENSTACKSDK:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("openstacksdk"), exception=OPENSTACKSDK_IMPORT_ERROR)


def connect(params):
    """An openstacksdk connection from the module's parameters. Nothing is sent until the first call;
    a cloud missing from clouds.yaml is reported here, as an authentication fault naming it."""
    cloud = params.get("cloud")
    if isinstance(cloud, dict):
        kwargs = dict(cloud)
    else:
        kwargs = dict(
            cloud=cloud or None,
            auth_type=params.get("auth_type"),
            auth=params.get("auth"),
            region_name=params.get("region_name"),
            verify=params.get("validate_certs"),
            cacert=params.get("ca_cert"),
            cert=params.get("client_cert"),
            key=params.get("client_key"),
            api_timeout=params.get("api_timeout"),
            interface=params.get("interface"),
        )
    try:
        return openstack.connect(**kwargs)
    except Exception as exc:  # pylint: disable=broad-except  # config errors: unknown cloud, bad clouds.yaml
        raise OpenStackAuthError(cloud, "no usable configuration: %s (clouds.yaml is read from "
                                        "OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml "
                                        "or /etc/openstack/clouds.yaml)" % exc)
