"""The official SDKs, pointed at pytest-django's live server, signing with AccessKeys issued by the portal."""

from urllib.parse import urlparse

import pytest
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.models import Config
from aliyunsdkcore.client import AcsClient

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key


def endpoint_of(live_server) -> str:
    return urlparse(live_server.url).netloc


def ram_client(live_server, access_key_id, secret, *, signature_algorithm=None) -> RamClient:
    config = Config(
        access_key_id=access_key_id,
        access_key_secret=secret,
        endpoint=endpoint_of(live_server),
        protocol="http",
        read_timeout=20000,
        connect_timeout=5000,
    )
    if signature_algorithm:
        config.signature_algorithm = signature_algorithm
    return RamClient(config)


@pytest.fixture
def owner_key(owner):
    issued = issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    return issued.access_key.access_key_id, issued.secret


@pytest.fixture(params=["acs3", "v2"])
def sdk(request, live_server, owner_key):
    """The new SDK with its default ACS3-HMAC-SHA256 signature and with signature_algorithm='v2'."""
    algorithm = None if request.param == "acs3" else "v2"
    return ram_client(live_server, *owner_key, signature_algorithm=algorithm)


@pytest.fixture
def legacy_sdk(live_server, owner_key):
    client = AcsClient(*owner_key, "cn-hangzhou")
    client.endpoint = endpoint_of(live_server)
    return client
