"""The mail worker's side of delivery packets: the durable outbox is drained with retries.

A message is built, and its claim link made, only at the moment it is handed to the mail server, inside
the row's transaction: if the server is down nothing is kept but the attempt count, and the packet waits.
It is written in its person's language (User.language, else English), whoever queued it and whichever thread sends it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.actors import Actor
from accounts.models import DeliveryPacket, PacketEmail
from accounts.models.delivery import delivery_language
from accounts.services.claim_links import issue_claim_token, link_hours, mark_packet_sent
from accounts.sheets import delivery_sheet
from portal.audit import Origin

log = logging.getLogger(__name__)
MAX_RETRY_SECONDS = 3600


def claim_url(token: str, *, page: str = "claim") -> str:
    # The token travels in the fragment, which browsers never send to a server: it cannot end up in an
    # access log, a proxy log or a Referer header. The page's script moves it into the form.
    return f"{settings.PORTAL_BASE_URL}/{page}/#{token}"


def packet_message(packet: DeliveryPacket, token: str | None) -> EmailMultiAlternatives:
    """The packet's (or invitation's) email, subject and bodies in the language of its RAM user's person."""
    with translation.override(delivery_language(packet.ram_user.user)):
        return _packet_message(packet, token)


def _packet_message(packet: DeliveryPacket, token: str | None) -> EmailMultiAlternatives:
    link: str | None = None
    if packet.is_invitation:
        assert token is not None, "an invitation is sent with its link"
        template, link = "emails/invitation", claim_url(token, page="invitation")
    else:
        template = "emails/delivery_packet"
        link = claim_url(token) if token else None
    context = {
        "sheet": delivery_sheet(packet.ram_user, packet),
        "claim_url": link,
        "claim_hours": link_hours(packet),
    }
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[packet.email_to],
    )
    message.attach_alternative(render_to_string(f"{template}_body.html", context), "text/html")
    return message


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.PORTAL_MAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


def deliver_due_emails(*, limit: int = 100) -> int:
    """Sends what is due in the outbox; returns how many messages the mail server accepted."""
    now = timezone.now()
    due = list(
        PacketEmail.objects.filter(sent_at__isnull=True, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for outbox_id in due:
        failure = None
        with transaction.atomic():
            outbox = (
                PacketEmail.objects.select_for_update(skip_locked=True)
                .filter(pk=outbox_id, sent_at__isnull=True)
                .first()
            )
            if outbox is None:
                continue  # another worker has it, or it went out meanwhile
            packet = (
                DeliveryPacket.objects.select_for_update(of=("self",))
                .select_related("ram_user__account__security_settings")
                .get(pk=outbox.packet_id)
            )
            if packet.state != DeliveryPacket.State.SEALED:
                outbox.delete()  # revoked or delivered otherwise meanwhile: nothing to send
                continue
            token = issue_claim_token(packet) if packet.has_secrets or packet.is_invitation else None
            try:
                packet_message(packet, token).send()
            except Exception as error:  # one bad message must not stop every tenant's mail
                failure = f"{type(error).__name__}: {error}"[:255]
                transaction.set_rollback(True)  # the claim token never existed
            else:
                outbox.sent_at = timezone.now()
                outbox.attempts += 1
                outbox.save(update_fields=["sent_at", "attempts"])
                worker = Actor(account=packet.account, origin=Origin(channel="command"), label="mail worker")
                mark_packet_sent(packet=packet, actor=worker)
                sent += 1
        if failure:
            attempts = PacketEmail.objects.get(pk=outbox_id).attempts + 1
            PacketEmail.objects.filter(pk=outbox_id).update(
                attempts=F("attempts") + 1, next_attempt_at=timezone.now() + _backoff(attempts), last_error=failure
            )
            log.warning("Packet email %s not sent (attempt %s): %s", outbox_id, attempts, failure)
    return sent
