"""The audit trail in words: each event's sentence, and its actor and target as the people they name.

Every action the portal records is registered here with a label (the trail's filter lists them) and a function
that turns the event's details into a sentence. `projects` registers its own actions when its app is ready
(projects.audit_text), so that this module describes them without knowing them.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models.functions import Lower
from django.urls import reverse

from accounts.models import USER_NAME_RE, OneTimeReveal, PrimaryAccount, RamUser
from accounts.sealing import sealed_columns
from portal.models import AuditEvent

type Describe = Callable[[AuditEvent], str]


@dataclass(frozen=True)
class KnownAction:
    action: str
    family: str  # the group it is listed under in the filter: "Policies", "Sign-in", …
    label: str  # how the filter lists it: "Policy attached"
    describe: Describe


_KNOWN: dict[str, KnownAction] = {}


def describes(action: str, *, family: str, label: str) -> Callable[[Describe], Describe]:
    """Registers the decorated function as the sentence of `action`."""

    def register(describe: Describe) -> Describe:
        if action in _KNOWN:
            raise ImproperlyConfigured(f"The audit action {action} is described twice.")
        _KNOWN[action] = KnownAction(action=action, family=family, label=label, describe=describe)
        return describe

    return register


def says(action: str, text: str, *, family: str, label: str) -> None:
    """Registers an action whose sentence is `text` with the event's details filled in (`{policy}`); an event whose
    details lack one reads as the generic sentence."""
    describes(action, family=family, label=label)(lambda event: text.format_map(details_of(event)))


def action_choices() -> list[tuple[str, Any]]:
    """The known actions for a select, grouped by family in the order they were registered."""
    families: dict[str, list[tuple[str, str]]] = {}
    for known in _KNOWN.values():
        families.setdefault(known.family, []).append((known.action, known.label))
    return [("", "Any action"), *families.items()]


def sentence(event: AuditEvent) -> str:
    """What the event did, in words, from its action and details."""
    known = _KNOWN.get(event.action)
    if known is None:
        return generic_sentence(event)
    try:
        return known.describe(event)
    except (KeyError, TypeError, ValueError, AttributeError):
        # The trail outlives the code that wrote it: an event whose details have an older shape still reads.
        return generic_sentence(event)


def generic_sentence(event: AuditEvent) -> str:
    known = _KNOWN.get(event.action)
    label = known.label if known else event.action
    facts = details_of(event)
    # Sorted: PostgreSQL's jsonb keeps keys in an order of its own.
    return f"{label}: {', '.join(f'{key} {shown(facts[key])}' for key in sorted(facts))}" if facts else label


# --- Reading details --------------------------------------------------------------------------------


def details_of(event: AuditEvent) -> Mapping[str, Any]:
    return event.details if isinstance(event.details, dict) else {}


def shown(value: object) -> str:
    """A setting's value as a person reads it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "none"
    return "none" if value is None or value == "" else str(value)


def changes_text(changed: object, labels: Mapping[str, str]) -> str:
    """ "label before → after; …" for `{field: {"before": …, "after": …}}`. Events written before the values
    were recorded carry the new value alone (`{field: value}`), or only the names of the fields (`[field, …]`)."""
    if isinstance(changed, list):
        return ", ".join(labels.get(field, field.replace("_", " ")) for field in changed)
    if not isinstance(changed, dict):
        raise TypeError("changed")
    parts = []
    # In the order the settings page lists them (PostgreSQL's jsonb keeps keys in an order of its own).
    order = {field: index for index, field in enumerate(labels)}
    for field in sorted(changed, key=lambda field: (order.get(field, len(order)), field)):
        change, label = changed[field], labels.get(field, field.replace("_", " "))
        if isinstance(change, dict) and {"before", "after"} <= change.keys():
            parts.append(f"{label} {shown(change['before'])} → {shown(change['after'])}")
        else:
            parts.append(f"{label} set to {shown(change)}")
    return "; ".join(parts)


def packet_text(number: object) -> str:
    return f"packet #{number}"


def packets_text(numbers: Iterable[object]) -> str:
    listed = [f"#{number}" for number in numbers]
    return f"packet{'s' if len(listed) > 1 else ''} {', '.join(listed)}"


def superseded_text(facts: Mapping[str, Any]) -> str:
    superseded = facts.get("superseded_packets")
    return f"; the old secrets were taken out of {packets_text(superseded)}" if superseded else ""


def joined(head: str, parts: Iterable[str]) -> str:
    rest = [part for part in parts if part]
    return f"{head}: {'; '.join(rest)}" if rest else head


# --- Failed sign-ins --------------------------------------------------------------------------------

ANONYMOUS_ACTIONS = frozenset({"sign_in.failed", "sign_in.guessing_locked"})


def tried_principal(event: AuditEvent) -> str:
    """The principal a failed sign-in tried, from its target: the sign-in identity the guessing bounds count it
    under (accounts.services.guessing: `<account>:<user name>` or `owner:<email>`), or the logon name as typed.
    A logon name of another domain names nobody here: "" then."""
    target = event.target
    if target.startswith("owner:"):
        return f"ALIYUN${event.account_id}"
    prefix = f"{event.account_id}:"
    name = target.removeprefix(prefix) if target.startswith(prefix) else target.partition("@")[0]
    return f"RAM${event.account_id}:{name}" if name else ""


def tried_text(event: AuditEvent) -> str:
    return tried_principal(event) or "a logon name of another domain"


SIGN_IN_REFUSALS = {
    "wrong_password": "wrong password",
    "unknown": "no such user, or its console logon is off",
    "locked": "locked after too many failed attempts from this address",
    "guessing_locked": "locked against password guessing",
    "wrong_code": "wrong MFA code while locked against password guessing",
    "network_not_allowed": "the source address is outside the logon IP masks",
    "password_expired": "the password has expired",
}

SIGN_IN = "Sign-in"


@describes("sign_in.failed", family=SIGN_IN, label="Sign-in failed")
def _sign_in_failed(event: AuditEvent) -> str:
    reason = details_of(event).get("reason", "")
    return f"Sign-in as {tried_text(event)} refused: {SIGN_IN_REFUSALS.get(reason, reason or 'no reason given')}"


@describes("sign_in.guessing_locked", family=SIGN_IN, label="Locked against password guessing")
def _guessing_locked(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"{tried_text(event)} locked against password guessing after {facts['failures']} failed attempts in a row"


says("sign_in.success", "Signed in", family=SIGN_IN, label="Signed in")


@describes("sign_in.unlock", family=SIGN_IN, label="Sign-in lock cleared")
def _unlock(event: AuditEvent) -> str:
    facts = details_of(event)
    sources = facts.get("locked_sources") or 0
    lifted = ["the lock against password guessing"] if facts.get("guessing_lock") else []
    if sources:
        lifted.append(f"the locks on {sources} source address{'es' if sources != 1 else ''}")
    return f"Cleared the sign-in lock: {' and '.join(lifted)}" if lifted else "Cleared the sign-in lock"


says("otp.failed", "Entered a wrong one-time code", family=SIGN_IN, label="Wrong one-time code")
says("sign_out.everywhere", "Signed out of every session", family=SIGN_IN, label="Signed out everywhere")


# --- The primary account ----------------------------------------------------------------------------

ACCOUNT = "Primary account"


@describes("account.create", family=ACCOUNT, label="Primary account created")
def _account_created(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"Created the primary account “{facts['name']}” for {facts['email']}"


@describes("alias.set", family=ACCOUNT, label="Enterprise alias set")
def _alias_set(event: AuditEvent) -> str:
    facts = details_of(event)
    if not facts.get("old"):
        return f"Set the enterprise alias to {facts['new']}"
    return f"Changed the enterprise alias from {facts['old']} to {facts['new']}"


says("alias.clear", "Cleared the enterprise alias {old}", family=ACCOUNT, label="Enterprise alias cleared")
says(
    "credential_report.generate",
    "Generated the credential report ({users} RAM users)",
    family=ACCOUNT,
    label="Credential report generated",
)


@describes("keyring.rotate", family=ACCOUNT, label="Secrets re-encrypted")
def _keyring_rotated(event: AuditEvent) -> str:
    facts = details_of(event)
    counts = {
        "resealed_access_keys": "AccessKeys",
        "resealed_authenticators": "MFA devices",
        "resealed_packets": "delivery packets",
        "resealed_one_time_pages": "one-time pages",
        **{f"resealed_{column.key}": column.noun for column in sealed_columns()},
    }
    return joined(
        "Re-encrypted the stored secrets with the current key",
        (f"{facts[key]} {noun}" for key, noun in counts.items() if key in facts),
    )


# --- Settings ---------------------------------------------------------------------------------------

SETTINGS = "Settings"
SECURITY_SETTING_LABELS = {
    "allow_change_password": "users may change their password",
    "allow_manage_access_keys": "users may manage their AccessKeys",
    "allow_manage_mfa": "users may manage their MFA devices",
    "remember_mfa_for_7_days": "remember MFA for 7 days",
    "session_hours": "logon session duration (hours)",
    "logon_ip_masks": "logon IP masks",
}
PASSWORD_POLICY_LABELS = {
    "minimum_length": "minimum length",
    "require_lowercase": "lowercase letters required",
    "require_uppercase": "uppercase letters required",
    "require_numbers": "digits required",
    "require_symbols": "symbols required",
    "max_age_days": "maximum age (days)",
    "reuse_prevention": "earlier passwords refused",
    "max_failed_attempts": "failed sign-ins before a lock",
    "hard_expiry": "expired passwords block sign-in",
}


@describes("security_settings.update", family=SETTINGS, label="Security settings changed")
def _security_settings(event: AuditEvent) -> str:
    changed = details_of(event)["changed"]
    if not changed:
        return "Saved the security settings without changes"
    return f"Changed the security settings: {changes_text(changed, SECURITY_SETTING_LABELS)}"


@describes("password_policy.update", family=SETTINGS, label="Password policy changed")
def _password_policy(event: AuditEvent) -> str:
    changed = details_of(event)["changed"]
    if not changed:
        return "Saved the password policy without changes"
    return f"Changed the password policy: {changes_text(changed, PASSWORD_POLICY_LABELS)}"


# --- RAM users --------------------------------------------------------------------------------------

RAM_USERS = "RAM users"
PROFILE_LABELS = {
    "name": "user name",
    "display_name": "display name",
    "email": "email",
    "mobile_phone": "mobile phone",
    "comments": "comments",
}


@describes("ram_user.create", family=RAM_USERS, label="RAM user created")
def _user_created(event: AuditEvent) -> str:
    facts = details_of(event)
    if facts.get("console_logon"):
        how = "a generated" if facts.get("password_generated") else "a typed"
        logon = f"console logon enabled with {how} password"
    elif facts.get("invited"):
        logon = "invited by email to choose a console password"
    else:
        logon = "console logon off"
    return joined(
        f"Created the RAM user “{facts['display_name']}”",
        [
            logon,
            "password reset required at next logon" if facts.get("reset_required") else "",
            "MFA required at next logon" if facts.get("mfa_required") else "",
            f"AccessKey {facts['access_key_id']} created" if facts.get("access_key_id") else "",
            f"sealed in {packet_text(facts['delivery_packet'])}" if facts.get("delivery_packet") else "",
        ],
    )


@describes("ram_user.update", family=RAM_USERS, label="RAM user changed")
def _user_updated(event: AuditEvent) -> str:
    facts = details_of(event)
    text = f"Changed the user's {changes_text(facts['changed'], PROFILE_LABELS)}"
    return f"{text}; renamed to {facts['new_name']}" if facts.get("new_name") else text


@describes("ram_user.delete", family=RAM_USERS, label="RAM user deleted")
def _user_deleted(event: AuditEvent) -> str:
    facts = details_of(event)
    policies, keys = facts.get("detached_policies") or [], facts.get("deleted_access_keys") or []
    groups = facts.get("left_groups") or []
    return joined(
        "Deleted the RAM user",
        [
            f"detached {', '.join(policies)}" if policies else "",
            f"deleted AccessKey{'s' if len(keys) > 1 else ''} {', '.join(keys)}" if keys else "",
            f"left group{'s' if len(groups) > 1 else ''} {', '.join(groups)}" if groups else "",
        ],
    )


# --- Console logon and passwords --------------------------------------------------------------------

LOGON = "Console logon and passwords"


def _logon_facts(facts: Mapping[str, Any]) -> list[str]:
    password = ""
    if facts.get("password_changed"):
        password = "new generated password" if facts.get("password_generated") else "new typed password"
    return [
        password,
        "password reset required at next logon" if facts.get("reset_required") else "",
        "MFA required at next logon" if facts.get("mfa_required") else "",
        f"sealed in {packet_text(facts['delivery_packet'])}" if facts.get("delivery_packet") else "",
    ]


@describes("console_logon.enable", family=LOGON, label="Console logon enabled")
def _logon_enabled(event: AuditEvent) -> str:
    facts = details_of(event)
    return joined("Enabled console logon", _logon_facts(facts)) + superseded_text(facts)


@describes("console_logon.update", family=LOGON, label="Logon settings changed")
def _logon_updated(event: AuditEvent) -> str:
    facts = details_of(event)
    return joined("Modified the logon settings", _logon_facts(facts)) + superseded_text(facts)


@describes("console_logon.disable", family=LOGON, label="Console logon disabled")
def _logon_disabled(event: AuditEvent) -> str:
    return "Disabled console logon" + superseded_text(details_of(event))


@describes("password.change", family=LOGON, label="Own password changed")
def _password_changed(event: AuditEvent) -> str:
    return "Changed their own password" + superseded_text(details_of(event))


# --- MFA --------------------------------------------------------------------------------------------

MFA = "MFA"
says("mfa.seed_shown", "Started binding an MFA device: its key was shown", family=MFA, label="MFA key shown")
says("mfa.bind", "Bound the MFA device “{device}”", family=MFA, label="MFA device bound")
says("mfa.failed", "MFA binding failed: the code did not match", family=MFA, label="MFA binding failed")
says("mfa.unbind", "Unbound the MFA device", family=MFA, label="MFA device unbound")


@describes("mfa.reset", family=MFA, label="MFA reset")
def _mfa_reset(event: AuditEvent) -> str:
    devices = details_of(event).get("devices") or []
    return joined(
        "Reset MFA: removed every device and the backup codes; a new device is required at next logon",
        [f"devices {', '.join(devices)}" if devices else ""],
    )


says("mfa.device_remove", "Removed the MFA device “{device}”", family=MFA, label="MFA device removed")


says("mfa.passkey_add", "Added the passkey “{device}”", family=MFA, label="Passkey added")


says("mfa.passkey_remove", "Removed the passkey “{device}”", family=MFA, label="Passkey removed")
says("mfa.backup_codes_regenerated", "Generated new backup codes", family=MFA, label="Backup codes regenerated")


says("mfa.device_create", "Created the virtual MFA device “{device}”", family=MFA, label="Virtual MFA device created")


says("mfa.device_delete", "Deleted the virtual MFA device “{device}”", family=MFA, label="Virtual MFA device deleted")


# --- Policies ---------------------------------------------------------------------------------------

POLICIES = "Policies"


says("policy.attach", "Attached the policy {policy}", family=POLICIES, label="Policy attached")


says("policy.detach", "Detached the policy {policy}", family=POLICIES, label="Policy detached")


# --- Groups -----------------------------------------------------------------------------------------

GROUPS = "Groups"


says("group.create", "Created the group", family=GROUPS, label="Group created")


@describes("group.update", family=GROUPS, label="Group changed")
def _group_updated(event: AuditEvent) -> str:
    facts = details_of(event)
    changed = ", ".join(str(field).replace("_", " ") for field in facts.get("changed") or [])
    renamed = f"; renamed it to {facts['new_name']}" if facts.get("new_name") else ""
    return f"Changed the group's {changed}{renamed}"


@describes("group.delete", family=GROUPS, label="Group deleted")
def _group_deleted(event: AuditEvent) -> str:
    facts = details_of(event)
    members, policies = facts.get("removed_members") or [], facts.get("detached_policies") or []
    roles = facts.get("revoked_project_roles") or []
    return joined(
        "Deleted the group",
        [
            f"removed {', '.join(members)}" if members else "",
            f"detached {', '.join(policies)}" if policies else "",
            f"revoked {'; '.join(roles)}" if roles else "",
        ],
    )


says("group.member_add", "Added to the group {group}", family=GROUPS, label="Added to a group")


says("group.member_remove", "Removed from the group {group}", family=GROUPS, label="Removed from a group")


says("group.policy_attach", "Attached the policy {policy}", family=GROUPS, label="Policy attached to a group")


says("group.policy_detach", "Detached the policy {policy}", family=GROUPS, label="Policy detached from a group")


# --- AccessKeys -------------------------------------------------------------------------------------

ACCESS_KEYS = "AccessKeys"


@describes("access_key.create", family=ACCESS_KEYS, label="AccessKey created")
def _key_created(event: AuditEvent) -> str:
    facts = details_of(event)
    packet = facts.get("delivery_packet")
    return f"Created AccessKey {facts['access_key_id']}" + (f", sealed in {packet_text(packet)}" if packet else "")


says("access_key.enable", "Enabled AccessKey {access_key_id}", family=ACCESS_KEYS, label="AccessKey enabled")


says("access_key.disable", "Disabled AccessKey {access_key_id}", family=ACCESS_KEYS, label="AccessKey disabled")


@describes("access_key.delete", family=ACCESS_KEYS, label="AccessKey deleted")
def _key_deleted(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"Deleted AccessKey {facts['access_key_id']}" + superseded_text(facts)


# --- Delivery packets and one-time pages -----------------------------------------------------------

PACKETS = "Delivery packets"
PRINT_CHANNELS = {"printed": "Printed", "pdf": "Downloaded as PDF"}


@describes("packet.instructions", family=PACKETS, label="Sign-in instructions prepared")
def _instructions(event: AuditEvent) -> str:
    return f"Prepared sign-in instructions in {packet_text(details_of(event)['packet'])}"


@describes("packet.shown", family=PACKETS, label="Packet shown")
def _packet_shown(event: AuditEvent) -> str:
    return f"Showed {packet_text(details_of(event)['packet'])} on the issuing page"


@describes("packet.printed", family=PACKETS, label="Packet printed")
def _packet_printed(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"{PRINT_CHANNELS.get(facts.get('channel', ''), 'Printed')}: {packet_text(facts['packet'])}"


@describes("packet.email_queued", family=PACKETS, label="Packet queued for email")
def _packet_queued(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"Queued {packet_text(facts['packet'])} for email to {facts['to']}"


@describes("packet.sent", family=PACKETS, label="Packet emailed")
def _packet_sent(event: AuditEvent) -> str:
    facts = details_of(event)
    if facts.get("invitation"):
        return f"Emailed the invitation {packet_text(facts['packet'])} to {facts['to']}"
    return f"Emailed {packet_text(facts['packet'])} to {facts['to']}, with a claim link"


@describes("packet.invitation", family=PACKETS, label="Invitation queued")
def _invitation(event: AuditEvent) -> str:
    facts = details_of(event)
    replaces = facts.get("replaces")
    return joined(
        f"Invited the user by email ({facts['to']}) to choose a console password, in {packet_text(facts['packet'])}",
        [f"the earlier invitation ({packets_text(replaces)}) stops working" if replaces else ""],
    )


@describes("packet.invitation_accepted", family=PACKETS, label="Invitation accepted")
def _invitation_accepted(event: AuditEvent) -> str:
    facts = details_of(event)
    return joined(
        f"Accepted the invitation {packet_text(facts['packet'])}: chose a console password; console logon enabled",
        ["MFA to be bound at this sign-in" if facts.get("mfa_required") else ""],
    )


@describes("packet.claimed", family=PACKETS, label="Packet claimed")
def _packet_claimed(event: AuditEvent) -> str:
    return f"Claimed {packet_text(details_of(event)['packet'])} through its link: secrets shown once and wiped"


@describes("packet.expired", family=PACKETS, label="Claim or invitation link expired")
def _packet_expired(event: AuditEvent) -> str:
    return f"The link of {packet_text(details_of(event)['packet'])} expired"


@describes("packet.revoked", family=PACKETS, label="Packet revoked")
def _packet_revoked(event: AuditEvent) -> str:
    return f"Revoked {packet_text(details_of(event)['packet'])}"


def _one_time_page(facts: Mapping[str, Any]) -> str:
    kind = facts.get("kind", "")
    label = OneTimeReveal.Kind(kind).label if kind in OneTimeReveal.Kind.values else str(kind)
    users = facts.get("ram_users")
    return joined(
        f"the one-time page “{label}”",
        [
            f"AccessKey {facts['access_key_id']}" if facts.get("access_key_id") else "",
            f"{len(users)} user{'s' if len(users) != 1 else ''}" if isinstance(users, list) else "",
            packet_text(facts["packet"]) if facts.get("packet") else "",
        ],
    )


@describes("secrets.shown", family=PACKETS, label="Secrets shown once")
def _secrets_shown(event: AuditEvent) -> str:
    return f"Opened {_one_time_page(details_of(event))}"


@describes("secrets.expired_unseen", family=PACKETS, label="Secrets expired unseen")
def _secrets_expired(event: AuditEvent) -> str:
    return f"Wiped unseen: {_one_time_page(details_of(event))}"


# --- Actor and target -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """An event's actor or target as the trail shows it: a name, its full form, and its page if it has one."""

    text: str
    title: str = ""  # the full name, shown on hover
    url: str = ""
    note: str = ""  # a line under it: the principal an anonymous actor tried


@dataclass(frozen=True)
class TrailRow:
    event: AuditEvent
    sentence: str
    actor: Party
    target: Party


class _People:
    """The RAM users and the owner that some events name, found in two queries however many events there are."""

    def __init__(self, account: PrimaryAccount, names: Iterable[str]) -> None:
        self.account = account
        self.owner_email = (account.owner.email or "").lower()
        wanted = {name.lower() for name in map(self.user_name, names) if name}
        self.users = {
            lowered: (pk, name)
            for lowered, pk, name in RamUser.objects.for_account(account)
            .annotate(lowered=Lower("name"))
            .filter(lowered__in=wanted)
            .values_list("lowered", "pk", "name")
        }

    def user_name(self, text: str) -> str | None:
        """The RAM user of this account that `text` names: its principal, its sign-in identity or a logon name."""
        account_id = self.account.account_id
        if text.startswith(f"RAM${account_id}:"):
            name = text.removeprefix(f"RAM${account_id}:")
        elif text.startswith(f"{account_id}:"):
            name = text.removeprefix(f"{account_id}:")
        elif text.lower().endswith(f".{settings.PORTAL_DOMAIN_SUFFIX}".lower()) and "@" in text:
            # Any logon domain of the portal: an event of this account names only its own users, under the alias
            # they had then.
            name = text.rpartition("@")[0]
        else:
            return None
        # Only names a user can have: they are ASCII, so the database lowers them as Python does.
        return name if re.fullmatch(USER_NAME_RE, name) else None

    def is_owner(self, text: str) -> bool:
        lowered = text.lower()
        return text == self.account.principal or (
            bool(self.owner_email) and lowered in {self.owner_email, f"owner:{self.owner_email}"}
        )

    def party(self, text: str, *, is_actor: bool = False) -> Party:
        if self.is_owner(text):
            title = f"{self.account.principal} · {self.owner_email}"
            return Party(text="Owner", title=title, url=reverse("accounts:overview"))
        name = self.user_name(text)
        if name is not None:
            pk, name = self.users.get(name.lower(), (None, name))
            principal = f"RAM${self.account.account_id}:{name}"
            return Party(text=name, title=principal, url=reverse("accounts:user-detail", args=[pk]) if pk else "")
        if is_actor and text:  # a label: the operator, the mail worker, a claim link
            return Party(text=text[:1].upper() + text[1:], title=text)
        return Party(text=text or "—", title=text)


def trail_rows(events: Iterable[AuditEvent], account: PrimaryAccount) -> list[TrailRow]:
    """The events in words, their actors and targets linked to their pages, in a fixed number of queries."""
    events = list(events)
    people = _People(account, [name for event in events for name in (event.actor, _target_name(event))])
    rows = []
    for event in events:
        if event.action in ANONYMOUS_ACTIONS:
            actor = Party(text="Anonymous", title="A sign-in by nobody known", note=f"tried {tried_text(event)}")
        else:
            actor = people.party(event.actor, is_actor=True)
        rows.append(TrailRow(event, sentence(event), actor, people.party(_target_name(event))))
    return rows


def _target_name(event: AuditEvent) -> str:
    # A failed sign-in's target is what the sign-in tried, shown as the principal it names.
    return tried_principal(event) if event.action in ANONYMOUS_ACTIONS else event.target
