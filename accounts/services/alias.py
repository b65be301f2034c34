"""The enterprise alias and the logon link ("Update default domain")."""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.actors import Actor
from accounts.models import AliasHold, DeliveryPacket, PrimaryAccount, RamUser
from accounts.services.otp import require_otp
from accounts.services.ram_users import LOGON_NAME_MAX
from accounts.services.security import ensure_owner
from portal.audit import record_event

ALIAS_MIN, ALIAS_MAX = 3, 50
# In English: the API finds this refusal by its text (it answers in English); pages show it translated.
ALIAS_TAKEN = gettext_noop("This alias is taken.")
# Words that would let an alias pass for the portal or the provider itself (phishing), or collide with the
# portal's own paths and well-known host names.
RESERVED_ALIASES = frozenset(
    {
        "account",
        "accounts",
        "admin",
        "administrator",
        "alibaba",
        "alibabacloud",
        "aliyun",
        "api",
        "console",
        "help",
        "login",
        "logon",
        "mail",
        "portal",
        "ram",
        "root",
        "security",
        "signin",
        "signout",
        "signup",
        "static",
        "support",
        "test",
        "www",
    }
)


def alias_problems(alias: str) -> list[str]:
    """What is wrong with `alias` as an enterprise alias (already lowercased); empty when it is fine."""
    alias = alias or ""
    problems = []
    if not ALIAS_MIN <= len(alias) <= ALIAS_MAX:
        problems.append(_("Use %(min)s–%(max)s characters.") % {"min": ALIAS_MIN, "max": ALIAS_MAX})
    if not re.fullmatch(r"[a-z0-9-]*", alias):
        problems.append(_("Use only lowercase letters, digits and hyphens (-)."))
    if alias.startswith("-") or alias.endswith("-"):
        problems.append(_("The alias cannot start or end with a hyphen."))
    if "--" in alias:
        problems.append(_("Use single hyphens: “--” is not allowed."))
    if alias.isdigit():
        # Digits alone would also be mistaken for an account ID in the logon link.
        problems.append(_("The alias cannot consist of digits only."))
    if alias in RESERVED_ALIASES:
        problems.append(_("“%(alias)s” is a reserved word.") % {"alias": alias})
    return problems


def alias_change_impact(account: PrimaryAccount) -> dict[str, int]:
    """Who a change of the alias touches: the RAM users who sign in to the console (they will use the new
    name from then on), and the undelivered delivery packets that name the current logon domain."""
    return {
        "console_logon_users": RamUser.objects.for_account(account).filter(is_console_logon_enabled=True).count(),
        "undelivered_packets": DeliveryPacket.objects.for_account(account)
        .filter(state__in=[DeliveryPacket.State.SEALED, DeliveryPacket.State.SENT])
        .count(),
    }


def set_enterprise_alias(*, actor: Actor, otp_code: str | None, alias: str) -> PrimaryAccount:
    """Sets or changes the alias: unique across the portal ignoring case, never one another account released
    less than PORTAL_ALIAS_HOLD_DAYS ago; the alias it replaces is held for this account and stops working."""
    ensure_owner(actor)
    require_otp(actor=actor, otp_code=otp_code)
    alias = (alias or "").strip().lower()
    problems = alias_problems(alias)
    if problems:
        raise ValidationError({"alias": problems})
    try:
        with transaction.atomic():
            account = PrimaryAccount.objects.select_for_update().get(pk=actor.account.pk)
            old = account.alias
            if old is not None and old.lower() == alias:
                return account
            _ensure_logon_names_fit(account, alias)
            now = timezone.now()
            # Take the alias first: on PostgreSQL this waits on the unique index while another transaction
            # holds or releases the same alias, so the hold check below sees what that transaction committed.
            PrimaryAccount.objects.filter(pk=account.pk).update(alias=alias)
            hold = AliasHold.objects.filter(alias__iexact=alias, held_until__gt=now).exclude(account=account).first()
            if hold is not None:
                raise ValidationError(  # rolls the update back
                    {
                        "alias": [
                            _("This alias was released recently and is held until %(date)s.")
                            % {"date": f"{hold.held_until:%Y-%m-%d}"}
                        ]
                    }
                )
            # This account taking back its own released alias ends the hold; expired holds go too.
            AliasHold.objects.filter(alias__iexact=alias).delete()
            if old is not None:
                _hold_released_alias(account, old, now)
            record_event(actor=actor, action="alias.set", target=account.principal, details={"old": old, "new": alias})
    except IntegrityError:
        raise ValidationError({"alias": [_(ALIAS_TAKEN)]}) from None
    account.alias = alias
    return account


def clear_enterprise_alias(*, actor: Actor, otp_code: str | None) -> PrimaryAccount:
    """Removes the alias: it stops working at once and is held for this account; the default domain stays."""
    ensure_owner(actor)
    require_otp(actor=actor, otp_code=otp_code)
    with transaction.atomic():
        account = PrimaryAccount.objects.select_for_update().get(pk=actor.account.pk)
        old = account.alias
        if old is None:
            return account
        account.alias = None
        account.save(update_fields=["alias"])
        _hold_released_alias(account, old, timezone.now())
        record_event(actor=actor, action="alias.clear", target=account.principal, details={"old": old, "new": None})
    return account


def _hold_released_alias(account: PrimaryAccount, alias: str, now: datetime) -> None:
    # Held so that nobody else can take the name and catch sign-ins of users who still use the old link.
    AliasHold.objects.filter(alias__iexact=alias, held_until__lte=now).delete()
    AliasHold.objects.update_or_create(
        alias__iexact=alias,
        defaults={
            "alias": alias,
            "account": account,
            "released_at": now,
            "held_until": now + timedelta(days=settings.PORTAL_ALIAS_HOLD_DAYS),
        },
    )


def _ensure_logon_names_fit(account: PrimaryAccount, alias: str) -> None:
    longest = RamUser.objects.for_account(account).aggregate(longest=Max(Length("name")))["longest"] or 0
    domain = f"{alias}.{settings.PORTAL_DOMAIN_SUFFIX}"
    if longest + 1 + len(domain) > LOGON_NAME_MAX:
        raise ValidationError(
            {
                "alias": [
                    _("With this alias the longest logon name would exceed %(count)s characters.")
                    % {"count": LOGON_NAME_MAX}
                ]
            }
        )
