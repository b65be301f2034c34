"""Delivery packets ("Delivery RAM account to other users").

A packet's secrets (initial password, AccessKey secret) are sealed with the keyring when they are created
and leave through exactly one channel: shown on the issuing page, printed (HTML or PDF), or emailed as a
one-time claim link. After that they are wiped. A packet without secrets (sign-in instructions) can be
printed or sent any number of times.
"""

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import overload

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import DeliveryPacket, PacketEmail, RamUser
from accounts.permissions import ensure_can_write_ram, ensure_same_account
from portal.audit import record_event
from portal.keyring import Keyring, keyring

State = DeliveryPacket.State
DELIVERABLE_STATES = (State.SEALED, State.SENT)


@dataclass(frozen=True)
class PacketSecrets:
    password: str | None = dataclasses.field(default=None, repr=False)  # never in a repr, log or error report
    access_key_secret: str | None = dataclasses.field(default=None, repr=False)


def _associated_data(packet: DeliveryPacket, what: str) -> str:
    return f"packet:{packet.uid}:{what}"


def seal_delivery_packet(
    *,
    actor: Actor,
    ram_user: RamUser,
    password: str | None = None,
    access_key_id: str = "",
    access_key_secret: str | None = None,
) -> DeliveryPacket:
    """A new sealed packet for secrets just created. Called inside the creating service's transaction,
    whose audit event names the packet."""
    packet = DeliveryPacket(
        uid=uuid.uuid4(),
        account=ram_user.account,
        ram_user=ram_user,
        created_by=actor.principal,
        has_password=password is not None,
        access_key_id=access_key_id if access_key_secret else "",
    )
    ring = keyring()
    if password is not None:
        packet.sealed_password = ring.seal(password, associated_data=_associated_data(packet, "password"))
    if access_key_secret:
        packet.sealed_access_key_secret = ring.seal(
            access_key_secret, associated_data=_associated_data(packet, "access_key_secret")
        )
    packet.save()
    return packet


SEALED_PACKET_FIELDS = {"sealed_password": "password", "sealed_access_key_secret": "access_key_secret"}


def reseal_packet(packet: DeliveryPacket, ring: Keyring) -> None:
    """Re-seals the packet's secrets with the keyring's newest key (`rotate_secret_keys`)."""
    for field, what in SEALED_PACKET_FIELDS.items():
        sealed = getattr(packet, field)
        if sealed:
            secret = ring.open(sealed, associated_data=_associated_data(packet, what))
            setattr(packet, field, ring.seal(secret, associated_data=_associated_data(packet, what)))


def open_packet_sample(packet: DeliveryPacket, ring: Keyring) -> None:
    """Raises SecretUnreadable when the keyring cannot open the packet (the start-up check)."""
    for field, what in SEALED_PACKET_FIELDS.items():
        if getattr(packet, field):
            ring.open(getattr(packet, field), associated_data=_associated_data(packet, what))


def open_packet_secrets(packet: DeliveryPacket) -> PacketSecrets:
    ring = keyring()
    return PacketSecrets(
        password=ring.open(packet.sealed_password, associated_data=_associated_data(packet, "password"))
        if packet.sealed_password
        else None,
        access_key_secret=ring.open(
            packet.sealed_access_key_secret, associated_data=_associated_data(packet, "access_key_secret")
        )
        if packet.sealed_access_key_secret
        else None,
    )


def wipe_packet(packet: DeliveryPacket, *, state: str, channel: str = "", by: str = "") -> None:
    now = timezone.now()
    packet.sealed_password = ""
    packet.sealed_access_key_secret = ""
    packet.claim_token_hash = ""
    packet.state = state
    packet.wiped_at = now
    if channel:
        packet.channel = channel
        packet.delivered_at = now
        packet.delivered_by = by
    packet.save()


def supersede_packet_secrets(
    *, actor: Actor, ram_user: RamUser, event: str, password: bool = False, access_key_id: str = ""
) -> list[int]:
    """Takes a secret that no longer works (a replaced password, logon disabled, a deleted key) out of every
    undelivered packet of the user that carries it, with a line in the packet's history. A packet left
    without secrets is superseded: it can no longer be printed, emailed or claimed, and an email still queued
    for it is dropped. Runs inside the caller's transaction, whose audit event lists the packets changed."""
    carries = Q()
    if password:
        carries |= ~Q(sealed_password="")
    if access_key_id:
        carries |= Q(access_key_id=access_key_id) & ~Q(sealed_access_key_secret="")
    if not carries:
        return []
    candidates = DeliveryPacket.objects.filter(carries, ram_user=ram_user, state__in=DELIVERABLE_STATES)
    packet_ids = list(candidates.values_list("pk", flat=True))
    if not packet_ids:
        return []
    # The outbox rows first, then the packets: the mail worker and "Revoke" lock in that order too.
    list(PacketEmail.objects.select_for_update().filter(packet_id__in=packet_ids))
    changed = []
    for packet in DeliveryPacket.objects.select_for_update().filter(carries, pk__in=packet_ids).order_by("pk"):
        if packet.state not in DELIVERABLE_STATES:
            continue
        if password:
            packet.sealed_password = ""
        if access_key_id and packet.access_key_id == access_key_id:
            packet.sealed_access_key_secret = ""
        packet.history = [
            *packet.history,
            {"at": timezone.now().isoformat(), "by": actor.principal, "event": event, "access_key_id": access_key_id},
        ]
        if packet.has_secrets:
            packet.save(update_fields=["sealed_password", "sealed_access_key_secret", "history"])
        else:
            wipe_packet(packet, state=State.SUPERSEDED)
            PacketEmail.objects.filter(packet=packet, sent_at__isnull=True).delete()
        changed.append(packet.pk)
    return changed


def _locked_packets(actor: Actor, packet_ids: list[int]) -> list[DeliveryPacket]:
    packets = list(
        DeliveryPacket.objects.select_for_update()
        .filter(account=actor.account, pk__in=packet_ids)
        .select_related("ram_user__account", "ram_user__user")
        .order_by("ram_user__name", "pk")
    )
    if len(packets) != len(set(packet_ids)):
        raise ValidationError(_("Some of these packets do not exist."))
    return packets


def show_packet_secrets(*, actor: Actor, packet: DeliveryPacket) -> PacketSecrets | None:
    """The packet's secrets for the issuing page, which shows them now: they leave, so the sealed copy goes.
    None when they have left otherwise meanwhile (printed, queued for email, superseded)."""
    ensure_same_account(actor, packet.ram_user)
    with transaction.atomic():
        locked = DeliveryPacket.objects.select_for_update().get(pk=packet.pk)
        if not (locked.has_secrets and locked.is_printable):  # showing is another channel, like printing
            return None
        opened = open_packet_secrets(locked)
        wipe_packet(locked, state=State.WIPED, channel=DeliveryPacket.Channel.SHOWN, by=actor.principal)
        record_event(
            actor=actor, action="packet.shown", target=packet.ram_user.principal, details={"packet": packet.pk}
        )
    return opened


def release_shown_secrets(*, actor: Actor, packet: DeliveryPacket) -> None:
    """The caller has just shown the packet's secrets (an API response, an operator's command): the sealed
    copy goes."""
    show_packet_secrets(actor=actor, packet=packet)


@dataclass(frozen=True)
class PrintedSheet:
    packet: DeliveryPacket
    secrets: PacketSecrets


@overload
def print_delivery_packets(*, actor: Actor, packet_ids: list[int], channel: str) -> list[PrintedSheet]: ...


@overload
def print_delivery_packets[Document](
    *, actor: Actor, packet_ids: list[int], channel: str, render: Callable[[list[PrintedSheet]], Document]
) -> Document: ...


def print_delivery_packets[Document](
    *,
    actor: Actor,
    packet_ids: list[int],
    channel: str,
    render: Callable[[list[PrintedSheet]], Document] | None = None,
) -> Document | list[PrintedSheet]:
    """The packets' sheets, with their secrets this one time; sealed packets are wiped as they leave.

    A packet whose secrets have already left is refused, so a second download of a secret-bearing PDF fails.
    `render` (sheets → document) runs inside the transaction: if the document cannot be made, nothing is wiped.
    """
    ensure_can_write_ram(actor)
    with transaction.atomic():
        packets = _locked_packets(actor, packet_ids)
        if not packets:  # an empty document would look like a printer fault
            raise ValidationError(_("Select at least one packet to print: nothing was selected."))
        superseded = sorted({p.ram_user.name for p in packets if p.state == State.SUPERSEDED})
        if superseded:
            raise ValidationError(
                _(
                    "These packets are superseded: the secrets they carried were replaced or deleted since "
                    "(of %(names)s). Print the newer packets, or sign-in instructions."
                )
                % {"names": ", ".join(superseded)}
            )
        revoked = sorted({p.ram_user.name for p in packets if p.state == State.REVOKED})
        if revoked:
            raise ValidationError(
                _("These packets were revoked and cannot be printed: %(names)s.") % {"names": ", ".join(revoked)}
            )
        spent = sorted({p.ram_user.name for p in packets if not p.is_printable})
        if spent:
            # Their secrets left already, or are on their way by email.
            raise ValidationError(
                _(
                    "The secrets of these packets have already left the portal and cannot be printed again: "
                    "%(names)s. Print sign-in instructions instead, or issue new secrets."
                )
                % {"names": ", ".join(spent)}
            )
        sheets = []
        for packet in packets:
            opened = open_packet_secrets(packet)
            if packet.has_secrets:
                wipe_packet(packet, state=State.PRINTED, channel=channel, by=actor.principal)
            else:
                packet.state, packet.channel = State.PRINTED, channel
                packet.delivered_at, packet.delivered_by = timezone.now(), actor.principal
                packet.save()
            sheets.append(PrintedSheet(packet=packet, secrets=opened))
            record_event(
                actor=actor,
                action="packet.printed",
                target=packet.ram_user.principal,
                details={"packet": packet.pk, "channel": channel},
            )
        return render(sheets) if render else sheets


def instructions_packet(*, actor: Actor, ram_user: RamUser) -> DeliveryPacket:
    """A packet with sign-in instructions only (no secrets), for printing or sending any number of times."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    with transaction.atomic():
        packet = DeliveryPacket.objects.create(
            uid=uuid.uuid4(), account=ram_user.account, ram_user=ram_user, created_by=actor.principal
        )
        record_event(
            actor=actor, action="packet.instructions", target=ram_user.principal, details={"packet": packet.pk}
        )
    return packet


def packets_for_users(*, actor: Actor, ram_user_ids: list[int]) -> list[int]:
    """What to print for each chosen user: their sealed packets, or else fresh sign-in instructions."""
    ensure_can_write_ram(actor)
    users = list(RamUser.objects.for_account(actor.account).filter(pk__in=ram_user_ids).order_by("name"))
    if len(users) != len(set(ram_user_ids)):
        raise ValidationError(_("Some of these users do not exist."))
    sealed: dict[int, list[int]] = {}
    for packet in DeliveryPacket.objects.filter(ram_user__in=users, state=State.SEALED).order_by("pk"):
        sealed.setdefault(packet.ram_user_id, []).append(packet.pk)
    chosen: list[int] = []
    for ram_user in users:
        chosen.extend(sealed.get(ram_user.pk) or [instructions_packet(actor=actor, ram_user=ram_user).pk])
    return chosen


def email_delivery_packet(*, actor: Actor, packet: DeliveryPacket, to: str) -> PacketEmail:
    """Queues the packet's email in the durable outbox; the mail worker sends it (with retries)."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, packet.ram_user)
    to = (to or "").strip()
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError({"to": [_("Enter a valid email address.")]}) from None
    with transaction.atomic():
        locked = DeliveryPacket.objects.select_for_update().get(pk=packet.pk)
        if locked.state == State.SUPERSEDED:
            raise ValidationError(
                _(
                    "This packet is superseded: the secrets it carried were replaced or deleted since. Send the "
                    "newer packet instead."
                )
            )
        if not locked.is_emailable:
            raise ValidationError(_("This packet has already been delivered; create a new one to send."))
        locked.email_to = to
        locked.save(update_fields=["email_to"])
        outbox = PacketEmail.objects.create(
            packet=locked, to=to, requested_by=actor.principal, next_attempt_at=timezone.now()
        )
        record_event(
            actor=actor,
            action="packet.email_queued",
            target=packet.ram_user.principal,
            details={"packet": packet.pk, "to": to},
        )
    return outbox


def revoke_delivery_packet(*, actor: Actor, packet: DeliveryPacket) -> None:
    """ "Revoke": a sent claim link stops working and the sealed secrets are wiped."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, packet.ram_user)
    with transaction.atomic():
        # The outbox row first, then the packet: the mail worker locks in that order too, so the two never
        # wait on each other crosswise.
        list(PacketEmail.objects.select_for_update().filter(packet_id=packet.pk))
        locked = DeliveryPacket.objects.select_for_update().get(pk=packet.pk)
        if not locked.is_revocable:
            raise ValidationError(_("Only sealed or sent packets can be revoked."))
        locked.revoked_at = timezone.now()  # saved by wipe_packet
        wipe_packet(locked, state=State.REVOKED)
        PacketEmail.objects.filter(packet=locked, sent_at__isnull=True).delete()
        record_event(
            actor=actor, action="packet.revoked", target=packet.ram_user.principal, details={"packet": packet.pk}
        )
