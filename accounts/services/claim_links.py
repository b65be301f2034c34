"""Claim links: a sealed packet emailed as a one-time link, revealed once by its person, or expired unclaimed.

The mail worker mints the link inside its transaction (only its hash is kept); "Reveal" on the claim page opens
the packet once and wipes it; links past their time are wiped by the worker.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import DeliveryPacket, OneTimeReveal
from accounts.services.packets import PacketSecrets, open_packet_secrets, wipe_packet
from accounts.services.reveals import fill_reveal
from portal.audit import Origin, record_event

State = DeliveryPacket.State


def hash_claim_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_hours(packet: DeliveryPacket) -> int:
    """How long the packet's emailed link works: an invitation's longer than a claim link's."""
    return settings.PORTAL_INVITATION_HOURS if packet.is_invitation else settings.PORTAL_CLAIM_LINK_HOURS


def issue_claim_token(packet: DeliveryPacket) -> str:
    """A fresh claim (or invitation) token for a packet about to be emailed; only its hash is kept. Called by the
    mail worker inside its transaction, so the link exists only in the message being handed to the server."""
    token = secrets.token_urlsafe(32)
    packet.claim_token_hash = hash_claim_token(token)
    packet.claim_expires_at = timezone.now() + timedelta(hours=link_hours(packet))
    packet.save(update_fields=["claim_token_hash", "claim_expires_at"])
    return token


def mark_packet_sent(*, packet: DeliveryPacket, actor: Actor) -> None:
    packet.state = State.SENT
    packet.sent_at = timezone.now()
    if not (packet.has_secrets or packet.is_invitation):  # instructions: delivered once sent
        packet.channel = DeliveryPacket.Channel.EMAIL
        packet.delivered_at = packet.sent_at
    packet.save()
    record_event(
        actor=actor,
        action="packet.sent",
        target=packet.ram_user.principal,
        details={"packet": packet.pk, "to": packet.email_to} | ({"invitation": True} if packet.is_invitation else {}),
    )


def packet_for_claim(token: str) -> DeliveryPacket | None:
    if not token or len(token) > 100:
        return None
    return (
        DeliveryPacket.objects.filter(claim_token_hash=hash_claim_token(token), is_invitation=False)
        .select_related("ram_user__account", "ram_user__user")
        .first()
    )


class ClaimRefused(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def claim_delivery_packet(
    *, token: str, origin: Origin, reveal: OneTimeReveal | None = None
) -> tuple[DeliveryPacket, PacketSecrets]:
    """ "Reveal": the secrets of a sent packet, once; the link is spent and the packet wiped. With `reveal`, the
    secrets move to the claiming browser's one-time page (sealed there until it opens), in the same transaction."""
    refusal = None
    with transaction.atomic():
        found = packet_for_claim(token)
        packet = DeliveryPacket.objects.select_for_update().filter(pk=found.pk).first() if found else None
        if (
            found is None
            or packet is None
            or not packet.is_claimable
            or packet.claim_token_hash != hash_claim_token(token)
        ):
            raise ClaimRefused(
                _(
                    "This link is not valid: it was used, revoked or mistyped, or the secrets it carried were "
                    "replaced. Ask your administrator for a new one."
                )
            )
        actor = Actor(account=found.ram_user.account, origin=origin, label=f"claim link of {found.ram_user.principal}")
        if packet.claim_expires_at and packet.claim_expires_at <= timezone.now():
            # The expiry is written (this transaction commits) before the refusal is raised.
            wipe_packet(packet, state=State.EXPIRED)
            record_event(
                actor=actor, action="packet.expired", target=found.ram_user.principal, details={"packet": packet.pk}
            )
            refusal = ClaimRefused(_("This link has expired. Ask your administrator for a new one."))
        else:
            opened = open_packet_secrets(packet)
            wipe_packet(packet, state=State.CLAIMED, channel=DeliveryPacket.Channel.EMAIL, by="claim link")
            fill_reveal(
                reveal,
                secrets={"password": opened.password, "access_key_secret": opened.access_key_secret},
                facts={"packet": packet.pk},
                account=found.ram_user.account,
            )
            record_event(
                actor=actor, action="packet.claimed", target=found.ram_user.principal, details={"packet": packet.pk}
            )
    if refusal:
        raise refusal
    packet.ram_user = found.ram_user
    return packet, opened


def expire_stale_packets(*, now: datetime | None = None) -> int:
    """Wipes sent packets whose claim link has expired (the worker runs this now and then)."""
    now = now or timezone.now()
    expired = 0
    for packet in DeliveryPacket.objects.filter(state=State.SENT, claim_expires_at__lte=now).select_related(
        "ram_user__account"
    ):
        with transaction.atomic():
            locked = DeliveryPacket.objects.select_for_update().get(pk=packet.pk)
            if locked.state != State.SENT:
                continue
            wipe_packet(locked, state=State.EXPIRED)
            record_event(
                actor=Actor(account=packet.ram_user.account, origin=Origin(channel="command"), label="mail worker"),
                action="packet.expired",
                target=packet.ram_user.principal,
                details={"packet": packet.pk},
            )
            expired += 1
    return expired
