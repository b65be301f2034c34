"""The client's address behind a TLS proxy (issue 15, item 2): X-Forwarded-For counts only from a trusted proxy and
is read from the right, so a client cannot forge its address; audit events, sign-in locks and logon IP masks see it."""

import pytest
from django.test import Client, RequestFactory

from accounts.gates import client_ip
from accounts.models import SecuritySettings
from portal.models import AuditEvent
from tests.accounts.test_sign_in import ram_sign_in_url


@pytest.fixture
def behind_proxy(settings):
    settings.BEHIND_TLS_PROXY = True
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]


def address(remote: str, forwarded: str | None = None) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_without_a_proxy_the_header_is_ignored(settings):
    settings.BEHIND_TLS_PROXY = False
    assert address("198.51.100.7", "203.0.113.9") == "198.51.100.7"


@pytest.mark.usefixtures("behind_proxy")
@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),  # the proxy says who connected to it
        ("127.0.0.1", "1.2.3.4, 203.0.113.9", "203.0.113.9"),  # the client's own claim, left of the proxy's: ignored
        ("127.0.0.1", "203.0.113.9, 10.1.2.3", "203.0.113.9"),  # through two trusted proxies
        ("198.51.100.7", "203.0.113.9", "198.51.100.7"),  # not from a trusted proxy: the header is the client's own
        ("127.0.0.1", "not-an-address", "127.0.0.1"),  # malformed: the peer is all that is known
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", None, "127.0.0.1"),
    ],
)
def test_behind_a_proxy_the_rightmost_untrusted_address_is_the_client(remote, forwarded, client):
    assert address(remote, forwarded) == client


@pytest.mark.usefixtures("behind_proxy")
def test_audit_events_and_logon_ip_masks_see_the_forwarded_client(owner, ram_user):
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    client.post(ram_sign_in_url(owner.account), {"login": "alice", "password": "wrong-password"})
    failed = AuditEvent.objects.filter(action="sign_in.failed").latest("pk")
    assert failed.source_ip == "203.0.113.9"
    SecuritySettings.objects.filter(account=owner.account).update(logon_ip_masks=["203.0.113.0/24"])
    allowed = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    response = allowed.post(ram_sign_in_url(owner.account), {"login": "alice", "password": "Violet-Canyon-Ledger-5307"})
    assert response.status_code == 302
    forged = Client(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")  # straight to the server
    refused = forged.post(ram_sign_in_url(owner.account), {"login": "alice", "password": "Violet-Canyon-Ledger-5307"})
    assert refused.status_code == 200 and "not allowed from your network (198.51.100.7" in refused.content.decode()
