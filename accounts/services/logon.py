"""Console logon: "Modify Logon Settings", one's own password changes, signing out everywhere."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import (
    DeliveryPacket,
    OneTimeReveal,
    PasswordHistoryEntry,
    PasswordPolicy,
    RamUser,
    User,
)
from accounts.passwords import context_words, generate_password, password_problems, policy_for
from accounts.permissions import ensure_can_write_ram, ensure_same_account
from accounts.services.guessing import (
    clear_failures,
    clear_identity_failures,
    reserve_attempt,
    reserve_identity_attempt,
    source_key,
)
from accounts.services.invitations import supersede_invitations
from accounts.services.packets import seal_delivery_packet, supersede_packet_secrets
from accounts.services.password_step import OWNER_MAX_FAILED_ATTEMPTS, identity_of
from accounts.services.reveals import fill_reveal
from portal.audit import record_event


@dataclass(frozen=True)
class LogonChange:
    is_enabled: bool
    new_password: str | None = None  # a typed password
    generate_password: bool = False
    must_reset_password: bool = False
    must_bind_mfa: bool = False


def end_sessions(user: User) -> None:
    """Every session of the user stops at its next request (the session hash no longer matches)."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])


def _store_new_password(user: User, password: str) -> None:
    if user.has_usable_password():
        PasswordHistoryEntry.objects.create(user=user, password=user.password)
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    end_sessions(user)


@dataclass(frozen=True)
class LogonResult:
    generated_password: str | None = None  # shown once by the caller
    packet: DeliveryPacket | None = None  # a new password, sealed for delivery


def modify_logon_settings(
    *, actor: Actor, ram_user: RamUser, change: LogonChange, reveal: OneTimeReveal | None = None
) -> LogonResult:
    """Applies "Modify Logon Settings". A new password (typed or generated) is sealed in a delivery packet,
    which the form's one-time page (`reveal`) opens.

    Disabling logon or setting a password ends the user's sessions.
    """
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    user = ram_user.user
    generated = None
    new_password = change.new_password
    if change.is_enabled:
        if change.generate_password:
            new_password = generated = generate_password(policy_for(actor.account))
        elif new_password:
            weak = password_problems(
                new_password,
                policy=policy_for(actor.account),
                context_words=context_words(actor.account, ram_user.name),
                user=user,
            )
            if weak:
                raise ValidationError({"password": weak})
        elif not user.has_usable_password():
            raise ValidationError({"password": [_("Set a password or generate one to enable console logon.")]})
    packet = None
    superseded: list[int] = []
    with transaction.atomic():
        # Only the RAM user's row is locked (not the joined identity and account rows): every path that changes a
        # RAM user's password takes this lock first, so two of them never wait on each other crosswise.
        locked = RamUser.objects.select_for_update(of=("self",)).select_related("user", "account").get(pk=ram_user.pk)
        was_enabled = locked.is_console_logon_enabled
        if not change.is_enabled:
            if locked.user.has_usable_password():
                superseded = supersede_packet_secrets(
                    actor=actor, ram_user=locked, event="console_logon_disabled", password=True
                )
            superseded += supersede_invitations(ram_user=locked)  # the person could not choose a password now
            locked.user.set_unusable_password()
            locked.user.save(update_fields=["password"])
            end_sessions(locked.user)
            locked.is_console_logon_enabled = False
            locked.must_reset_password = False
            locked.must_bind_mfa = False
            action = "console_logon.disable"
        else:
            if new_password:
                _store_new_password(locked.user, new_password)
                # Sealed packets with the old password would hand out one that no longer works.
                superseded = supersede_packet_secrets(
                    actor=actor, ram_user=locked, event="password_replaced", password=True
                )
                superseded += supersede_invitations(ram_user=locked)  # the administrator chose the password
                packet = seal_delivery_packet(actor=actor, ram_user=locked, password=new_password)
            locked.is_console_logon_enabled = True
            locked.must_reset_password = change.must_reset_password
            locked.must_bind_mfa = change.must_bind_mfa
            action = "console_logon.enable" if not was_enabled else "console_logon.update"
        locked.save()
        record_event(
            actor=actor,
            action=action,
            target=locked.principal,
            details={
                "password_changed": bool(new_password),
                "password_generated": generated is not None,
                "reset_required": locked.must_reset_password,
                "mfa_required": locked.must_bind_mfa,
                "delivery_packet": packet.pk if packet else None,
            }
            | ({"superseded_packets": superseded} if superseded else {}),
        )
        fill_reveal(reveal, packets=[packet], facts={"ram_user": locked.pk})
    return LogonResult(generated_password=generated, packet=packet)


def change_own_password(
    *, actor: Actor, current_password: str, new_password: str, is_forced_reset: bool = False
) -> None:
    """A user replaces their own password: where the settings allow it, or when a reset is required."""
    if not is_forced_reset:
        ensure_self_service(actor, "allow_change_password")
    user = actor.person
    # The same lock as sign-in: whoever holds a session or a key cannot guess the password endlessly.
    identity = identity_of(user)
    source_ip = source_key(actor.origin.source_ip)
    max_attempts = OWNER_MAX_FAILED_ATTEMPTS if user.is_owner else policy_for(actor.account).max_failed_attempts
    # The per-identity bound too: a stolen session or AccessKey must not become a password oracle from many addresses.
    if not reserve_attempt(identity=identity, source_ip=source_ip, max_attempts=max_attempts):
        raise ValidationError({"current_password": [_("Too many wrong passwords; try again in an hour.")]})
    reservation = reserve_identity_attempt(identity=identity)
    if reservation.is_locked:
        raise ValidationError(
            {"current_password": [_("Too many wrong passwords were tried for you; try again later.")]}
        )
    if not user.check_password(current_password or ""):
        raise ValidationError({"current_password": [_("The current password is incorrect.")]})
    clear_failures(identity=identity, source_ip=source_ip)
    clear_identity_failures(identity=identity, reservation=reservation)
    words: tuple[str, ...]
    if user.is_owner:
        assert user.email is not None, "an owner signs in by email (accounts.services.primary_accounts)"
        policy, words = PasswordPolicy(), (user.email.split("@")[0], actor.account.name)
    else:
        ram_user = user.ram_user
        policy, words = policy_for(actor.account), context_words(actor.account, ram_user.name)
    if new_password == current_password:
        raise ValidationError({"new_password": [_("The new password must differ from the current one.")]})
    weak = password_problems(new_password, policy=policy, context_words=words, user=user)
    if weak:
        raise ValidationError({"new_password": weak})
    with transaction.atomic():
        if not user.is_owner:  # the same lock, first, as "Modify Logon Settings" takes
            RamUser.objects.select_for_update(of=("self",)).filter(pk=user.ram_user.pk).first()
        _store_new_password(user, new_password)
        if not user.is_owner:
            RamUser.objects.filter(pk=user.ram_user.pk).update(must_reset_password=False)
            user.ram_user.must_reset_password = False
        superseded = (
            []
            if user.is_owner
            else supersede_packet_secrets(actor=actor, ram_user=user.ram_user, event="password_replaced", password=True)
        )
        record_event(
            actor=actor,
            action="password.change",
            target=user.display,
            details={"superseded_packets": superseded} if superseded else None,
        )


def sign_out_everywhere(*, actor: Actor) -> None:
    user = actor.person
    with transaction.atomic():
        end_sessions(user)
        record_event(actor=actor, action="sign_out.everywhere", target=user.display)


def ensure_self_service(actor: Actor, setting: str) -> None:
    """RAM users manage their own credentials only where the security settings allow it."""
    if actor.user is not None and not actor.user.is_owner and not getattr(actor.account.security_settings, setting):
        raise PermissionDenied(_("Your administrator does not allow this."))
