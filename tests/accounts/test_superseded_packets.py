"""A sealed packet never hands out a secret that no longer works: a new password, disabled logon or a deleted
AccessKey takes the old secret out of every undelivered packet, and a packet left without secrets is superseded —
it can no longer be printed, downloaded as PDF, emailed or claimed."""

import io
from html import escape

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.actors import Actor
from accounts.models import DeliveryPacket, PacketEmail
from accounts.services.access_keys import delete_access_key, issue_access_key, set_access_key_status
from accounts.services.logon import LogonChange, change_own_password, modify_logon_settings
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.packets import email_delivery_packet, print_delivery_packets
from portal.models import AuditEvent
from tests.accounts.test_packets import claim_token_from, sealed_user
from tests.conftest import CONSOLE, signed_in

State = DeliveryPacket.State
NEW_PASSWORD = "Harvest-Quartz-Beacon-3318"


def new_password_for(owner, created, password=NEW_PASSWORD):
    return modify_logon_settings(
        actor=owner.actor, ram_user=created.ram_user, change=LogonChange(is_enabled=True, new_password=password)
    )


def reloaded(packet) -> DeliveryPacket:
    return DeliveryPacket.objects.get(pk=packet.pk)


def test_a_new_password_supersedes_the_sealed_packet_that_carries_the_old_one(owner):
    created = sealed_user(owner)
    result = new_password_for(owner, created)
    old = reloaded(created.packet)
    assert old.state == State.SUPERSEDED and not old.sealed_password and old.wiped_at
    assert old.history_lines()[0].startswith("The password was replaced; the one in this packet no longer works")
    assert owner.account.principal in old.history_lines()[0]
    assert reloaded(result.packet).state == State.SEALED  # the new password's own packet
    # One event for the change, naming the packets it superseded (SPEC §3 rule 4).
    event = AuditEvent.objects.get(action="console_logon.update")
    assert event.details["superseded_packets"] == [old.pk]
    assert event.details["delivery_packet"] == result.packet.pk


@pytest.mark.parametrize("channel", ["printed", "pdf"])
def test_a_superseded_packet_refuses_print_and_pdf(owner, channel):
    created = sealed_user(owner)
    new_password_for(owner, created)
    with pytest.raises(ValidationError, match="superseded"):
        print_delivery_packets(actor=owner.actor, packet_ids=[created.packet.pk], channel=channel)
    view = "accounts:print-packets" if channel == "printed" else "accounts:pdf-packets"
    response = signed_in(owner).post(reverse(view), {"packet": [created.packet.pk]}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:packet-list")
    assert "superseded" in response.content.decode()
    assert escape(created.initial_password) not in response.content.decode()
    assert reloaded(created.packet).state == State.SUPERSEDED


def test_a_superseded_packet_refuses_email(owner):
    created = sealed_user(owner)
    new_password_for(owner, created)
    with pytest.raises(ValidationError, match="superseded"):
        email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    assert not PacketEmail.objects.exists()


def test_an_email_still_queued_is_dropped_and_never_sent(owner, smtp):
    created = sealed_user(owner)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    new_password_for(owner, created)
    assert not PacketEmail.objects.filter(packet=created.packet).exists()
    assert deliver_due_emails() == 0 and smtp.messages == []


def test_a_sent_claim_link_refuses_once_its_password_is_replaced(owner, smtp):
    created = sealed_user(owner)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    deliver_due_emails()
    token = claim_token_from(smtp)
    new_password_for(owner, created)
    response = Client().post(reverse("accounts:claim"), {"claim_code": token})
    assert response.status_code == 410
    assert "replaced" in response.content.decode()
    assert escape(created.initial_password) not in response.content.decode()
    assert reloaded(created.packet).state == State.SUPERSEDED


def test_a_still_valid_accesskey_secret_stays_and_the_sheet_says_why_the_password_is_missing(owner):
    created = sealed_user(owner, create_access_key=True)
    new_password_for(owner, created)
    old = reloaded(created.packet)
    assert old.state == State.SEALED and not old.sealed_password and old.sealed_access_key_secret
    assert AuditEvent.objects.get(action="console_logon.update").details["superseded_packets"] == [old.pk]
    [sheet] = print_delivery_packets(actor=owner.actor, packet_ids=[old.pk], channel="pdf")
    assert sheet.secrets.password is None
    assert sheet.secrets.access_key_secret == created.access_key_secret
    response = signed_in(owner).post(reverse("accounts:pdf-packets"), {"packet": [old.pk]})
    assert response.status_code == 302  # spent by the print above: one exit only
    printed = reloaded(old)
    assert printed.state == State.PRINTED and not printed.has_secrets


def test_the_pdf_of_a_partly_superseded_packet_names_what_is_missing(owner):
    created = sealed_user(owner, create_access_key=True)
    new_password_for(owner, created)
    response = signed_in(owner).post(reverse("accounts:pdf-packets"), {"packet": [created.packet.pk]})
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert created.access_key_secret in text
    assert created.initial_password not in text and NEW_PASSWORD not in text
    assert "The password was replaced" in text


def test_deleting_the_accesskey_supersedes_a_packet_that_carried_only_its_secret(owner, ram_user):
    issued = issue_access_key(actor=owner.actor, holder=ram_user.user, otp_code=owner.code())
    key, packet = issued.access_key, issued.packet
    assert packet.state == State.SEALED and packet.sealed_access_key_secret
    set_access_key_status(actor=owner.actor, access_key=key, is_active=False)
    delete_access_key(actor=owner.actor, access_key=key)
    packet = reloaded(packet)
    assert packet.state == State.SUPERSEDED and not packet.sealed_access_key_secret
    assert packet.history_lines()[0].startswith(f"AccessKey {key.access_key_id} was deleted")
    assert AuditEvent.objects.get(action="access_key.delete").details["superseded_packets"] == [packet.pk]
    with pytest.raises(ValidationError, match="superseded"):
        print_delivery_packets(actor=owner.actor, packet_ids=[packet.pk], channel="pdf")


def test_disabling_console_logon_supersedes_the_sealed_password(owner):
    created = sealed_user(owner)
    modify_logon_settings(actor=owner.actor, ram_user=created.ram_user, change=LogonChange(is_enabled=False))
    packet = reloaded(created.packet)
    assert packet.state == State.SUPERSEDED
    assert packet.history_lines()[0].startswith("Console logon was disabled")


def test_the_users_own_new_password_supersedes_a_packet_still_sealed(owner):
    created = sealed_user(owner)
    user = created.ram_user.user
    change_own_password(
        actor=Actor(account=owner.account, origin=CONSOLE, user=user),
        current_password=created.initial_password,
        new_password=NEW_PASSWORD,
        is_forced_reset=True,
    )
    assert reloaded(created.packet).state == State.SUPERSEDED
    assert AuditEvent.objects.get(action="password.change").details == {"superseded_packets": [created.packet.pk]}


def test_packets_already_delivered_and_other_users_packets_are_left_alone(owner):
    carol = sealed_user(owner, "carol")
    dave = sealed_user(owner, "dave")
    print_delivery_packets(actor=owner.actor, packet_ids=[carol.packet.pk], channel="pdf")
    new_password_for(owner, carol)
    assert reloaded(carol.packet).state == State.PRINTED and reloaded(carol.packet).history == []
    assert reloaded(dave.packet).state == State.SEALED


def test_the_packet_list_shows_the_superseded_state_and_its_history_line(owner):
    created = sealed_user(owner)
    new_password_for(owner, created)
    page = signed_in(owner).get(reverse("accounts:packet-list")).content.decode()
    row = page[page.index(f'id="packet-{created.packet.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-state="superseded"' in row and "Superseded" in row
    assert "The password was replaced" in row
    assert f'value="{created.packet.pk}"' not in row  # no checkbox: it cannot be printed
