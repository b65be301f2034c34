"""The one-time page of a secret-issuing form (accounts.services.reveals): the secrets once, then only the facts."""

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache

from accounts.actors import Actor
from accounts.gates import SignedInRequest, actor_of, request_origin
from accounts.models import DeliveryPacket, OneTimeReveal, RamUser, User
from accounts.models.delivery import delivery_language
from accounts.services.one_time_page import Revealed, show_reveal
from accounts.services.reveals import ABANDONED_AFTER
from accounts.sheets import DeliverySheet, delivery_sheet
from accounts.sign_in_steps import SignInRequest, pending_sign_in_required

Kind = OneTimeReveal.Kind


@never_cache
def one_time_reveal(request: SignedInRequest, uid: UUID) -> HttpResponse:
    # Only the person who submitted the form sees its page; anyone else gets the answer of a missing one.
    reveal = get_object_or_404(OneTimeReveal, uid=uid, user=request.user)
    if reveal.state == OneTimeReveal.State.WORKING:
        is_abandoned = reveal.created_at < timezone.now() - ABANDONED_AFTER
        return render(request, "accounts/reveal_working.html", {"reveal": reveal, "is_abandoned": is_abandoned})
    shown = show_reveal(actor=actor_of(request), reveal=reveal)
    return PAGES[reveal.kind](request, shown)


def _sheet(shown: Revealed, packet: DeliveryPacket) -> DeliverySheet:
    opened = shown.packet_secrets.get(packet.pk)
    with translation.override(delivery_language(packet.ram_user.user)):  # its person's, as a printed packet's
        return delivery_sheet(
            packet.ram_user,
            packet,
            password=opened.password if opened else None,
            access_key_secret=opened.access_key_secret if opened else None,
        )


def _left_otherwise(shown: Revealed) -> dict[str, object]:
    """Packets this page was to show whose secrets left by another channel before it opened (print, email), and
    their numbers as the page's sentence names them ("#3, #4")."""
    packets = (
        [packet for packet in shown.packets if packet.pk not in shown.packet_secrets]
        if shown.is_first_showing and shown.reveal.shows_packets
        else []
    )
    separator = pgettext("list separator", ", ")
    return {"left_otherwise": packets, "left_otherwise_numbers": separator.join(f"#{packet.pk}" for packet in packets)}


@dataclass(frozen=True)
class CreatedRow:
    ram_user: RamUser
    packet: DeliveryPacket | None
    invitation: DeliveryPacket | None = None  # "Invite by email"


def _users_created(request: SignedInRequest, shown: Revealed) -> HttpResponse:
    facts = shown.reveal.facts
    users = RamUser.objects.for_account(request.user.account).select_related("account").in_bulk(facts["ram_users"])
    packets = {packet.ram_user_id: packet for packet in shown.packets}
    invitations = {
        packet.ram_user_id: packet
        for packet in DeliveryPacket.objects.filter(ram_user__in=list(users), is_invitation=True).order_by("pk")
    }  # (the newest of each user's)
    rows = [CreatedRow(users[pk], packets.get(pk), invitations.get(pk)) for pk in facts["ram_users"] if pk in users]
    return render(
        request,
        "accounts/users_created.html",
        {
            "shown": shown,
            "created": rows,
            "sheets": [_sheet(shown, packet) for packet in shown.packets],
            **_left_otherwise(shown),
        },
    )


def _password_set(request: SignedInRequest, shown: Revealed) -> HttpResponse:
    ram_user = get_object_or_404(
        RamUser.objects.for_account(request.user.account).select_related("account"), pk=shown.reveal.facts["ram_user"]
    )
    packet = shown.packets[0] if shown.packets else None
    return render(
        request,
        "accounts/password_shown.html",
        {
            "shown": shown,
            "ram_user": ram_user,
            "packet": packet,
            "sheet": _sheet(shown, packet) if packet else None,
            **_left_otherwise(shown),
        },
    )


def _access_key_created(request: SignedInRequest, shown: Revealed) -> HttpResponse:
    facts = shown.reveal.facts
    holder = User.objects.select_related("owned_account", "ram_user__account").filter(pk=facts["holder"]).first()
    if holder is None or holder.is_owner:
        back_url = reverse("accounts:my-account")
    elif holder.pk == request.user.pk:
        back_url = reverse("accounts:my-credentials")
    else:
        back_url = reverse("accounts:user-detail", args=[holder.ram_user.pk])
    packet = shown.packets[0] if shown.packets else None
    opened = shown.packet_secrets.get(packet.pk) if packet else None
    return render(
        request,
        "accounts/access_key_created.html",
        {
            "shown": shown,
            "access_key_id": facts["access_key_id"],
            "secret": opened.access_key_secret if opened else shown.secrets.get("access_key_secret"),
            "packet": packet,
            "holder": holder,
            "back_url": back_url,
            **_left_otherwise(shown),
        },
    )


def _backup_codes(request: HttpRequest, shown: Revealed, *, signing_in: bool = False) -> HttpResponse:
    return render(
        request,
        "accounts/backup_codes.html",
        {"shown": shown, "backup_codes": shown.secrets.get("backup_codes", []), "signing_in": signing_in},
    )


@pending_sign_in_required
@never_cache
def sign_in_backup_codes(request: SignInRequest, uid: UUID) -> HttpResponse:
    """The one-time page of the backup codes made at the first sign-in's enrolment, then on with the sign-in."""
    user = request.pending_user
    reveal = get_object_or_404(OneTimeReveal, uid=uid, user=user, kind=Kind.BACKUP_CODES)
    shown = show_reveal(actor=Actor(account=user.account, origin=request_origin(request), user=user), reveal=reveal)
    return _backup_codes(request, shown, signing_in=True)


# The one-time page of each kind of secret-issuing form, by OneTimeReveal.kind.
PAGES: dict[str, Callable[[SignedInRequest, Revealed], HttpResponse]] = {
    Kind.USERS_CREATED: _users_created,
    Kind.PASSWORD_SET: _password_set,
    Kind.ACCESS_KEY_CREATED: _access_key_created,
    Kind.BACKUP_CODES: _backup_codes,
}
