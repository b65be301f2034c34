"""Delivery packets: the packet list, print, PDF, email, revoke, and claim."""

from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.forms import ConfirmForm, EmailPacketForm, confirmation_page, posted, posted_ids
from accounts.gates import SignedInRequest, actor_of, ram_reader_required, ram_writer_required, request_origin
from accounts.models import DeliveryPacket, OneTimeReveal, RamUser
from accounts.models.delivery import delivery_language, link_page_language
from accounts.pdf import delivery_sheets_pdf
from accounts.services.claim_links import ClaimRefused, claim_delivery_packet
from accounts.services.one_time_page import show_reveal
from accounts.services.packets import (
    PrintedSheet,
    email_delivery_packet,
    instructions_packet,
    packets_for_users,
    print_delivery_packets,
    revoke_delivery_packet,
)
from accounts.services.reveals import (
    FORM_TOKEN_RE,
    is_page_of_browser,
    issue_once,
    new_form_token,
)
from accounts.sheets import DeliverySheet, delivery_sheet
from portal.gates import public
from portal.paging import page_of
from portal.requests import PortalRequest

# Makes the document (an HTML print view, a PDF) of the sheets of the packets being printed.
RenderSheets = Callable[[list[DeliverySheet]], HttpResponse]


def packets_of(request: SignedInRequest) -> QuerySet[DeliveryPacket]:
    return DeliveryPacket.objects.for_account(request.user.account).select_related("ram_user__account")


@ram_reader_required
def packet_list(request: SignedInRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    packets = packets_of(request)
    if state in DeliveryPacket.State.values:
        packets = packets.filter(state=state)
    page = page_of(packets, request, list_name="packets")
    return render(
        request,
        "accounts/packet_list.html",
        {
            "packets": page,
            "page": page,
            "emailable": [packet for packet in page if packet.is_emailable],
            "state": state,
            "states": DeliveryPacket.State.choices,
            "claim_hours": settings.PORTAL_CLAIM_LINK_HOURS,
            "invitation_hours": settings.PORTAL_INVITATION_HOURS,
        },
    )


def _selected_ids(request: HttpRequest, field: str) -> list[int]:
    return posted_ids(request.POST, field)


def _printed(
    request: SignedInRequest, packet_ids: list[int], channel: str, render: RenderSheets
) -> HttpResponse | None:
    """The document made from the sheets (with their secrets, this one time); None, with a message, when the
    service refuses. Rendering happens inside the service's transaction, so a failure wipes nothing."""
    try:
        return print_delivery_packets(
            actor=actor_of(request),
            packet_ids=packet_ids,
            channel=channel,
            render=lambda printed: render([_sheet(item) for item in printed]),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return None


def _pdf(filename: str) -> RenderSheets:
    def render(sheets: list[DeliverySheet]) -> HttpResponse:
        response = HttpResponse(delivery_sheets_pdf(sheets), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    return render


@ram_writer_required
@require_POST
@never_cache
def print_packets(request: SignedInRequest) -> HttpResponse:
    """An HTML print view of the chosen packets (one sheet per page); their secrets leave here, once."""

    def page(sheets: list[DeliverySheet]) -> HttpResponse:
        # The page is the administrator's; each sheet on it speaks its own person's language.
        return HttpResponse(
            render_to_string(
                "accounts/packets_print.html",
                {"sheets": [(delivery_language(sheet.ram_user.user), sheet) for sheet in sheets]},
                request=request,
            )
        )

    response = _printed(request, _selected_ids(request, "packet"), DeliveryPacket.Channel.PRINTED, page)
    return response or redirect("accounts:packet-list")


@ram_writer_required
@require_POST
@never_cache
def pdf_packets(request: SignedInRequest) -> HttpResponse:
    """One PDF for the chosen packets, one page each; a packet's secrets can be downloaded once."""
    response = _printed(
        request, _selected_ids(request, "packet"), DeliveryPacket.Channel.PDF, _pdf("delivery-packets.pdf")
    )
    return response or redirect("accounts:packet-list")


@ram_writer_required
@require_POST
@never_cache
def pdf_for_users(request: SignedInRequest) -> HttpResponse:
    """ "Download delivery PDF" for users chosen on the user list: sealed packets, else sign-in instructions."""
    user_ids = _selected_ids(request, "user")
    try:
        packet_ids = packets_for_users(actor=actor_of(request), ram_user_ids=user_ids) if user_ids else None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:user-list")
    response = (
        _printed(request, packet_ids, DeliveryPacket.Channel.PDF, _pdf("delivery-sheets.pdf")) if packet_ids else None
    )
    if response is None:
        if not user_ids:
            messages.error(request, _("Select at least one user."))
        return redirect("accounts:user-list")
    return response


def _sheet(printed: PrintedSheet) -> DeliverySheet:
    # Made in its person's language: its notes and sections are words, not only its labels.
    with translation.override(delivery_language(printed.packet.ram_user.user)):
        return delivery_sheet(
            printed.packet.ram_user,
            printed.packet,
            password=printed.secrets.password,
            access_key_secret=printed.secrets.access_key_secret,
        )


@ram_writer_required
@require_POST
def email_packet(request: SignedInRequest) -> HttpResponse:
    form = EmailPacketForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a packet and enter a valid email address to send it to."))
        return redirect("accounts:packet-list")
    packet = get_object_or_404(packets_of(request), pk=form.cleaned_data["packet"])
    try:
        email_delivery_packet(actor=actor_of(request), packet=packet, to=form.cleaned_data["to"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The packet for %(name)s is queued for %(to)s.")
            % {"name": packet.ram_user.name, "to": form.cleaned_data["to"]},
        )
    return redirect("accounts:packet-list")


@ram_writer_required
def revoke_packet(request: SignedInRequest, pk: int) -> HttpResponse:
    """ "Revoke": asks first, naming the packet, its RAM user and what is wiped."""
    packet = get_object_or_404(packets_of(request), pk=pk)
    form = ConfirmForm(posted(request), expected=str(packet.pk))
    if form.is_valid():
        try:
            revoke_delivery_packet(actor=actor_of(request), packet=packet)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The packet for %(name)s was revoked; its secrets are wiped.") % {"name": packet.ram_user.name},
            )
        return redirect("accounts:packet-list")
    if packet.is_invitation:
        return confirmation_page(
            request,
            form,
            title=_("Revoke the invitation #%(pk)s for %(name)s") % {"pk": packet.pk, "name": packet.ram_user.name},
            consequences=[
                format_html(
                    _(
                        "The invitation emailed to {email} stops working: <code>{logon_name}</code> cannot choose a "
                        "password with it."
                    ),
                    email=packet.email_to,
                    logon_name=packet.ram_user.logon_name,
                ),
                _("Console logon stays disabled. The invitation can be sent again later from this list."),
            ],
            submit_label=pgettext("delivery packet", "Revoke"),
            cancel_url=f"{reverse('accounts:packet-list')}#packet-{packet.pk}",
        )
    if packet.email_to and packet.sent_at:
        revoked = _(
            "The delivery packet #{pk} for <code>{logon_name}</code> ({contents}) is revoked. The claim link sent to "
            "{email} stops working."
        )
    elif packet.email_to:
        revoked = _(
            "The delivery packet #{pk} for <code>{logon_name}</code> ({contents}) is revoked. The email queued for "
            "{email} is not sent."
        )
    else:
        revoked = _("The delivery packet #{pk} for <code>{logon_name}</code> ({contents}) is revoked.")
    return confirmation_page(
        request,
        form,
        title=_("Revoke packet #%(pk)s for %(name)s") % {"pk": packet.pk, "name": packet.ram_user.name},
        consequences=[
            format_html(
                revoked,
                pk=packet.pk,
                logon_name=packet.ram_user.logon_name,
                contents=packet.contents,
                email=packet.email_to,
            ),
            _(
                "Its sealed secrets are wiped and can never be shown again: to hand them over, issue new ones "
                "(a new password or AccessKey)."
            )
            if packet.has_secrets
            else _("It carries no secret; new sign-in instructions can be made at any time."),
        ],
        submit_label=pgettext("delivery packet", "Revoke"),
        cancel_url=f"{reverse('accounts:packet-list')}#packet-{packet.pk}",
    )


@ram_writer_required
@require_POST
def new_instructions_packet(request: SignedInRequest, pk: int) -> HttpResponse:
    """Sign-in instructions without secrets, as a packet that can be printed or emailed any number of times."""
    ram_user = get_object_or_404(RamUser.objects.for_account(request.user.account), pk=pk)
    packet = instructions_packet(actor=actor_of(request), ram_user=ram_user)
    messages.success(
        request, _("A sign-in instructions packet for %(name)s is ready to print or email.") % {"name": ram_user.name}
    )
    return redirect(f"{reverse('accounts:packet-list')}#packet-{packet.pk}")


# The claim page's browser: a random key in a cookie of its own, so that "Reveal" pressed twice (or reloaded) in
# that browser leads to one one-time page, which only that browser opens.
CLAIM_BROWSER_COOKIE = "portal_claim_browser"


@public
@never_cache
@sensitive_post_parameters()
def claim(request: PortalRequest) -> HttpResponse:
    """The claim page. The token arrives in the link's fragment; the page's script puts it in the form."""
    browser_key = request.COOKIES.get(CLAIM_BROWSER_COOKIE, "")
    if request.method != "POST":
        response = render(request, "accounts/claim.html", {"form_token": new_form_token()})
        if not FORM_TOKEN_RE.fullmatch(browser_key):
            response.set_cookie(
                CLAIM_BROWSER_COOKIE,
                new_form_token(),
                max_age=24 * 3600,
                path=reverse("accounts:claim"),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Strict",
            )
        return response
    token = request.POST.get("claim_code", "").strip()
    form_token = request.POST.get("form_token", "")
    origin = request_origin(request)
    try:
        if not (FORM_TOKEN_RE.fullmatch(browser_key) and FORM_TOKEN_RE.fullmatch(form_token)):
            # A browser without the page's cookie or token (one that refuses cookies, an older page): the secrets in
            # this response, as before one-time pages.
            packet, opened = claim_delivery_packet(token=token, origin=origin)
            return _revealed_page(request, packet, asdict(opened))
        page = issue_once(
            user=None,
            form_token=form_token,
            browser_key=browser_key,
            kind=OneTimeReveal.Kind.CLAIMED,
            work=lambda reveal: claim_delivery_packet(token=token, origin=origin, reveal=reveal),
        )
    except ClaimRefused as refusal:
        return render(request, "accounts/claim.html", {"error": refusal.message}, status=410)
    return redirect("accounts:claim-shown", uid=page.uid)


def _revealed_page(
    request: PortalRequest, packet: DeliveryPacket, secrets: dict[str, Any], shown: Any = None
) -> HttpResponse:
    """The claimed packet's sheet with its secrets, in its person's language (else the browser's)."""
    language = link_page_language(packet.ram_user.user)
    with translation.override(language):
        sheet = delivery_sheet(
            packet.ram_user,
            packet,
            password=secrets.get("password"),
            access_key_secret=secrets.get("access_key_secret"),
        )
        response = render(request, "accounts/claim_revealed.html", {"sheet": sheet, "shown": shown})
    response.headers["Content-Language"] = language
    return response


@public
@never_cache
def claim_shown(request: PortalRequest, uid: UUID) -> HttpResponse:
    """The claiming browser's one-time page: the secrets once, then that they were shown."""
    reveal = get_object_or_404(OneTimeReveal, uid=uid, user=None, kind=OneTimeReveal.Kind.CLAIMED)
    if not is_page_of_browser(reveal, request.COOKIES.get(CLAIM_BROWSER_COOKIE, "")):
        raise Http404("This page belongs to the browser in which Reveal was pressed.")
    if reveal.state == OneTimeReveal.State.WORKING:
        return render(request, "accounts/reveal_working.html", {"reveal": reveal, "is_abandoned": False})
    packet = get_object_or_404(
        DeliveryPacket.objects.select_related("ram_user__account__security_settings", "ram_user__user"),
        pk=reveal.facts["packet"],
    )
    actor = Actor(
        account=packet.account, origin=request_origin(request), label=f"claim link of {packet.ram_user.principal}"
    )
    shown = show_reveal(actor=actor, reveal=reveal)
    return _revealed_page(request, packet, shown.secrets, shown)
