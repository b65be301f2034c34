"""The credential report, in RAM's columns: the primary account (`<root>`) first, then each RAM user by principal
name, with its console password, MFA and AccessKeys (creation, last logon, last change, last use). Values are
RAM's: ISO dates in UTC, TRUE/FALSE, N/A where the thing does not exist, and "-" for something that never happened."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.actors import Actor
from accounts.models import AccessKey, Authenticator, CredentialReport, PasswordPolicy, RamUser, User
from portal.audit import record_event

KEYS_IN_REPORT = 2  # access_key_1_* and access_key_2_*, as RAM's report has them
COLUMNS = [
    "user",
    "user_creation_time",
    "user_last_logon",
    "password_exist",
    "password_active",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    *(
        f"access_key_{number}_{what}"
        for number in range(1, KEYS_IN_REPORT + 1)
        for what in ("exist", "active", "last_rotated", "last_used")
    ),
]


def _when(value: datetime | None, *, never: str = "-") -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else never


def _yes(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _row(principal: str, created: datetime, user: User, *, console: bool, policy: PasswordPolicy) -> list[str]:
    has_password = user.has_usable_password()
    if has_password:
        changed = user.password_changed_at
        rotation = _when(changed + timedelta(days=policy.max_age_days)) if changed and policy.max_age_days else "N/A"
        password = [_yes(True), _yes(console), _when(changed, never="N/A"), rotation]
    else:
        password = [_yes(False), "N/A", "N/A", "N/A"]
    keys: list[str] = []
    held = list(user.access_keys.all())
    for number in range(KEYS_IN_REPORT):
        if number < len(held):
            key = held[number]
            keys += [_yes(True), _yes(key.is_active), _when(key.created_at), _when(key.last_used_at)]
        else:
            keys += [_yes(False), "N/A", "N/A", "N/A"]
    has_mfa: bool = getattr(user, "has_mfa")  # noqa: B009 - the annotation credential_report_csv puts on each user
    return [principal, _when(created), _when(user.last_login), *password, _yes(has_mfa), *keys]


def _people(account_pk: int) -> list[tuple[str, User, RamUser | None]]:
    """The primary account ("<root>") and its RAM users by name, each identity with its AccessKeys (oldest first) and
    `has_mfa`, in a fixed number of queries however many users the account has."""
    keys = Prefetch("access_keys", queryset=AccessKey.objects.order_by("created_at", "pk"))
    with_mfa = Exists(Authenticator.objects.filter(user=OuterRef("pk"), confirmed=True))
    users = User.objects.annotate(has_mfa=with_mfa).prefetch_related(keys)
    ram_users = (
        RamUser.objects.filter(account_id=account_pk)
        .select_related("account")
        .prefetch_related(Prefetch("user", queryset=users))
        .order_by("name", "pk")
    )
    owner = users.select_related("owned_account").get(owned_account__pk=account_pk)
    return [("<root>", owner, None), *((ram_user.logon_name, ram_user.user, ram_user) for ram_user in ram_users)]


def credential_report_csv(account_pk: int) -> str:
    """The report's CSV for the account."""
    policy = PasswordPolicy.objects.get(account_id=account_pk)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for principal, user, ram_user in _people(account_pk):
        if ram_user is None:
            writer.writerow(_row(principal, user.owned_account.created_at, user, console=True, policy=policy))
        else:
            console = ram_user.is_console_logon_enabled
            writer.writerow(_row(principal, ram_user.created_at, user, console=console, policy=policy))
    return out.getvalue()


def generate_credential_report(*, actor: Actor) -> CredentialReport:
    """A new report for the actor's account, replacing the one before (audited)."""
    now = timezone.now()
    content = credential_report_csv(actor.account.pk)
    with transaction.atomic():
        report, _ = CredentialReport.objects.update_or_create(
            account=actor.account, defaults={"generated_at": now, "content": content}
        )
        record_event(
            actor=actor,
            action="credential_report.generate",
            target=actor.account.principal,
            details={"users": content.count("\n") - 2},
        )
    return report


@dataclass(frozen=True)
class Finding:
    """Something the report shows that an administrator should act on, and where to act."""

    kind: str  # "unused_key", "no_mfa", "two_active_keys", "old_password", "never_signed_in"
    subject: str  # the principal ("<root>" for the primary account)
    sentence: str
    action: str  # the label of the page that resolves it
    url: str


# The findings' headings, in the page's language ("{days}": PORTAL_UNUSED_KEY_DAYS).
FINDING_KINDS: dict[str, StrOrPromise] = {
    "unused_key": gettext_lazy("AccessKeys not used for {days} days"),
    "no_mfa": gettext_lazy("Console logon without MFA"),
    "two_active_keys": gettext_lazy("Two active AccessKeys"),
    "old_password": gettext_lazy("Passwords older than the policy allows"),
    "never_signed_in": gettext_lazy("Console logon never used"),
}


def credential_findings(account_pk: int) -> list[Finding]:
    """The findings of the account now (not of the last report), in a fixed number of queries; their sentences and
    actions in the language of the page that shows them."""
    now = timezone.now()
    unused_since = now - timedelta(days=settings.PORTAL_UNUSED_KEY_DAYS)
    policy = PasswordPolicy.objects.get(account_id=account_pk)
    people = _people(account_pk)
    found: list[Finding] = []
    for subject, user, ram_user in people:
        page = (
            reverse("accounts:my-account") if ram_user is None else reverse("accounts:user-detail", args=[ram_user.pk])
        )
        logon = None if ram_user is None else reverse("accounts:modify-logon-settings", args=[ram_user.pk])
        active = [key for key in user.access_keys.all() if key.is_active]
        for key in active:
            if (key.last_used_at or key.created_at) < unused_since:
                facts = {"key": key.access_key_id, "created": f"{key.created_at:%Y-%m-%d}"}
                if key.last_used_at:
                    facts["used"] = f"{key.last_used_at:%Y-%m-%d}"
                    sentence = _("AccessKey %(key)s is active and last used %(used)s (created %(created)s).") % facts
                else:
                    sentence = _("AccessKey %(key)s is active and never used (created %(created)s).") % facts
                found.append(Finding("unused_key", subject, sentence, _("Disable"), page))
        if len(active) >= 2:
            sentence = _("%(count)s active AccessKeys: keep one, so that a rotation is not a second standing key.") % {
                "count": len(active)
            }
            found.append(Finding("two_active_keys", subject, sentence, _("Disable"), page))
        if ram_user is None or logon is None or not ram_user.is_console_logon_enabled:  # (the owner's: My account)
            continue
        if not getattr(user, "has_mfa"):  # noqa: B009 - annotated above
            sentence = _("Signs in to the console with a password alone.")
            found.append(Finding("no_mfa", subject, sentence, _("Modify Logon Settings"), logon))
        changed = user.password_changed_at
        if policy.max_age_days and changed and changed < now - timedelta(days=policy.max_age_days):
            sentence = _("Password last changed %(date)s, over %(days)s days ago.") % {
                "date": f"{changed:%Y-%m-%d}",
                "days": policy.max_age_days,
            }
            found.append(Finding("old_password", subject, sentence, _("Modify Logon Settings"), logon))
        if user.last_login is None:
            sentence = _("Console logon enabled since %(date)s, never used.") % {
                "date": f"{ram_user.created_at:%Y-%m-%d}"
            }
            found.append(Finding("never_signed_in", subject, sentence, _("Modify Logon Settings"), logon))
    return found
