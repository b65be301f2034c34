"""Account-wide security settings and password policy ("Update RAM User Security Settings")."""

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import PasswordPolicy, SecuritySettings
from accounts.services.otp import require_otp
from portal.audit import record_event

MAX_LOGON_IP_MASKS = 40

SECURITY_SETTING_FIELDS = (
    "allow_change_password",
    "allow_manage_access_keys",
    "allow_manage_mfa",
    "remember_mfa_for_7_days",
    "session_hours",
    "logon_ip_masks",
)
PASSWORD_POLICY_FIELDS = (
    "minimum_length",
    "require_lowercase",
    "require_uppercase",
    "require_numbers",
    "require_symbols",
    "max_age_days",
    "reuse_prevention",
    "max_failed_attempts",
    "hard_expiry",
)


def ensure_owner(actor: Actor) -> None:
    if actor.user is not None and not actor.user.is_owner:
        raise PermissionDenied(_("Only the primary account's owner can change this."))


def normalise_ip_masks(masks: list[str]) -> list[str]:
    """CIDRs in canonical form; ValidationError naming the first one that is not an address or network."""
    cleaned = []
    for mask in filter(None, (raw.strip() for raw in masks)):
        try:
            cleaned.append(str(ipaddress.ip_network(mask, strict=False)))
        except ValueError:
            raise ValidationError(
                {"logon_ip_masks": [_("“%(mask)s” is not an IP address or CIDR block.") % {"mask": mask}]}
            ) from None
    cleaned = list(dict.fromkeys(cleaned))
    if len(cleaned) > MAX_LOGON_IP_MASKS:
        raise ValidationError(
            {"logon_ip_masks": [_("Enter at most %(count)s IP masks.") % {"count": MAX_LOGON_IP_MASKS}]}
        )
    return cleaned


# `values` hold model fields by name, each of its field's own type (a form's cleaned data, an API's parameters).
type FieldValues = Mapping[str, Any]


def _apply[Row: (SecuritySettings, PasswordPolicy)](
    actor: Actor, model: type[Row], fields: tuple[str, ...], values: FieldValues, action: str
) -> Row:
    with transaction.atomic():
        row = model.objects.select_for_update().get(account=actor.account)
        # Each changed field with its value before and after (settings hold no secrets): the trail says what changed.
        changed: dict[str, dict[str, object]] = {}
        for field in fields:
            if field in values and getattr(row, field) != values[field]:
                changed[field] = {"before": getattr(row, field), "after": values[field]}
                setattr(row, field, values[field])
        try:
            row.full_clean()
        except ValidationError as error:
            raise ValidationError(error.message_dict) from None
        row.save()
        record_event(actor=actor, action=action, target=actor.account.principal, details={"changed": changed})
    return row


def update_security_settings(*, actor: Actor, otp_code: str | None, values: FieldValues) -> SecuritySettings:
    """Changes what RAM users may do for themselves; the owner's code is checked first."""
    ensure_owner(actor)
    if "logon_ip_masks" in values:
        values = {**values, "logon_ip_masks": normalise_ip_masks(values["logon_ip_masks"])}
    require_otp(actor=actor, otp_code=otp_code)
    return _apply(actor, SecuritySettings, SECURITY_SETTING_FIELDS, values, "security_settings.update")


def update_password_policy(*, actor: Actor, otp_code: str | None, values: FieldValues) -> PasswordPolicy:
    """Changes the password rules for RAM users; the owner's code is checked first."""
    ensure_owner(actor)
    require_otp(actor=actor, otp_code=otp_code)
    return _apply(actor, PasswordPolicy, PASSWORD_POLICY_FIELDS, values, "password_policy.update")
