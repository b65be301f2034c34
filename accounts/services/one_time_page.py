"""The one-time page of a secret-issuing form, opened (accounts.services.reveals makes and fills it): its secrets
once, then only its facts."""

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import DeliveryPacket, OneTimeReveal
from accounts.services.packets import PacketSecrets, show_packet_secrets
from portal.audit import record_event
from portal.keyring import keyring

Kind, State = OneTimeReveal.Kind, OneTimeReveal.State


@dataclass
class Revealed:
    reveal: OneTimeReveal
    is_first_showing: bool
    secrets: dict[str, Any] = field(default_factory=dict)  # as sealed by fill_reveal, read back from JSON
    packet_secrets: dict[int, PacketSecrets] = field(default_factory=dict)  # by packet ID, those shown now
    packets: list[DeliveryPacket] = field(default_factory=list)


def show_reveal(*, actor: Actor, reveal: OneTimeReveal) -> Revealed:
    """The page's secrets, this once: their sealed copies are wiped as they are read. Afterwards (a reload, a
    second tab, a repeated submission) the page gets the facts without secrets."""
    with transaction.atomic():
        locked = OneTimeReveal.objects.select_for_update().get(pk=reveal.pk)
        packets = list(
            DeliveryPacket.objects.filter(pk__in=locked.facts.get("packets", []), account=actor.account)
            .select_related("ram_user__account__security_settings", "ram_user__user")
            .order_by("ram_user__name", "pk")
        )
        if locked.state != State.READY:
            return Revealed(reveal=locked, is_first_showing=False, packets=packets)
        shown = Revealed(reveal=locked, is_first_showing=True, packets=packets)
        if locked.sealed_secrets:
            shown.secrets = json.loads(keyring().open(locked.sealed_secrets, associated_data=locked.associated_data))
        if locked.shows_packets:
            for packet in packets:
                opened = show_packet_secrets(actor=actor, packet=packet)
                if opened is not None:
                    shown.packet_secrets[packet.pk] = opened
        locked.state, locked.shown_at, locked.sealed_secrets = State.SHOWN, timezone.now(), ""
        locked.save(update_fields=["state", "shown_at", "sealed_secrets"])
        if shown.secrets and locked.kind != Kind.CLAIMED:
            # Packets record their own showing (packet.shown, packet.claimed); these secrets are recorded here.
            record_event(
                actor=actor,
                action="secrets.shown",
                target=actor.person.display,  # the issuer: a claim's page (no person) records nothing here
                details={"kind": locked.kind} | {key: value for key, value in locked.facts.items() if key != "packets"},
            )
        return shown
