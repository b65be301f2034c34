"""Attaching system policies to RAM users ("Authorize a RAM account")."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import PolicyAttachment, RamUser
from accounts.permissions import ensure_can_write_ram, ensure_same_account
from accounts.policies import SYSTEM_POLICIES_BY_NAME
from portal.audit import record_event


def attach_policy(*, actor: Actor, ram_user: RamUser, policy_name: str) -> PolicyAttachment:
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    if policy_name not in SYSTEM_POLICIES_BY_NAME:
        raise ValidationError(
            {"policy_name": [_("There is no system policy named “%(policy)s”.") % {"policy": policy_name}]}
        )
    try:
        with transaction.atomic():
            attachment = PolicyAttachment.objects.create(
                ram_user=ram_user, policy_name=policy_name, attached_by=actor.principal
            )
            record_event(
                actor=actor, action="policy.attach", target=ram_user.principal, details={"policy": policy_name}
            )
    except IntegrityError:
        raise ValidationError(
            {
                "policy_name": ValidationError(
                    _("%(policy)s is already attached to this user.") % {"policy": policy_name}, code="attached"
                )
            }
        ) from None
    return attachment


def detach_policy(*, actor: Actor, ram_user: RamUser, policy_name: str) -> None:
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    with transaction.atomic():
        deleted, _per_model = PolicyAttachment.objects.filter(ram_user=ram_user, policy_name=policy_name).delete()
        if not deleted:
            raise ValidationError(
                {
                    "policy_name": ValidationError(
                        _("%(policy)s is not attached to this user.") % {"policy": policy_name}, code="not_attached"
                    )
                }
            )
        record_event(actor=actor, action="policy.detach", target=ram_user.principal, details={"policy": policy_name})
