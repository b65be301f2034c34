"""SPEC §3 rule 1, checked by planting a canary: an AccessKey secret leaves the portal exactly once."""

import logging
import re
from html import escape

from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from accounts.models import AccessKey, DeliveryPacket
from accounts.services import access_keys
from accounts.services.packet_mail import deliver_due_emails
from portal.models import AuditEvent
from tests.conftest import form_token_of, signed_in

CANARY = "CanaryS3cretZq8Lw2Xv7Np4Rt6Yb9"


def every_stored_text() -> str:
    """Every row of every table, as text: what a copy of the database would give away."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(dump)


def test_a_canary_secret_leaves_in_exactly_one_response_and_nowhere_else(owner, ram_user, monkeypatch, caplog):
    assert len(CANARY) == access_keys.ACCESS_KEY_SECRET_LENGTH
    monkeypatch.setattr(access_keys, "new_access_key_secret", lambda: CANARY)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    # Log every SQL statement with its parameters, so that a secret written in clear would show up.
    monkeypatch.setattr(connections["default"], "force_debug_cursor", True)
    client = signed_in(owner)
    code = owner.code()
    create = reverse("accounts:create-access-key", args=[ram_user.ram_user.pk])
    form_page = client.get(create)
    submitted = {"otp_code": code, "form_token": form_token_of(form_page)}
    first = client.post(create, submitted)
    assert first.status_code == 302
    responses = [
        form_page,
        first,
        client.post(create, submitted),  # a second click, or the browser's "resubmit" after a reload
        client.get(first.url),  # the one-time page
        client.get(first.url),  # reloaded
        client.get(reverse("accounts:user-detail", args=[ram_user.ram_user.pk])),
        client.get(reverse("accounts:user-list")),
        client.get(reverse("accounts:overview")),
        client.get(reverse("accounts:my-account")),
        client.get(reverse("accounts:audit-trail")),
        client.get(reverse("accounts:audit-export")),
    ]
    bodies = [
        b"".join(response.streaming_content) if response.streaming else response.content for response in responses
    ]
    carrying = [index for index, body in enumerate(bodies) if CANARY.encode() in body]
    assert carrying == [3], f"the secret appeared in responses {carrying}"
    assert responses[2].status_code == 302 and responses[2].url == first.url  # the repeat did nothing new
    assert "no-store" in responses[3]["Cache-Control"]
    for response in responses:
        assert CANARY not in str(response.cookies)
        assert CANARY not in str(dict(response.headers))
    key = AccessKey.objects.get()
    assert access_keys.open_secret(key) == CANARY

    assert "INSERT" in caplog.text  # the SQL log really was on
    assert CANARY not in caplog.text
    assert CANARY not in str(list(AuditEvent.objects.values()))
    for session in Session.objects.all():
        assert CANARY not in session.session_data and CANARY not in str(session.get_decoded())
    assert all(CANARY not in message.message().as_string() for message in mail.outbox)
    assert CANARY not in every_stored_text()


PASSWORD_CANARY = "CanaryPassw0rd!Xq7Lm2Vz"
KEY_CANARY = "CanaryKeySecretQw3Er5Ty7Ui9Op1"


def test_packet_canaries_leave_in_exactly_one_response_each(owner, monkeypatch, caplog, settings):
    """A user created with "Seal them…": the password and key secret leave once, through the claim page."""
    monkeypatch.setattr("accounts.services.ram_users.generate_password", lambda policy: PASSWORD_CANARY)
    monkeypatch.setattr(access_keys, "new_access_key_secret", lambda: KEY_CANARY)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    monkeypatch.setattr(connections["default"], "force_debug_cursor", True)
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    client = signed_in(owner)
    rows = {
        "users-TOTAL_FORMS": "1",
        "users-INITIAL_FORMS": "0",
        "users-0-name": "carol",
        "users-0-display_name": "Carol",
        "users-0-email": "carol@example.com",
        "users-0-console_logon": "on",
        "users-0-password_mode": "generate",
        "users-0-create_access_key": "on",
        "deliver": "seal",
        "otp_code": owner.code(),
    }
    responses = [client.post(reverse("accounts:create-users"), rows, follow=True)]  # the page says: sealed
    packet = DeliveryPacket.objects.get(ram_user__name="carol")
    responses.append(client.post(reverse("accounts:email-packet"), {"packet": packet.pk, "to": "carol@example.com"}))
    responses.append(client.get(reverse("accounts:packet-list")))
    deliver_due_emails()
    token = re.search(r"/claim/#([A-Za-z0-9_-]+)", mail.outbox[0].body).group(1)
    anonymous = Client()
    responses.append(anonymous.get(reverse("accounts:claim")))
    responses.append(anonymous.post(reverse("accounts:claim"), {"claim_code": token}))
    responses.append(anonymous.post(reverse("accounts:claim"), {"claim_code": token}))
    responses.append(client.get(reverse("accounts:user-detail", args=[packet.ram_user.pk])))
    responses.append(client.get(reverse("accounts:audit-export")))
    for canary in (PASSWORD_CANARY, KEY_CANARY):
        carrying = [
            index
            for index, response in enumerate(responses)
            if escape(canary).encode()
            in (b"".join(response.streaming_content) if response.streaming else response.content)
        ]
        assert carrying == [4], f"{canary} appeared in responses {carrying}"
        assert canary not in caplog.text
        assert canary not in str(list(AuditEvent.objects.values()))
        assert all(canary not in message.message().as_string() for message in mail.outbox)
        for session in Session.objects.all():
            assert canary not in str(session.get_decoded())
        assert canary not in every_stored_text()
    assert token not in caplog.text and token not in every_stored_text()
