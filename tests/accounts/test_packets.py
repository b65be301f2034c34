"""Delivery packets: sealed at creation, out through one channel, wiped after; mail through a durable outbox."""

import io
import re
from datetime import timedelta
from html import escape

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import DeliveryPacket, PacketEmail
from accounts.services import claim_links
from accounts.services import packets as packet_services
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.packets import email_delivery_packet, revoke_delivery_packet
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.models import AuditEvent
from tests.conftest import make_ram_user, signed_in
from tests.mail import body_of, link_token

State = DeliveryPacket.State


def sealed_user(owner, name="carol", *, create_access_key=False):
    """A RAM user whose new password (and key) are sealed in a packet, as "Seal them…" leaves them."""
    [created] = create_ram_users(
        actor=owner.actor,
        new_users=[
            NewRamUser(
                name=name,
                display_name=name.title(),
                email=f"{name}@example.com",
                console_logon=True,
                create_access_key=create_access_key,
            )
        ],
        otp_code=owner.code() if create_access_key else None,
    )
    return created


def test_secrets_are_sealed_in_the_packet_at_creation(owner):
    created = sealed_user(owner, create_access_key=True)
    packet = created.packet
    assert packet.state == State.SEALED
    assert packet.has_password and packet.access_key_id == created.access_key.access_key_id
    assert created.initial_password not in packet.sealed_password
    assert created.access_key_secret not in packet.sealed_access_key_secret
    opened = packet_services.open_packet_secrets(packet)
    assert opened.password == created.initial_password
    assert opened.access_key_secret == created.access_key_secret
    assert AuditEvent.objects.get(action="ram_user.create").details["delivery_packet"] == packet.pk


def test_the_email_carries_a_claim_link_and_no_secret(owner, smtp):
    created = sealed_user(owner, create_access_key=True)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    assert deliver_due_emails() == 1
    [message] = smtp.messages
    text = body_of(message)
    assert message["To"] == "carol@example.com"
    assert created.ram_user.logon_name in text and created.access_key.access_key_id in text
    assert created.initial_password not in message.as_string()
    assert created.access_key_secret not in message.as_string()
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}
    token = re.search(r"/claim/#([A-Za-z0-9_-]+)", text).group(1)
    packet = DeliveryPacket.objects.get(pk=created.packet.pk)
    assert packet.state == State.SENT and packet.claim_token_hash and token not in packet.claim_token_hash
    assert token not in str(list(AuditEvent.objects.values()))
    assert AuditEvent.objects.filter(action="packet.sent", actor="mail worker").count() == 1


def claim_token_from(inbox) -> str:
    return link_token(inbox.messages[-1], "claim")


def test_reveal_shows_the_secrets_once_and_wipes_them(owner, smtp):
    created = sealed_user(owner, create_access_key=True)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    deliver_due_emails()
    token = claim_token_from(smtp)
    client = Client()
    page = client.get(reverse("accounts:claim"))
    assert page.status_code == 200 and escape(created.initial_password) not in page.content.decode()
    revealed = client.post(reverse("accounts:claim"), {"claim_code": token})
    assert revealed.status_code == 200 and "no-store" in revealed["Cache-Control"]
    assert escape(created.initial_password) in revealed.content.decode()
    assert created.access_key_secret in revealed.content.decode()
    again = client.post(reverse("accounts:claim"), {"claim_code": token})
    assert again.status_code == 410 and escape(created.initial_password) not in again.content.decode()
    packet = DeliveryPacket.objects.get(pk=created.packet.pk)
    assert packet.state == State.CLAIMED and packet.channel == "email"
    assert not packet.sealed_password and not packet.sealed_access_key_secret and not packet.claim_token_hash
    assert AuditEvent.objects.get(action="packet.claimed").actor.startswith("claim link of RAM$")


def test_an_expired_link_reveals_nothing(owner, smtp, settings):
    created = sealed_user(owner)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    deliver_due_emails()
    token = claim_token_from(smtp)
    with time_machine.travel(timezone.now() + timedelta(hours=settings.PORTAL_CLAIM_LINK_HOURS, minutes=1)):
        response = Client().post(reverse("accounts:claim"), {"claim_code": token})
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert escape(created.initial_password) not in response.content.decode()
    packet = DeliveryPacket.objects.get(pk=created.packet.pk)
    assert packet.state == State.EXPIRED and not packet.sealed_password


def test_the_worker_expires_stale_links(owner, smtp, settings):
    created = sealed_user(owner)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    deliver_due_emails()
    with time_machine.travel(timezone.now() + timedelta(hours=settings.PORTAL_CLAIM_LINK_HOURS + 1)):
        assert claim_links.expire_stale_packets() == 1
    assert DeliveryPacket.objects.get(pk=created.packet.pk).state == State.EXPIRED


def test_a_revoked_link_reveals_nothing(owner, smtp):
    created = sealed_user(owner)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    deliver_due_emails()
    token = claim_token_from(smtp)
    revoke_url = reverse("accounts:revoke-packet", args=[created.packet.pk])
    response = signed_in(owner).post(revoke_url, {"confirm": str(created.packet.pk)})
    assert response.status_code == 302
    refused = Client().post(reverse("accounts:claim"), {"claim_code": token})
    assert refused.status_code == 410 and escape(created.initial_password) not in refused.content.decode()
    packet = DeliveryPacket.objects.get(pk=created.packet.pk)
    assert packet.state == State.REVOKED and not packet.sealed_password


def test_with_the_mail_server_down_the_packet_waits_and_is_sent_once_when_it_is_back(owner, smtp):
    created = sealed_user(owner)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    port = smtp.controller.port
    smtp.controller.stop()
    assert deliver_due_emails() == 0
    outbox = PacketEmail.objects.get(packet=created.packet)
    assert outbox.attempts == 1 and outbox.sent_at is None and outbox.last_error
    packet = DeliveryPacket.objects.get(pk=created.packet.pk)
    assert packet.state == State.SEALED and packet.sealed_password and not packet.claim_token_hash
    # Nothing is due before the back-off has passed, even once the server is back.
    restarted = Controller(smtp, hostname="127.0.0.1", port=port)
    restarted.start()
    try:
        assert deliver_due_emails() == 0
        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            assert deliver_due_emails() == 1
            assert deliver_due_emails() == 0
    finally:
        restarted.stop()
    assert len(smtp.messages) == 1
    assert PacketEmail.objects.get(packet=created.packet).attempts == 2
    assert DeliveryPacket.objects.get(pk=created.packet.pk).state == State.SENT


def test_a_revoked_packet_waiting_in_the_outbox_is_never_sent(owner, smtp):
    created = sealed_user(owner)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    revoke_delivery_packet(actor=owner.actor, packet=created.packet)
    assert deliver_due_emails() == 0
    assert smtp.messages == [] and not PacketEmail.objects.exists()


def test_a_packet_is_emailed_once(owner, smtp):
    created = sealed_user(owner)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    with pytest.raises(ValidationError, match="already been delivered"):
        email_delivery_packet(actor=owner.actor, packet=created.packet, to="other@example.com")


def pdf_of(client, packet_ids):
    return client.post(reverse("accounts:pdf-packets"), {"packet": [str(pk) for pk in packet_ids]})


def test_one_pdf_holds_one_page_per_selected_user_and_downloads_once(owner):
    sheets = [sealed_user(owner, name) for name in ("carol", "dave", "erin")]
    client = signed_in(owner)
    response = pdf_of(client, [item.packet.pk for item in sheets])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 3
    texts = [page.extract_text() for page in reader.pages]
    for item, text in zip(sorted(sheets, key=lambda c: c.ram_user.name), texts, strict=True):
        assert item.ram_user.logon_name in text
        assert item.initial_password in text.replace("\n", "")
    for item in sheets:
        packet = DeliveryPacket.objects.get(pk=item.packet.pk)
        assert packet.state == State.PRINTED and packet.channel == "pdf" and not packet.sealed_password
    again = pdf_of(client, [sheets[0].packet.pk])
    assert again.status_code == 302
    assert again.url == reverse("accounts:packet-list")
    assert AuditEvent.objects.filter(action="packet.printed").count() == 3


def test_sign_in_instructions_print_any_number_of_times(owner, ram_user):
    client = signed_in(owner)
    client.post(reverse("accounts:new-instructions-packet", args=[ram_user.ram_user.pk]))
    packet = DeliveryPacket.objects.filter(ram_user=ram_user.ram_user, has_password=False).get()
    for _ in range(2):
        response = pdf_of(client, [packet.pk])
        assert response.status_code == 200
        assert ram_user.ram_user.logon_name in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()


def test_the_html_print_view_shows_the_secrets_once(owner):
    created = sealed_user(owner)
    client = signed_in(owner)
    first = client.post(reverse("accounts:print-packets"), {"packet": [created.packet.pk]})
    assert first.status_code == 200 and escape(created.initial_password) in first.content.decode()
    second = client.post(reverse("accounts:print-packets"), {"packet": [created.packet.pk]})
    assert second.status_code == 302
    assert DeliveryPacket.objects.get(pk=created.packet.pk).channel == "printed"


def test_packets_of_another_account_are_out_of_reach(owner, other_owner):
    foreign = make_ram_user(other_owner, "mallory")
    packet = DeliveryPacket.objects.get(ram_user=foreign.ram_user)
    client = signed_in(owner)
    assert pdf_of(client, [packet.pk]).status_code == 302
    revoke_url = reverse("accounts:revoke-packet", args=[packet.pk])
    assert client.post(revoke_url, {"confirm": str(packet.pk)}).status_code == 404
    response = client.post(reverse("accounts:email-packet"), {"packet": packet.pk, "to": "x@example.com"})
    assert response.status_code == 404
    assert DeliveryPacket.objects.get(pk=packet.pk).state == State.SEALED
    assert f'data-packet="{packet.pk}"' not in client.get(reverse("accounts:packet-list")).content.decode()


def test_the_packet_list_shows_states_and_history(owner, smtp):
    created = sealed_user(owner)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    deliver_due_emails()
    page = signed_in(owner).get(reverse("accounts:packet-list")).content.decode()
    assert f'data-packet="{created.packet.pk}" data-state="sent"' in page
    assert "Sent to carol@example.com" in page


def test_delivery_pdf_for_users_selected_on_the_user_list(owner, ram_user):
    carol = sealed_user(owner, "carol")
    DeliveryPacket.objects.filter(ram_user=ram_user.ram_user).delete()  # alice: nothing sealed
    client = signed_in(owner)
    assert 'name="user"' in client.get(reverse("accounts:user-list")).content.decode()
    response = client.post(reverse("accounts:pdf-for-users"), {"user": [carol.ram_user.pk, ram_user.ram_user.pk]})
    assert response.status_code == 200
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
    assert len(pages) == 2
    assert ram_user.ram_user.logon_name in pages[0] and "Initial password" not in pages[0]
    assert carol.ram_user.logon_name in pages[1] and carol.initial_password in pages[1].replace("\n", "")
    assert DeliveryPacket.objects.get(pk=carol.packet.pk).state == State.PRINTED
    # Printed once: the same selection again gives carol sign-in instructions only.
    again = client.post(reverse("accounts:pdf-for-users"), {"user": [carol.ram_user.pk]})
    assert "Initial password" not in PdfReader(io.BytesIO(again.content)).pages[0].extract_text()


def test_the_user_page_lists_the_users_packets(owner):
    carol = sealed_user(owner, "carol")
    page = signed_in(owner).get(reverse("accounts:user-detail", args=[carol.ram_user.pk])).content.decode()
    assert f"#{carol.packet.pk}" in page and "Sealed" in page


def test_a_packet_queued_for_email_cannot_also_be_printed(owner):
    created = sealed_user(owner)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    response = pdf_of(signed_in(owner), [created.packet.pk])
    assert response.status_code == 302
    packet = DeliveryPacket.objects.get(pk=created.packet.pk)
    assert packet.state == State.SEALED and packet.sealed_password


def test_names_with_line_breaks_are_refused(owner):
    with pytest.raises(ValidationError):
        create_ram_users(actor=owner.actor, new_users=[NewRamUser(name="eve", display_name="Eve\nBcc: x@y")])


def test_a_pdf_that_cannot_be_made_wipes_nothing(owner, settings):
    created = sealed_user(owner)
    settings.PORTAL_PDF_FONT_DIR = "/nonexistent/fonts"
    with pytest.raises(FileNotFoundError):
        pdf_of(signed_in(owner), [created.packet.pk])
    packet = DeliveryPacket.objects.get(pk=created.packet.pk)
    assert packet.state == State.SEALED and packet.sealed_password
    assert not AuditEvent.objects.filter(action="packet.printed").exists()


def test_the_packet_list_pages_instead_of_hiding_older_packets(owner):
    packets = [sealed_user(owner, f"user{index}").packet for index in range(3)]
    client = signed_in(owner)
    first = client.get(reverse("accounts:packet-list"))
    assert first.context["page"].paginator.count == DeliveryPacket.objects.filter(account=owner.account).count()
    # A page past the end shows the last one, not an error or an empty list.
    past_the_end = client.get(reverse("accounts:packet-list"), {"page": "999"})
    assert past_the_end.context["page"].number == past_the_end.context["page"].paginator.num_pages
    assert re.search(r"<h1[^>]*>Delivery packets</h1>", past_the_end.content.decode())
    for packet in packets:
        assert f'data-packet="{packet.pk}"' in past_the_end.content.decode()


def test_the_overview_counts_packets_waiting_and_offers_create_user_only_to_writers(owner, ram_reader):
    def waiting() -> int:
        page = signed_in(owner).get(reverse("accounts:overview")).content.decode()
        return int(re.search(r"data-testid=\"waiting-packet-count\">(\d+)<", page).group(1))

    before = waiting()  # the reader's own first-logon packet
    create_ram_users(
        actor=owner.actor,
        new_users=[NewRamUser(name=name, display_name=name, console_logon=True) for name in ("bob", "carol")],
    )
    assert waiting() == before + 2
    revoke_delivery_packet(actor=owner.actor, packet=DeliveryPacket.objects.get(ram_user__name="carol"))
    assert waiting() == before + 1
    assert "Create User</a>" in signed_in(owner).get(reverse("accounts:overview")).content.decode()
    assert "Create User</a>" not in signed_in(ram_reader).get(reverse("accounts:overview")).content.decode()
