"""The official SDKs, pointed at pytest-django's live server, signing with AccessKeys issued by the portal."""

import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode, urlparse

import pytest
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.models import Config
from aliyunsdkcore.client import AcsClient

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key
from portal.signing import rpc_signature


def endpoint_of(live_server) -> str:
    return urlparse(live_server.url).netloc


def ram_client(live_server, access_key_id, secret, *, signature_algorithm=None, product=RamClient, retry_options=None):
    """An official SDK's client (RAM's unless `product` names another's Client class) for the live server."""
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
    if retry_options:
        config.retry_options = retry_options
    return product(config)


def signed_query(access_key_id: str, secret: str, params: dict, *, at: datetime | None = None, nonce=None) -> str:
    """A query string signed as the legacy SDK and `signature_algorithm='v2'` sign it (HMAC-SHA1, 1.0)."""
    signed = {
        "Version": "2015-05-01",
        "Format": "JSON",
        "Timestamp": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "AccessKeyId": access_key_id,
        **params,
    }
    signed["Signature"] = rpc_signature("POST", signed, secret)
    return urlencode(signed)


def issue_key(person) -> tuple[str, str]:
    """A new AccessKey of `person` (the owner's: the primary account's), issued by an operator."""
    issued = issue_access_key(actor=operator_actor(person.account), holder=person.user, otp_code=None)
    return issued.access_key.access_key_id, issued.secret


@pytest.fixture
def owner_key(owner):
    return issue_key(owner)


@pytest.fixture
def sdk_of(live_server):
    """The new SDK signing with a new AccessKey of the given person."""

    def make(person, *, signature_algorithm=None) -> RamClient:
        return ram_client(live_server, *issue_key(person), signature_algorithm=signature_algorithm)

    return make


@pytest.fixture
def owner_sdk(live_server, owner_key) -> RamClient:
    """The new SDK with its default signature, for tests about behaviour rather than signing."""
    return ram_client(live_server, *owner_key)


@pytest.fixture(params=["acs3", "v2"])
def sdk(request, live_server, owner_key):
    """The new SDK with its default ACS3-HMAC-SHA256 signature and with signature_algorithm='v2'."""
    algorithm = None if request.param == "acs3" else "v2"
    return ram_client(live_server, *owner_key, signature_algorithm=algorithm)


@pytest.fixture
def legacy_sdk(live_server, owner_key):
    """The legacy SDK (HMAC-SHA1). Its requests default to https: set `request.set_protocol_type("http")`."""
    client = AcsClient(*owner_key, "cn-hangzhou")
    client.add_endpoint("cn-hangzhou", "Ram", endpoint_of(live_server))
    return client


@pytest.fixture(autouse=True)
def _transactional(transactional_db):
    """The live server runs in another thread: it sees committed data only."""
