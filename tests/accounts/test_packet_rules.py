"""What the packet list offers for a packet is exactly what the services accept, in every state a packet can be in."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import DeliveryPacket
from accounts.services.claim_links import claim_delivery_packet, expire_stale_packets
from accounts.services.logon import LogonChange, modify_logon_settings
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.packets import (
    email_delivery_packet,
    instructions_packet,
    print_delivery_packets,
    revoke_delivery_packet,
    show_packet_secrets,
)
from tests.accounts.test_packets import sealed_user
from tests.conftest import CONSOLE, signed_in

State = DeliveryPacket.State


@pytest.fixture(autouse=True)
def mail_in_memory(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def _sent(owner, name):
    packet = sealed_user(owner, name).packet
    email_delivery_packet(actor=owner.actor, packet=packet, to=f"{name}@example.com")
    deliver_due_emails()
    return packet


def _claimed(owner, name):
    packet = _sent(owner, name)
    token = re.search(r"/claim/#([A-Za-z0-9_-]+)", mail.outbox[-1].body).group(1)
    claim_delivery_packet(token=token, origin=CONSOLE)
    return packet


def _expired(owner, name):
    packet = _sent(owner, name)
    expire_stale_packets(now=timezone.now() + timedelta(days=30))
    return packet


def _queued(owner, name):
    packet = sealed_user(owner, name).packet
    email_delivery_packet(actor=owner.actor, packet=packet, to=f"{name}@example.com")
    return packet


def _printed(owner, name):
    packet = sealed_user(owner, name).packet
    print_delivery_packets(actor=owner.actor, packet_ids=[packet.pk], channel="pdf")
    return packet


def _revoked(owner, name):
    packet = sealed_user(owner, name).packet
    revoke_delivery_packet(actor=owner.actor, packet=packet)
    return packet


def _shown(owner, name):
    packet = sealed_user(owner, name).packet
    show_packet_secrets(actor=owner.actor, packet=packet)
    return packet


def _superseded(owner, name):
    created = sealed_user(owner, name)
    modify_logon_settings(
        actor=owner.actor,
        ram_user=created.ram_user,
        change=LogonChange(is_enabled=True, new_password="Harvest-Quartz-Beacon-3318"),
    )
    return created.packet


def _instructions(owner, name):
    return instructions_packet(actor=owner.actor, ram_user=sealed_user(owner, name).ram_user)


def _instructions_printed(owner, name):
    packet = _instructions(owner, name)
    print_delivery_packets(actor=owner.actor, packet_ids=[packet.pk], channel="printed")
    return packet


def _instructions_revoked(owner, name):
    packet = _instructions(owner, name)
    revoke_delivery_packet(actor=owner.actor, packet=packet)
    return packet


PACKETS = {
    "sealed": lambda owner, name: sealed_user(owner, name).packet,
    "queued for email": _queued,
    "sent": _sent,
    "claimed": _claimed,
    "expired": _expired,
    "printed": _printed,
    "revoked": _revoked,
    "shown": _shown,
    "superseded": _superseded,
    "instructions": _instructions,
    "instructions printed": _instructions_printed,
    "instructions revoked": _instructions_revoked,
}


def offered(owner, packet) -> dict[str, bool]:
    page = signed_in(owner).get(reverse("accounts:packet-list")).content.decode()
    row = page[page.index(f'id="packet-{packet.pk}"') :]
    row = row[: row.index("</tr>")]
    email_form = page[page.index('id="email-packet-id"') :] if 'id="email-packet-id"' in page else ""
    return {
        "print": f'name="packet" value="{packet.pk}"' in row,
        "email": f'<option value="{packet.pk}"' in email_form,
        "revoke": reverse("accounts:revoke-packet", args=[packet.pk]) in row,
    }


def accepted(owner, packet, action: str) -> bool:
    try:
        if action == "print":
            print_delivery_packets(actor=owner.actor, packet_ids=[packet.pk], channel="pdf")
        elif action == "email":
            email_delivery_packet(actor=owner.actor, packet=packet, to="someone@example.com")
        else:
            revoke_delivery_packet(actor=owner.actor, packet=packet)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("action", ["print", "email", "revoke"])
@pytest.mark.parametrize("kind", PACKETS)
def test_the_list_offers_an_action_exactly_when_the_service_accepts_it(owner, kind, action):
    packet = DeliveryPacket.objects.get(pk=PACKETS[kind](owner, "carol").pk)
    is_offered = offered(owner, packet)[action]
    assert is_offered == accepted(owner, DeliveryPacket.objects.get(pk=packet.pk), action), (kind, action)


def test_the_rules_in_every_state_read_as_the_product_says(owner):
    expected = {  # (print, email, revoke)
        "sealed": (True, True, True),
        "queued for email": (False, False, True),
        "sent": (False, False, True),
        "claimed": (False, False, False),
        "expired": (False, False, False),
        "printed": (False, False, False),
        "revoked": (False, False, False),
        "shown": (False, False, False),
        "superseded": (False, False, False),
        "instructions": (True, True, True),
        "instructions printed": (True, False, False),
        "instructions revoked": (False, False, False),
    }
    for index, (kind, make) in enumerate(PACKETS.items()):
        packet = DeliveryPacket.objects.get(pk=make(owner, f"user{index}").pk)
        assert (packet.is_printable, packet.is_emailable, packet.is_revocable) == expected[kind], kind


def test_the_packet_list_and_the_user_page_name_a_packets_contents_alike(owner):
    sealed = sealed_user(owner, "carol", create_access_key=True)
    instructions = instructions_packet(actor=owner.actor, ram_user=sealed.ram_user)
    client = signed_in(owner)
    packet_list = client.get(reverse("accounts:packet-list")).content.decode()
    user_page = client.get(reverse("accounts:user-detail", args=[sealed.ram_user.pk])).content.decode()
    key_id = sealed.packet.access_key_id
    assert key_id and sealed.packet.contents == f"Password + AccessKey {key_id}"
    assert instructions.contents == "Sign-in instructions"
    for packet in (sealed.packet, instructions):
        assert packet.contents in packet_list and packet.contents in user_page
