"""Bulk actions on the Users table's selection: the single-user services, once per user, each user in its own
transaction, with a report of what was done and what was refused for whom."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.actors import Actor
from accounts.models import DeliveryPacket, Group, RamUser
from accounts.permissions import ensure_can_write_ram
from accounts.services.groups import add_users_to_group, remove_from_group
from accounts.services.logon import LogonChange, modify_logon_settings
from accounts.services.packets import email_delivery_packet, packets_for_users
from accounts.services.policies import attach_policy, detach_policy


class BulkAction(StrEnum):
    PRINT_PACKETS = "print_packets"
    EMAIL_PACKETS = "email_packets"
    ATTACH_POLICY = "attach_policy"
    DETACH_POLICY = "detach_policy"
    ENABLE_CONSOLE_LOGON = "enable_console_logon"
    DISABLE_CONSOLE_LOGON = "disable_console_logon"
    REQUIRE_MFA = "require_mfa"
    REQUIRE_PASSWORD_RESET = "require_password_reset"
    ADD_TO_GROUP = "add_to_group"
    REMOVE_FROM_GROUP = "remove_from_group"


BULK_ACTION_LABELS: dict[BulkAction, StrOrPromise] = {
    BulkAction.PRINT_PACKETS: gettext_lazy("Download delivery PDF"),
    BulkAction.EMAIL_PACKETS: gettext_lazy("Email delivery packets"),
    BulkAction.ATTACH_POLICY: gettext_lazy("Add Permissions"),
    BulkAction.DETACH_POLICY: gettext_lazy("Remove Permissions"),
    BulkAction.ENABLE_CONSOLE_LOGON: gettext_lazy("Enable console logon"),
    BulkAction.DISABLE_CONSOLE_LOGON: gettext_lazy("Disable console logon"),
    BulkAction.REQUIRE_MFA: gettext_lazy("Require MFA at next logon"),
    BulkAction.REQUIRE_PASSWORD_RESET: gettext_lazy("Require password reset at next logon"),
    BulkAction.ADD_TO_GROUP: gettext_lazy("Add to group"),
    BulkAction.REMOVE_FROM_GROUP: gettext_lazy("Remove from group"),
}
# What the confirmation says will happen to each user.
BULK_ACTION_EFFECTS: dict[BulkAction, StrOrPromise] = {
    BulkAction.PRINT_PACKETS: gettext_lazy(
        "One PDF: each user's sealed packets, with their secrets (then wiped), or else sign-in instructions."
    ),
    BulkAction.EMAIL_PACKETS: gettext_lazy(
        "Each user's sealed packets, or else sign-in instructions, are emailed to the user's own address as a "
        "one-time claim link. Users without an email address are skipped."
    ),
    BulkAction.ATTACH_POLICY: gettext_lazy("The policy is attached to each user."),
    BulkAction.DETACH_POLICY: gettext_lazy("The policy is detached from each user who holds it."),
    BulkAction.ENABLE_CONSOLE_LOGON: gettext_lazy(
        "Console logon is enabled with a new generated password for each user, sealed in a delivery packet; a "
        "password reset is required at first sign-in. Users whose logon is enabled keep their password."
    ),
    BulkAction.DISABLE_CONSOLE_LOGON: gettext_lazy(
        "Console logon is disabled: each user's password stops working and their sessions end; sealed packets with "
        "that password are superseded."
    ),
    BulkAction.REQUIRE_MFA: gettext_lazy("Each user must bind an MFA device at their next logon."),
    BulkAction.REQUIRE_PASSWORD_RESET: gettext_lazy("Each user must choose a new password at their next logon."),
    BulkAction.ADD_TO_GROUP: gettext_lazy(
        "Each user joins the group and holds its policies and project roles. A user already in as many groups as "
        "allowed is refused."
    ),
    BulkAction.REMOVE_FROM_GROUP: gettext_lazy("Each user leaves the group and loses what it held only through it."),
}
NEEDS_POLICY = {BulkAction.ATTACH_POLICY, BulkAction.DETACH_POLICY}
NEEDS_GROUP = {BulkAction.ADD_TO_GROUP, BulkAction.REMOVE_FROM_GROUP}


@dataclass(frozen=True)
class Outcome:
    """What a bulk action did for one user, or why it did nothing."""

    name: str
    is_done: bool
    message: str


def refusal_text(refusal: ValidationError | PermissionDenied) -> str:
    """A service's refusal as one sentence for a report."""
    return " ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)


def for_each_user(*, actor: Actor, ram_users: Sequence[RamUser], step: Callable[[RamUser], str]) -> list[Outcome]:
    """`step` (a single-user service call saying what it did) for each user, read afresh, in its own transaction:
    a refusal for one user (a rule, a race, the user gone) is its outcome, and the others go on."""
    outcomes = []
    for ram_user in ram_users:
        try:
            with transaction.atomic():
                fresh = RamUser.objects.for_account(actor.account).select_related("account", "user").get(pk=ram_user.pk)
                outcomes.append(Outcome(ram_user.name, True, step(fresh)))
        except RamUser.DoesNotExist:
            outcomes.append(Outcome(ram_user.name, False, _("The user no longer exists.")))
        except (ValidationError, PermissionDenied) as refusal:
            outcomes.append(Outcome(ram_user.name, False, refusal_text(refusal)))
    return outcomes


def _email_packets(actor: Actor, ram_user: RamUser) -> str:
    if not ram_user.email:
        raise ValidationError(_("The user has no email address: skipped."))
    packets = DeliveryPacket.objects.filter(pk__in=packets_for_users(actor=actor, ram_user_ids=[ram_user.pk]))
    for packet in packets.select_related("ram_user__account"):
        email_delivery_packet(actor=actor, packet=packet, to=ram_user.email)
    return _("Queued for email to %(address)s.") % {"address": ram_user.email}


def _enable(actor: Actor, ram_user: RamUser) -> str:
    if ram_user.is_console_logon_enabled:
        raise ValidationError(_("Console logon is already enabled: the password was left as it is."))
    result = modify_logon_settings(
        actor=actor,
        ram_user=ram_user,
        change=LogonChange(is_enabled=True, generate_password=True, must_reset_password=True),
    )
    packet = result.packet
    return _("Console logon enabled; the new password is sealed in delivery packet #%(number)s.") % {
        "number": packet.pk if packet else "?"
    }


def _disable(actor: Actor, ram_user: RamUser) -> str:
    if not ram_user.is_console_logon_enabled:
        raise ValidationError(_("Console logon is already disabled."))
    modify_logon_settings(actor=actor, ram_user=ram_user, change=LogonChange(is_enabled=False))
    return _("Console logon disabled.")


def _require(actor: Actor, ram_user: RamUser, *, mfa: bool = False, password_reset: bool = False) -> str:
    if not ram_user.is_console_logon_enabled:
        raise ValidationError(_("Console logon is disabled for this user: enable it first."))
    change = LogonChange(
        is_enabled=True,
        must_reset_password=ram_user.must_reset_password or password_reset,
        must_bind_mfa=ram_user.must_bind_mfa or mfa,
    )
    modify_logon_settings(actor=actor, ram_user=ram_user, change=change)
    return _("Required at next logon.")


def _attach(actor: Actor, ram_user: RamUser, policy_name: str) -> str:
    attach_policy(actor=actor, ram_user=ram_user, policy_name=policy_name)
    return _("%(policy)s attached.") % {"policy": policy_name}


def _detach(actor: Actor, ram_user: RamUser, policy_name: str) -> str:
    detach_policy(actor=actor, ram_user=ram_user, policy_name=policy_name)
    return _("%(policy)s detached.") % {"policy": policy_name}


def _join(actor: Actor, ram_user: RamUser, group: Group) -> str:
    added, _already = add_users_to_group(actor=actor, group=group, ram_users=[ram_user])
    if added:
        return _("Added to %(group)s.") % {"group": group.name}
    return _("Already in %(group)s.") % {"group": group.name}


def _leave(actor: Actor, ram_user: RamUser, group: Group) -> str:
    remove_from_group(actor=actor, group=group, ram_user=ram_user)
    return _("Removed from %(group)s.") % {"group": group.name}


def apply_to_users(
    *,
    actor: Actor,
    action: BulkAction,
    ram_users: Sequence[RamUser],
    policy_name: str = "",
    group: Group | None = None,
) -> list[Outcome]:
    """Applies `action` to each user through the service its single-user page uses. Each user's change is one
    transaction: a refusal for one user (a rule, a race) leaves the others' changes in place and is reported."""
    ensure_can_write_ram(actor)
    if action in NEEDS_POLICY and not policy_name:
        raise ValidationError({"policy": [_("Choose the policy.")]})
    if action in NEEDS_GROUP and group is None:
        raise ValidationError({"group": [_("Choose the group.")]})
    steps: dict[BulkAction, Callable[[RamUser], str]] = {
        BulkAction.EMAIL_PACKETS: lambda ram_user: _email_packets(actor, ram_user),
        BulkAction.ATTACH_POLICY: lambda ram_user: _attach(actor, ram_user, policy_name),
        BulkAction.DETACH_POLICY: lambda ram_user: _detach(actor, ram_user, policy_name),
        BulkAction.ENABLE_CONSOLE_LOGON: lambda ram_user: _enable(actor, ram_user),
        BulkAction.DISABLE_CONSOLE_LOGON: lambda ram_user: _disable(actor, ram_user),
        BulkAction.REQUIRE_MFA: lambda ram_user: _require(actor, ram_user, mfa=True),
        BulkAction.REQUIRE_PASSWORD_RESET: lambda ram_user: _require(actor, ram_user, password_reset=True),
    }
    if group is not None:
        steps[BulkAction.ADD_TO_GROUP] = lambda ram_user: _join(actor, ram_user, group)
        steps[BulkAction.REMOVE_FROM_GROUP] = lambda ram_user: _leave(actor, ram_user, group)
    if action not in steps:
        raise ValidationError(_("%(action)s is not a per-user action.") % {"action": BULK_ACTION_LABELS[action]})
    return for_each_user(actor=actor, ram_users=ram_users, step=steps[action])
