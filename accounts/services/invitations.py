"""Invitations ("Invite by email"): the person chooses their own console password through a one-time link.

No password is generated or sent. An invitation is a delivery packet without secrets that goes through the email
outbox; the mail worker mints its link (only the hash is kept, as for claim links) when the message is handed to
the server. The link is spent by a POST that sets a password under the account's policy and enables console logon;
a scanner that fetches the link spends nothing. An invitation not accepted in time expires and can be sent again;
"Revoke" stops it; a password set or console logon disabled meanwhile supersedes it.
"""

import uuid
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.actors import Actor
from accounts.models import DeliveryPacket, PacketEmail, RamUser, User
from accounts.passwords import context_words, password_problems, policy_for
from accounts.permissions import ensure_can_write_ram, ensure_same_account
from accounts.services.claim_links import hash_claim_token
from accounts.services.packets import wipe_packet
from portal.audit import Origin, record_event

State = DeliveryPacket.State


class InvitationRefused(Exception):
    def __init__(self, message: StrOrPromise):
        self.message = str(message)  # in the language of the page that says it
        super().__init__(self.message)


INVALID = gettext_lazy(
    "This invitation link is not valid: it was used, revoked or mistyped, or a newer invitation replaced it. "
    "Ask your administrator to send it again."
)
EXPIRED = gettext_lazy("This invitation has expired. Ask your administrator to send it again.")


def invite_ram_user(*, actor: Actor, ram_user: RamUser) -> DeliveryPacket:
    """A new invitation for the user, queued for their email address; an earlier one not yet accepted is superseded
    (its link stops working). Runs in the caller's transaction when there is one (Create User, the import)."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    if not ram_user.email:
        raise ValidationError({"email": [_("An invitation goes to the user's email address: enter one.")]})
    with transaction.atomic():
        earlier = supersede_invitations(ram_user=ram_user)
        packet = DeliveryPacket.objects.create(
            uid=uuid.uuid4(),
            account=ram_user.account,
            ram_user=ram_user,
            created_by=actor.principal,
            is_invitation=True,
            email_to=ram_user.email,
        )
        PacketEmail.objects.create(
            packet=packet, to=ram_user.email, requested_by=actor.principal, next_attempt_at=timezone.now()
        )
        record_event(
            actor=actor,
            action="packet.invitation",
            target=ram_user.principal,
            details={"packet": packet.pk, "to": ram_user.email} | ({"replaces": earlier} if earlier else {}),
        )
    return packet


def supersede_invitations(*, ram_user: RamUser) -> list[int]:
    """Stops the user's invitations not yet accepted (queued or sent); inside the caller's transaction."""
    pending = list(
        DeliveryPacket.objects.filter(ram_user=ram_user, is_invitation=True, state__in=(State.SEALED, State.SENT))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not pending:
        return []
    # The outbox rows first, then the packets: the order the mail worker and "Revoke" lock in.
    list(PacketEmail.objects.select_for_update().filter(packet_id__in=pending))
    stopped = []
    for packet in DeliveryPacket.objects.select_for_update().filter(pk__in=pending).order_by("pk"):
        if packet.state in (State.SEALED, State.SENT):
            wipe_packet(packet, state=State.SUPERSEDED)
            PacketEmail.objects.filter(packet=packet, sent_at__isnull=True).delete()
            stopped.append(packet.pk)
    return stopped


def resend_invitation(*, actor: Actor, packet: DeliveryPacket) -> DeliveryPacket:
    """ "Send again": a new invitation to the user's current address, for one lost or expired."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, packet.ram_user)
    with transaction.atomic():
        ram_user = RamUser.objects.select_for_update(of=("self",)).select_related("account").get(pk=packet.ram_user_id)
        locked = DeliveryPacket.objects.get(pk=packet.pk)
        if not locked.is_resendable:
            raise ValidationError(
                _(
                    "Only an invitation that was sent and not accepted (or that expired or was revoked) can be sent "
                    "again."
                )
            )
        if ram_user.is_console_logon_enabled:
            raise ValidationError(
                _("%(name)s can already sign in to the console: an invitation would change nothing.")
                % {"name": ram_user.name}
            )
        return invite_ram_user(actor=actor, ram_user=ram_user)


@dataclass(frozen=True)
class OpenInvitation:
    """What the acceptance page shows before the person chooses a password."""

    packet: DeliveryPacket
    ram_user: RamUser


def invitation_for_token(token: str) -> OpenInvitation:
    """The invitation a link names, without spending it; InvitationRefused when it cannot be accepted. (One past its
    time is marked expired by the worker, `expire_stale_packets`.)"""
    if not token or len(token) > 100:
        raise InvitationRefused(INVALID)
    packet = (
        DeliveryPacket.objects.filter(claim_token_hash=hash_claim_token(token), is_invitation=True)
        .select_related("ram_user__account__password_policy", "ram_user__user")
        .first()
    )
    if packet is None or packet.state != State.SENT:
        raise InvitationRefused(INVALID)
    if packet.claim_expires_at and packet.claim_expires_at <= timezone.now():
        raise InvitationRefused(EXPIRED)
    return OpenInvitation(packet=packet, ram_user=packet.ram_user)


def accept_invitation(*, token: str, password: str, origin: Origin) -> User:
    """The person's chosen password, checked against the account's policy; console logon is enabled with it and the
    link is spent, in one transaction. A refused password spends nothing. Returns the identity that now signs in."""
    opened = invitation_for_token(token)
    ram_user = opened.ram_user
    account = ram_user.account
    weak = password_problems(
        password,
        policy=policy_for(account),
        context_words=context_words(account, ram_user.name),
    )
    if weak:
        raise ValidationError({"new_password": weak})
    hashed = make_password(password)  # slow: before the locks
    with transaction.atomic():
        # The RAM user's row first, as every path that sets a password takes it (accounts.services.logon).
        locked_user = RamUser.objects.select_for_update(of=("self",)).select_related("user").get(pk=ram_user.pk)
        packet = DeliveryPacket.objects.select_for_update().get(pk=opened.packet.pk)
        if packet.state != State.SENT or packet.claim_token_hash != hash_claim_token(token):
            raise InvitationRefused(INVALID)  # spent by a twin request, revoked or replaced a moment ago
        user = locked_user.user
        user.password = hashed
        user.password_changed_at = timezone.now()
        user.save(update_fields=["password", "password_changed_at"])
        locked_user.is_console_logon_enabled = True
        locked_user.must_reset_password = False  # the person chose it
        locked_user.save(update_fields=["is_console_logon_enabled", "must_reset_password", "updated_at"])
        wipe_packet(packet, state=State.CLAIMED, channel=DeliveryPacket.Channel.EMAIL, by="invitation link")
        record_event(
            actor=Actor(account=account, origin=origin, label=f"invitation of {ram_user.principal}"),
            action="packet.invitation_accepted",
            target=ram_user.principal,
            details={"packet": packet.pk, "mfa_required": locked_user.must_bind_mfa},
        )
    return user
