"""The credential report, in RAM's columns: the primary account (`<root>`) first, then each RAM user by principal
name, with its console password, MFA and AccessKeys (creation, last logon, last change, last use). Values are
RAM's: ISO dates in UTC, TRUE/FALSE, N/A where the thing does not exist, and "-" for something that never happened."""

import csv
import io
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

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


def credential_report_csv(account_pk: int) -> str:
    """The report's CSV for the account, read in a fixed number of queries however many users it has."""
    keys = Prefetch("access_keys", queryset=AccessKey.objects.order_by("created_at", "pk"))
    with_mfa = Exists(Authenticator.objects.filter(user=OuterRef("pk"), confirmed=True))
    users = User.objects.annotate(has_mfa=with_mfa).prefetch_related(keys)
    ram_users = (
        RamUser.objects.filter(account_id=account_pk)
        .select_related("account")
        .prefetch_related(Prefetch("user", queryset=users))
        .order_by("name", "pk")
    )
    policy = PasswordPolicy.objects.get(account_id=account_pk)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    owner = users.get(owned_account__pk=account_pk)
    account = owner.owned_account
    writer.writerow(_row("<root>", account.created_at, owner, console=True, policy=policy))
    for ram_user in ram_users:
        console = ram_user.is_console_logon_enabled
        writer.writerow(_row(ram_user.logon_name, ram_user.created_at, ram_user.user, console=console, policy=policy))
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
