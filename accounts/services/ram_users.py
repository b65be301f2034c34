"""Creating, editing and deleting RAM users ("Create User")."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import (
    USER_NAME_RE,
    AccessKey,
    Authenticator,
    BackupCodeDevice,
    DeliveryPacket,
    OneTimeReveal,
    PasswordPolicy,
    PrimaryAccount,
    RamUser,
    User,
)
from accounts.passwords import context_words, generate_password, password_problems, policy_for
from accounts.permissions import ensure_can_write_ram, ensure_same_account
from accounts.services.access_keys import create_access_key_locked
from accounts.services.invitations import invite_ram_user
from accounts.services.otp import OtpProof, require_otp
from accounts.services.packets import seal_delivery_packet
from accounts.services.reveals import fill_reveal
from portal.audit import record_event

LOGON_NAME_MAX = 128
_email_max_length = RamUser._meta.get_field("email").max_length
assert _email_max_length is not None, "an EmailField has a max_length (254 unless set)"
EMAIL_MAX: int = _email_max_length
MOBILE_PHONE_RE = re.compile(r"^\+?(\d{1,4}-)?\d{5,20}$")


@dataclass(frozen=True)
class NewRamUser:
    name: str
    display_name: str
    email: str = ""
    mobile_phone: str = ""
    comments: str = ""
    console_logon: bool = False
    password: str | None = None  # None with console_logon: generate one
    must_reset_password: bool | None = None  # None: on for generated passwords, off for typed ones
    must_bind_mfa: bool = False
    create_access_key: bool = False
    # "Invite by email" (with console_logon): no password now; the person chooses one through an emailed link.
    invite: bool = False
    # The person's language (settings.LANGUAGES), chosen by the administrator who creates the user; "": not chosen.
    language: str = ""

    @property
    def sets_password_now(self) -> bool:
        return self.console_logon and not self.invite


@dataclass(frozen=True)
class CreatedRamUser:
    ram_user: RamUser
    generated_password: str | None  # shown once by the caller, never stored in clear
    initial_password: str | None = None  # typed or generated, for the delivery sheet
    access_key: AccessKey | None = None
    access_key_secret: str | None = None  # likewise
    packet: DeliveryPacket | None = None  # the secrets, sealed for delivery
    invitation: DeliveryPacket | None = None  # "Invite by email": queued for the user's address


class BatchRejected(ValidationError):
    """Some rows of a multi-user request are invalid; `row_errors` maps row index to field errors, and
    `taken_rows` holds the rows whose name another RAM user of the account already has."""

    def __init__(self, row_errors: dict[int, dict[str, list[str]]], *, taken_rows: frozenset[int] = frozenset()):
        self.row_errors = row_errors
        self.taken_rows = taken_rows
        super().__init__(_("Some users could not be created; nothing was created."), code="batch_rejected")


class DeleteConflict(ValidationError):
    """The user still holds something that must be removed first."""

    def __init__(self, message: str, *, blockers: list[str], code: str = "delete_conflict"):
        self.blockers = blockers
        super().__init__(message, code=code)


def is_portal_language(language: str) -> bool:
    """One of settings.LANGUAGES, or "" (not chosen: the person's browser then decides)."""
    return language == "" or language in dict(settings.LANGUAGES)


def has_control_characters(text: str) -> bool:
    # Names end up in email subjects and PDF lines, where a line break is an injection or an error.
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text or "")


def profile_problems(
    *, account: PrimaryAccount, name: str, display_name: str, email: str, mobile_phone: str, comments: str
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not re.fullmatch(USER_NAME_RE, name or ""):
        problems["name"] = [_("Use 1–64 characters: letters, digits, periods (.), hyphens (-) and underscores (_).")]
    elif len(name) + 1 + len(account.logon_domain) > LOGON_NAME_MAX:
        problems["name"] = [
            _("The logon name %(logon_name)s would exceed %(max)s characters.")
            % {"logon_name": f"{name}@{account.logon_domain}", "max": LOGON_NAME_MAX}
        ]
    if not (display_name or "").strip():
        problems["display_name"] = [_("Enter a display name.")]
    elif has_control_characters(display_name):
        problems["display_name"] = [_("The display name must not contain line breaks or control characters.")]
    elif len(display_name) > 128:
        problems["display_name"] = [_("The display name must be at most 128 characters.")]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems["email"] = [_("Enter a valid email address.")]
        # The validator allows 320 characters (RFC 3696); the column holds 254 (RFC 5321's path limit).
        if len(email) > EMAIL_MAX:
            problems["email"] = [_("The email address must be at most %(max)s characters.") % {"max": EMAIL_MAX}]
    if mobile_phone and not MOBILE_PHONE_RE.match(mobile_phone):
        problems["mobile_phone"] = [_("Enter the number as <country code>-<number>, e.g. 86-13800138000.")]
    if len(comments or "") > 128:
        problems["comments"] = [_("Comments must be at most 128 characters.")]
    return problems


def new_user_problems(
    account: PrimaryAccount,
    new_users: Sequence[NewRamUser],
    *,
    policy: PasswordPolicy | None = None,
    look_up_names: bool = True,
) -> tuple[dict[int, dict[str, list[str]]], frozenset[int]]:
    """Create User's rules for each new user, by position: the profile, the password policy (the account's, or
    `policy` read just before), a name repeated in the request or taken in the account (ignoring case; not looked up
    without `look_up_names`, where the caller lets the unique constraint say it). Also the positions whose name is
    taken. Nothing is written."""
    policy = policy or policy_for(account)
    row_errors: dict[int, dict[str, list[str]]] = {}
    seen: set[str] = set()
    for index, new in enumerate(new_users):
        problems = profile_problems(
            account=account,
            name=new.name,
            display_name=new.display_name,
            email=new.email,
            mobile_phone=new.mobile_phone,
            comments=new.comments,
        )
        if "name" not in problems:
            if new.name.lower() in seen:
                problems["name"] = [_("This user name appears twice in the request.")]
            seen.add(new.name.lower())
        if new.invite:
            if not new.console_logon:
                problems.setdefault("password", []).append(
                    _("An invitation is to choose a console password: enable console logon.")
                )
            elif new.password is not None:
                problems.setdefault("password", []).append(
                    _("With an invitation the person chooses the password: leave it empty.")
                )
            if not new.email and "email" not in problems:
                problems["email"] = [_("An invitation goes to the user's email address: enter one.")]
        if not is_portal_language(new.language):
            problems["language"] = [_("Choose one of the portal's languages.")]
        if new.sets_password_now and new.password is not None:
            weak = password_problems(new.password, policy=policy, context_words=context_words(account, new.name))
            if weak:
                problems["password"] = weak
        if problems:
            row_errors[index] = problems
    taken: set[str] = set()
    names = sorted(seen) if look_up_names else []
    for start in range(0, len(names), 500):  # an IN list of at most 500 names per query (SQLite's variable limit)
        taken.update(
            RamUser.objects.for_account(account)
            .annotate(lower_name=Lower("name"))
            .filter(lower_name__in=names[start : start + 500])
            .values_list("lower_name", flat=True)
        )
    taken_rows = frozenset(index for index, new in enumerate(new_users) if new.name.lower() in taken)
    for index in taken_rows:
        row_errors.setdefault(index, {}).setdefault("name", []).append(_("A RAM user with this name already exists."))
    return row_errors, taken_rows


def create_ram_users(
    *,
    actor: Actor,
    new_users: list[NewRamUser],
    otp_code: str | None = None,
    reveal: OneTimeReveal | None = None,
) -> list[CreatedRamUser]:
    """Creates every user of the request, or none of them; one audit event per user.

    Each user's new secrets (password, AccessKey secret) are also sealed in a delivery packet, which the
    form's one-time page (`reveal`) opens. Creating AccessKeys needs the actor's code, as "Create AccessKey" does.
    """
    ensure_can_write_ram(actor)
    account = actor.account
    if not new_users:
        raise ValidationError(_("Enter at least one user."))
    if len(new_users) > settings.PORTAL_MAX_USERS_PER_CREATE:
        raise ValidationError(
            _("Create at most %(max)s users at once.") % {"max": settings.PORTAL_MAX_USERS_PER_CREATE}
        )
    row_errors, taken_rows = new_user_problems(account, new_users)
    if row_errors:
        raise BatchRejected(row_errors, taken_rows=taken_rows)
    if any(new.create_access_key for new in new_users):
        require_otp(actor=actor, otp_code=otp_code)
    try:
        with transaction.atomic():
            created = [_create_one(actor, new) for new in new_users]
            fill_reveal(
                reveal,
                packets=[item.packet for item in created],
                facts={"ram_users": [item.ram_user.pk for item in created]},
            )
            return created
    except IntegrityError:
        # Another request created one of these names since the check above; the constraint held.
        raise ValidationError(
            _("A RAM user with one of these names was created meanwhile; nothing was created."), code="name_taken"
        ) from None


@dataclass(frozen=True)
class HashedPassword:
    """A console password hashed ahead of its user (the import hashes many at once on every core)."""

    password: str = field(repr=False)
    hashed: str = field(repr=False)
    is_generated: bool


def hash_console_password(policy: PasswordPolicy, new: NewRamUser) -> HashedPassword | None:
    """The password `new` signs in with, generated where none was typed (under `policy`), and its hash: the slow
    part of creating a user, and no database work, so that other threads can do it (Argon2 releases the GIL).
    None without console logon, or when the person is invited to choose it."""
    if not new.sets_password_now:
        return None
    password = new.password if new.password is not None else generate_password(policy)
    return HashedPassword(password=password, hashed=make_password(password), is_generated=new.password is None)


def create_ram_user(
    *, actor: Actor, new: NewRamUser, hashed: HashedPassword | None = None, policy: PasswordPolicy | None = None
) -> CreatedRamUser:
    """One user, checked with Create User's rules and created in one transaction with its audit event: the import
    job's step, with the password hashed ahead (`hashed`) where it has one, and the account's password policy as the
    job read it (`policy`). Its AccessKey needs no code here: whoever started the job gave one (projects.imports).

    Made for many calls in a row: a name taken is left to the unique constraint (no look-up first), and the work
    runs in the caller's transaction without a savepoint of its own, so a caller inside one must roll back to its own
    savepoint when this raises (the import does, once a row)."""
    ensure_can_write_ram(actor)
    row_errors, _taken = new_user_problems(actor.account, [new], policy=policy, look_up_names=False)
    if row_errors:
        raise ValidationError({field: messages for field, messages in row_errors[0].items()})
    try:
        with transaction.atomic(savepoint=False):
            return _create_one(actor, new, hashed)
    except IntegrityError:
        taken = _("A RAM user with this name already exists: it was created meanwhile.")
        raise ValidationError({"name": [taken]}) from None


def _create_one(actor: Actor, new: NewRamUser, hashed: HashedPassword | None = None) -> CreatedRamUser:
    user = User(language=new.language)
    generated = password = None
    must_reset = False
    if new.sets_password_now:
        if hashed is None:
            hashed = hash_console_password(policy_for(actor.account), new)
        assert hashed is not None  # console logon: a password
        password = hashed.password
        generated = password if hashed.is_generated else None
        user.password = hashed.hashed
        user.password_changed_at = timezone.now()
        must_reset = new.must_reset_password if new.must_reset_password is not None else generated is not None
    else:
        user.set_unusable_password()
    user.save()
    ram_user = RamUser.objects.create(
        account=actor.account,
        user=user,
        name=new.name,
        display_name=new.display_name.strip(),
        email=new.email,
        mobile_phone=new.mobile_phone,
        comments=new.comments,
        is_console_logon_enabled=new.sets_password_now,  # an invited person's logon starts when they accept
        must_reset_password=must_reset,
        must_bind_mfa=new.must_bind_mfa and new.console_logon,
    )
    access_key, secret = create_access_key_locked(actor=actor, holder=user) if new.create_access_key else (None, None)
    packet = None
    if new.sets_password_now or access_key:
        packet = seal_delivery_packet(
            actor=actor,
            ram_user=ram_user,
            password=password if new.sets_password_now else None,
            access_key_id=access_key.access_key_id if access_key else "",
            access_key_secret=secret,
        )
    record_event(
        actor=actor,
        action="ram_user.create",
        target=ram_user.principal,
        details={
            "display_name": ram_user.display_name,
            "console_logon": new.sets_password_now,
            "password_generated": generated is not None,
            "reset_required": ram_user.must_reset_password,
            "mfa_required": ram_user.must_bind_mfa,
            "access_key_id": access_key.access_key_id if access_key else None,
            "delivery_packet": packet.pk if packet else None,
        }
        | ({"invited": True} if new.invite else {}),
    )
    invitation = invite_ram_user(actor=actor, ram_user=ram_user) if new.invite else None
    return CreatedRamUser(
        ram_user=ram_user,
        generated_password=generated,
        initial_password=password,
        access_key=access_key,
        access_key_secret=secret,
        packet=packet,
        invitation=invitation,
    )


def update_ram_user(
    *,
    actor: Actor,
    ram_user: RamUser,
    name: str,
    display_name: str,
    email: str,
    mobile_phone: str,
    comments: str,
    language: str | None = None,
) -> RamUser:
    """Changes the user's profile, and its language where `language` is given (one of settings.LANGUAGES, or "" for
    none); a new name must stay unique in the account. A refusal changes nothing."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    # (A taken name goes in below as an error with its code, beside the plain messages.)
    problems: dict[str, list[str] | list[ValidationError]] = dict(
        profile_problems(
            account=actor.account,
            name=name,
            display_name=display_name,
            email=email,
            mobile_phone=mobile_phone,
            comments=comments,
        )
    )
    same_name = RamUser.objects.named(account=actor.account, name=name) if "name" not in problems else None
    if same_name is not None and same_name.pk != ram_user.pk:
        problems["name"] = [ValidationError(_("A RAM user with this name already exists."), code="name_taken")]
    if language is not None and not is_portal_language(language):
        problems["language"] = [ValidationError(_("Choose one of the portal's languages."), code="invalid_language")]
    if problems:
        raise ValidationError(problems)
    changes = {
        field: value
        for field, value in {
            "name": name,
            "display_name": display_name.strip(),
            "email": email,
            "mobile_phone": mobile_phone,
            "comments": comments,
        }.items()
        if getattr(ram_user, field) != value
    }
    new_language = language if language is not None and language != ram_user.user.language else None
    if not changes and new_language is None:
        return ram_user
    try:
        with transaction.atomic():
            locked = RamUser.objects.select_for_update().get(pk=ram_user.pk)
            old_principal = locked.principal
            for field, value in changes.items():
                setattr(locked, field, value)
            if changes:
                locked.save()
            if new_language is not None:
                User.objects.filter(pk=locked.user_id).update(language=new_language)
            changed = sorted([*changes, *(["language"] if new_language is not None else [])])
            # A renamed user's events name its old principal: the new name says whom it became.
            record_event(
                actor=actor,
                action="ram_user.update",
                target=old_principal,
                details={"changed": changed} | ({"new_name": name} if "name" in changes else {}),
            )
    except IntegrityError:
        raise ValidationError(
            {"name": ValidationError(_("A RAM user with this name already exists."), code="name_taken")}
        ) from None
    return locked


def delete_ram_user(
    *,
    actor: Actor,
    ram_user: RamUser,
    otp_code: str | None,
    with_access_keys: bool = False,
    otp_proof: OtpProof | None = None,
) -> None:
    """Deletes the user and everything only it held; refuses while something else still refers to it.

    The console deletes the user's AccessKeys in the same step when asked to (`with_access_keys`, after
    showing them); otherwise keys, like project roles, must go first.
    """
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    require_otp(actor=actor, otp_code=otp_code, proof=otp_proof)
    principal = ram_user.principal
    try:
        with transaction.atomic():
            locked = RamUser.objects.select_for_update().get(pk=ram_user.pk)
            policies = sorted(locked.policy_attachments.values_list("policy_name", flat=True))
            groups = sorted(locked.group_memberships.values_list("group__name", flat=True))
            deleted_keys = []
            if with_access_keys:
                deleted_keys = sorted(locked.user.access_keys.values_list("access_key_id", flat=True))
                locked.user.access_keys.all().delete()
            # Deleting the sign-in identity cascades to the RAM user, its policies, group memberships (and so the
            # rights its groups gave it) and MFA devices.
            # Anything that must be removed first (project roles, AccessKeys) protects the row.
            locked.user.delete()
            record_event(
                actor=actor,
                action="ram_user.delete",
                target=principal,
                details={"detached_policies": policies, "deleted_access_keys": deleted_keys}
                | ({"left_groups": groups} if groups else {}),
            )
    except ProtectedError as error:
        blockers = sorted({str(obj) for obj in error.protected_objects})
        raise DeleteConflict(
            _("%(principal)s still holds %(blockers)s; remove them before deleting the user.")
            % {"principal": principal, "blockers": ", ".join(blockers)},
            blockers=blockers,
        ) from None


def reset_mfa(*, actor: Actor, ram_user: RamUser, otp_code: str | None) -> int:
    """ "Reset MFA" for a user who lost every device: its MFA devices and backup codes go, and it must bind a new
    device at its next logon. Confirmed by the administrator's own code; returns how many devices went."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    require_otp(actor=actor, otp_code=otp_code)
    with transaction.atomic():
        locked = RamUser.objects.select_for_update().get(pk=ram_user.pk)
        devices = sorted(Authenticator.objects.filter(user=locked.user).values_list("name", flat=True))
        Authenticator.objects.filter(user=locked.user).delete()
        BackupCodeDevice.objects.filter(user=locked.user).delete()
        locked.must_bind_mfa = True
        locked.save(update_fields=["must_bind_mfa", "updated_at"])
        record_event(actor=actor, action="mfa.reset", target=locked.principal, details={"devices": devices})
    return len(devices)


def unbind_mfa_device(*, actor: Actor, ram_user: RamUser) -> None:
    """Removes a RAM user's authenticator (a lost phone); MFA, if required, is bound again at next sign-in."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    with transaction.atomic():
        deleted, _by_model = Authenticator.objects.filter(user=ram_user.user).delete()
        if not deleted:
            raise ValidationError(_("This user has no MFA device."))
        BackupCodeDevice.objects.filter(user=ram_user.user).delete()  # no device left for them to stand in for
        record_event(actor=actor, action="mfa.unbind", target=ram_user.principal)
