"""Handing secrets over: delivery packets, their email outbox, and the one-time pages of secret-issuing forms."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.models.identities import PrimaryAccount, RamUser, User


class DeliveryPacketQuerySet(models.QuerySet["DeliveryPacket"]):
    def for_account(self, account: PrimaryAccount) -> "DeliveryPacketQuerySet":
        return self.filter(account=account)


# What each line of a packet's history says (DeliveryPacket.history_lines), in the language of whoever reads it.
PACKET_HISTORY_SENTENCES = {
    "password_replaced": gettext_lazy(
        "The password was replaced; the one in this packet no longer works and was removed."
    ),
    "console_logon_disabled": gettext_lazy("Console logon was disabled; the password in this packet was removed."),
    "access_key_deleted": gettext_lazy(
        "AccessKey %(access_key_id)s was deleted; its secret was removed from this packet."
    ),
}


# An invitation's states as the packet list names them (DeliveryPacket.state_label).
INVITATION_STATE_LABELS = {
    "sealed": pgettext_lazy("invitation state", "Queued"),
    "sent": pgettext_lazy("invitation state", "Sent, not accepted yet"),
    "claimed": pgettext_lazy("invitation state", "Accepted"),
}


def delivery_language(user: User | None) -> str:
    """The language of what is sent or printed for a person (their packet's email and delivery sheet, their
    invitation's email): the one they chose (User.language), else English (settings.LANGUAGE_CODE)."""
    chosen = user.language if user is not None else ""
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def link_page_language(user: User) -> str:
    """The language of a page a person opens through their emailed link (the claim's secrets, choosing a password
    with an invitation), before they are signed in: the one they chose, else their browser's (the page's own)."""
    return user.language if user.language in dict(settings.LANGUAGES) else translation.get_language()


class DeliveryPacket(models.Model):
    """What hands a RAM user's account to its person. Secrets in it stay sealed until they leave through
    exactly one channel (shown, printed, emailed and claimed), and are wiped then."""

    class State(models.TextChoices):
        SEALED = "sealed", pgettext_lazy("packet state", "Sealed")
        PRINTED = "printed", pgettext_lazy("packet state", "Printed")
        SENT = "sent", pgettext_lazy("packet state", "Sent")
        CLAIMED = "claimed", pgettext_lazy("packet state", "Claimed")
        EXPIRED = "expired", pgettext_lazy("packet state", "Expired")
        REVOKED = "revoked", pgettext_lazy("packet state", "Revoked")
        WIPED = "wiped", pgettext_lazy("packet state", "Wiped")
        SUPERSEDED = "superseded", pgettext_lazy("packet state", "Superseded")

    class Channel(models.TextChoices):
        SHOWN = "shown", pgettext_lazy("delivery channel", "Shown on the issuing page")
        PRINTED = "printed", pgettext_lazy("delivery channel", "Printed")
        PDF = "pdf", "PDF"
        EMAIL = "email", pgettext_lazy("delivery channel", "Email and claim link")

    uid = models.UUIDField(unique=True, editable=False)  # associated data of its sealed secrets
    account = models.ForeignKey(PrimaryAccount, on_delete=models.CASCADE, related_name="delivery_packets")
    ram_user = models.ForeignKey(RamUser, on_delete=models.CASCADE, related_name="delivery_packets")
    state = models.CharField(max_length=10, choices=State.choices, default=State.SEALED)
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    has_password = models.BooleanField(default=False)
    # An invitation: no secret, a one-time link by email with which the person chooses their own password.
    is_invitation = models.BooleanField(default=False)
    access_key_id = models.CharField(max_length=24, blank=True)  # not a secret; the key's secret is sealed below
    sealed_password = models.TextField(blank=True)
    sealed_access_key_secret = models.TextField(blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    email_to = models.EmailField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The claim link's token is stored only as a SHA-256 hash: the link itself leaves once, in the email.
    claim_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.CharField(max_length=200, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    wiped_at = models.DateTimeField(null=True, blank=True)
    # Lines about what happened to the packet's secrets after it was made ({"at", "by", "text"}), such as a
    # password replaced meanwhile; the fields above say how it was delivered.
    history = models.JSONField(default=list, blank=True)

    objects = DeliveryPacketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "-created_at"], name="packet_account_time")]

    def __str__(self) -> str:
        return f"delivery packet {self.pk} for {self.ram_user_id}"

    @property
    def has_secrets(self) -> bool:
        return bool(self.sealed_password or self.sealed_access_key_secret)

    def history_lines(self) -> list[str]:
        """The history in the current language (the administrator's on the list, the person's on their sheet)."""
        lines = []
        for entry in self.history:
            known = PACKET_HISTORY_SENTENCES.get(entry.get("event", ""))
            sentence = str(known) % {"access_key_id": entry.get("access_key_id", "")} if known else entry.get("event")
            at = datetime.fromisoformat(entry["at"])
            lines.append(
                _("%(sentence)s (%(at)s UTC, by %(by)s)")
                % {"sentence": sentence, "at": f"{at:%Y-%m-%d %H:%M}", "by": entry.get("by", "")}
            )
        return lines

    @property
    def is_instructions(self) -> bool:
        """Sign-in instructions only: made without secrets, so it can be printed or sent any number of times."""
        return not (self.has_password or self.access_key_id or self.is_invitation)

    @property
    def contents(self) -> str:
        """What the packet hands over, as the lists name it."""
        if self.is_invitation:
            return _("Invitation to choose a password")
        if self.is_instructions:
            return _("Sign-in instructions")
        parts = [_("Password")] if self.has_password else []
        if self.access_key_id:
            parts.append(_("AccessKey %(access_key_id)s") % {"access_key_id": self.access_key_id})
        return " + ".join(parts)

    # What may be done with the packet now: the one home of these rules, read by the services (on the locked row)
    # and by the pages that offer the actions. `email_to` is set with the outbox row, in one transaction.

    @property
    def state_label(self) -> str:
        """The state as the lists show it; an invitation's words are its own ("Accepted", not "Claimed")."""
        if self.is_invitation:
            return str(INVITATION_STATE_LABELS.get(self.state, self.get_state_display()))
        return str(self.get_state_display())

    @property
    def is_printable(self) -> bool:
        """Printed or downloaded as PDF: sign-in instructions unless revoked; secrets only while sealed and not on
        their way by email (the claim link must stay their one exit). An invitation only ever goes by email."""
        if self.is_invitation:
            return False
        if self.is_instructions:
            return self.state != self.State.REVOKED
        return self.state == self.State.SEALED and not self.email_to

    @property
    def is_emailable(self) -> bool:
        return self.state == self.State.SEALED and not self.email_to and not self.is_invitation

    @property
    def is_resendable(self) -> bool:
        """An invitation not accepted (lost, expired or revoked) can be sent again: a new link; the old one stops
        working."""
        return self.is_invitation and self.state in (self.State.SENT, self.State.EXPIRED, self.State.REVOKED)

    @property
    def is_revocable(self) -> bool:
        return self.state in (self.State.SEALED, self.State.SENT)

    @property
    def is_claimable(self) -> bool:
        return self.state == self.State.SENT


class PacketEmail(models.Model):
    """The durable outbox: one row per packet to be emailed. It holds no secret; the claim link is made
    when the message is actually handed to the mail server."""

    packet = models.OneToOneField(DeliveryPacket, on_delete=models.CASCADE, related_name="email")
    to = models.EmailField()
    requested_by = models.CharField(max_length=200)
    requested_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"email of packet {self.packet_id} to {self.to}"


class OneTimeReveal(models.Model):
    """One submission of a form that issues secrets, and the one-time page that shows them.

    The form carries a random token; the first submission with it claims this row (committed before the work),
    does the work and fills the row in the work's own transaction, then redirects here. A repeated submission of
    the same form (a second click, a reload, back and resubmit) finds the row, does nothing and is sent to the
    same page, which shows the secrets to their issuer once and afterwards says that they were shown.
    Secrets kept in delivery packets stay there (the page opens them as their "shown" channel); the others
    (the primary account's or a user's own AccessKey, backup codes) are sealed here until the page opens.
    """

    class Kind(models.TextChoices):
        USERS_CREATED = "users_created", gettext_lazy("Users created")
        PASSWORD_SET = "password_set", gettext_lazy("Logon settings saved")
        ACCESS_KEY_CREATED = "access_key_created", gettext_lazy("AccessKey created")
        BACKUP_CODES = "backup_codes", gettext_lazy("Backup codes")
        CLAIMED = "claimed", gettext_lazy("Packet claimed")  # "Reveal" on a claim page: no user, the claiming browser

    class State(models.TextChoices):
        WORKING = "working", pgettext_lazy("one-time page state", "Working")
        READY = "ready", pgettext_lazy("one-time page state", "Ready to show")
        SHOWN = "shown", pgettext_lazy("one-time page state", "Shown")
        EXPIRED = "expired", pgettext_lazy("one-time page state", "Expired unseen")

    uid = models.UUIDField(unique=True, editable=False)  # its page's address, and associated data of its seal
    # Known once the work is done (a claim finds its account with its packet).
    account = models.ForeignKey(PrimaryAccount, on_delete=models.CASCADE, null=True, related_name="+")
    # Who sent the form and alone may open the page; none for a claim, whose page only the claiming browser opens.
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, related_name="one_time_reveals")
    browser_key_hash = models.CharField(max_length=64, blank=True)
    form_token_hash = models.CharField(max_length=64)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.WORKING)
    shows_packets = models.BooleanField(default=True)  # False: "Seal them in a delivery packet" was chosen
    # What the page tells besides secrets (users created, the key's ID, the packets): never a secret.
    facts = models.JSONField(default=dict, blank=True)
    sealed_secrets = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shown_at = models.DateTimeField(null=True, blank=True)

    SEALED_FIELD = "sealed_secrets"  # what rotate_secret_keys re-seals and the start-up check opens

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "form_token_hash"], name="one_submission_per_form_token"),
            # (NULLs are distinct in the one above: claims need their own.)
            models.UniqueConstraint(
                fields=["form_token_hash"], condition=models.Q(user__isnull=True), name="one_claim_per_form_token"
            ),
        ]

    def __str__(self) -> str:
        return f"one-time reveal {self.uid}"

    def get_absolute_url(self) -> str:
        return reverse("accounts:one-time-reveal", args=[self.uid])

    @property
    def associated_data(self) -> str:
        return f"reveal:{self.uid}"
