"""The audit trail in words: each event's sentence, and its actor and target as the people they name.

Every action the portal records is registered here with a label (the trail's filter lists them) and a function
that turns the event's details into a sentence. `projects` registers its own actions when its app is ready
(projects.audit_text), so that this module describes them without knowing them.

Labels and families are marked for translation when they are registered (gettext_lazy) and read when a page shows
them; sentences are made in the language of the page (gettext). The stored action names and details stay as stored.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.models import USER_NAME_RE, OneTimeReveal, PrimaryAccount, RamUser
from accounts.sealing import sealed_columns
from portal.models import AuditEvent

type Describe = Callable[[AuditEvent], str]


@dataclass(frozen=True)
class KnownAction:
    action: str
    family: StrOrPromise  # the group it is listed under in the filter: "Policies", "Sign-in", …
    label: StrOrPromise  # how the filter lists it: "Policy attached"
    describe: Describe


_KNOWN: dict[str, KnownAction] = {}


def describes(action: str, *, family: StrOrPromise, label: StrOrPromise) -> Callable[[Describe], Describe]:
    """Registers the decorated function as the sentence of `action`."""

    def register(describe: Describe) -> Describe:
        if action in _KNOWN:
            raise ImproperlyConfigured(f"The audit action {action} is described twice.")
        _KNOWN[action] = KnownAction(action=action, family=family, label=label, describe=describe)
        return describe

    return register


def says(action: str, text: StrOrPromise, *, family: StrOrPromise, label: StrOrPromise) -> None:
    """Registers an action whose sentence is `text` (translated when it is read) with the event's details filled in
    (`{policy}`); an event whose details lack one reads as the generic sentence."""
    describes(action, family=family, label=label)(lambda event: str(text).format_map(details_of(event)))


def action_choices() -> list[tuple[str, Any]]:
    """The known actions for a select, grouped by family in the order they were registered."""
    families: dict[str, list[tuple[str, str]]] = {}
    for known in _KNOWN.values():
        families.setdefault(str(known.family), []).append((known.action, str(known.label)))
    return [("", _("Any action")), *families.items()]


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
    label = str(known.label) if known else event.action
    facts = details_of(event)
    if not facts:
        return label
    # Sorted: PostgreSQL's jsonb keeps keys in an order of its own. The keys are shown as stored.
    listed = pgettext("separator between an event's facts", ", ").join(
        f"{key} {shown(facts[key])}" for key in sorted(facts)
    )
    return headed(label, listed)


# --- Reading details --------------------------------------------------------------------------------


def details_of(event: AuditEvent) -> Mapping[str, Any]:
    return event.details if isinstance(event.details, dict) else {}


def names(items: Iterable[object]) -> str:
    """Names, IDs or values in a list: "a, b, c"."""
    return pgettext("list separator", ", ").join(str(item) for item in items)


def clauses(parts: Iterable[str]) -> str:
    """The clauses of a sentence: "a; b; c"."""
    return pgettext("clause separator", "; ").join(parts)


def headed(head: str, rest: str) -> str:
    """A sentence's head and what follows it: "head: rest"."""
    return pgettext("audit sentence", "%(head)s: %(rest)s") % {"head": head, "rest": rest}


def shown(value: object) -> str:
    """A setting's value as a person reads it."""
    if isinstance(value, bool):
        return pgettext("setting value", "on") if value else pgettext("setting value", "off")
    if isinstance(value, list | tuple):
        return names(value) or pgettext("setting value", "none")
    return pgettext("setting value", "none") if value is None or value == "" else str(value)


def changes_text(changed: object, labels: Mapping[str, StrOrPromise]) -> str:
    """ "label before → after; …" for `{field: {"before": …, "after": …}}`. Events written before the values
    were recorded carry the new value alone (`{field: value}`), or only the names of the fields (`[field, …]`)."""
    if isinstance(changed, list):
        return names(labels.get(field, field.replace("_", " ")) for field in changed)
    if not isinstance(changed, dict):
        raise TypeError("changed")
    parts = []
    # In the order the settings page lists them (PostgreSQL's jsonb keeps keys in an order of its own).
    order = {field: index for index, field in enumerate(labels)}
    for field in sorted(changed, key=lambda field: (order.get(field, len(order)), field)):
        change, label = changed[field], str(labels.get(field, field.replace("_", " ")))
        if isinstance(change, dict) and {"before", "after"} <= change.keys():
            parts.append(
                _("%(setting)s %(before)s → %(after)s")
                % {"setting": label, "before": shown(change["before"]), "after": shown(change["after"])}
            )
        else:
            parts.append(_("%(setting)s set to %(value)s") % {"setting": label, "value": shown(change)})
    return clauses(parts)


def packet_text(number: object) -> str:
    return _("packet #%(number)s") % {"number": number}


def packets_text(numbers: Iterable[object]) -> str:
    listed = [f"#{number}" for number in numbers]
    return ngettext("packet %(numbers)s", "packets %(numbers)s", len(listed)) % {"numbers": names(listed)}


def superseded_text(facts: Mapping[str, Any]) -> str:
    """A clause to add to a sentence ("…; the old secrets were taken out of packet #3"), or ""."""
    superseded = facts.get("superseded_packets")
    if not superseded:
        return ""
    clause = _("the old secrets were taken out of %(packets)s") % {"packets": packets_text(superseded)}
    return pgettext("clause separator", "; ") + clause


def joined(head: str, parts: Iterable[str]) -> str:
    rest = [part for part in parts if part]
    return headed(head, clauses(rest)) if rest else head


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
    return tried_principal(event) or _("a logon name of another domain")


SIGN_IN_REFUSALS: dict[str, StrOrPromise] = {
    "wrong_password": gettext_lazy("wrong password"),
    "unknown": gettext_lazy("no such user, or its console logon is off"),
    "locked": gettext_lazy("locked after too many failed attempts from this address"),
    "guessing_locked": gettext_lazy("locked against password guessing"),
    "wrong_code": gettext_lazy("wrong MFA code while locked against password guessing"),
    "network_not_allowed": gettext_lazy("the source address is outside the logon IP masks"),
    "password_expired": gettext_lazy("the password has expired"),
}

SIGN_IN = gettext_lazy("Sign-in")


@describes("sign_in.failed", family=SIGN_IN, label=gettext_lazy("Sign-in failed"))
def _sign_in_failed(event: AuditEvent) -> str:
    reason = details_of(event).get("reason", "")
    refusal = SIGN_IN_REFUSALS.get(reason, reason or _("no reason given"))
    return _("Sign-in as %(principal)s refused: %(reason)s") % {"principal": tried_text(event), "reason": refusal}


@describes("sign_in.guessing_locked", family=SIGN_IN, label=gettext_lazy("Locked against password guessing"))
def _guessing_locked(event: AuditEvent) -> str:
    facts = details_of(event)
    return _("%(principal)s locked against password guessing after %(failures)s failed attempts in a row") % {
        "principal": tried_text(event),
        "failures": facts["failures"],
    }


says("sign_in.success", gettext_lazy("Signed in"), family=SIGN_IN, label=gettext_lazy("Signed in"))


@describes("sign_in.unlock", family=SIGN_IN, label=gettext_lazy("Sign-in lock cleared"))
def _unlock(event: AuditEvent) -> str:
    facts = details_of(event)
    sources = facts.get("locked_sources") or 0
    lifted = [_("the lock against password guessing")] if facts.get("guessing_lock") else []
    if sources:
        lifted.append(
            ngettext("the locks on %(count)s source address", "the locks on %(count)s source addresses", sources)
            % {"count": sources}
        )
    if not lifted:
        return _("Cleared the sign-in lock")
    locks = lifted[0] if len(lifted) == 1 else _("%(first)s and %(second)s") % {"first": lifted[0], "second": lifted[1]}
    return _("Cleared the sign-in lock: %(locks)s") % {"locks": locks}


says(
    "otp.failed",
    gettext_lazy("Entered a wrong one-time code"),
    family=SIGN_IN,
    label=gettext_lazy("Wrong one-time code"),
)
says(
    "sign_out.everywhere",
    gettext_lazy("Signed out of every session"),
    family=SIGN_IN,
    label=gettext_lazy("Signed out everywhere"),
)


# --- The primary account ----------------------------------------------------------------------------

ACCOUNT = gettext_lazy("Primary account")


@describes("account.create", family=ACCOUNT, label=gettext_lazy("Primary account created"))
def _account_created(event: AuditEvent) -> str:
    facts = details_of(event)
    return _("Created the primary account “%(name)s” for %(email)s") % {"name": facts["name"], "email": facts["email"]}


@describes("alias.set", family=ACCOUNT, label=gettext_lazy("Enterprise alias set"))
def _alias_set(event: AuditEvent) -> str:
    facts = details_of(event)
    if not facts.get("old"):
        return _("Set the enterprise alias to %(alias)s") % {"alias": facts["new"]}
    return _("Changed the enterprise alias from %(old)s to %(new)s") % {"old": facts["old"], "new": facts["new"]}


says(
    "alias.clear",
    gettext_lazy("Cleared the enterprise alias {old}"),
    family=ACCOUNT,
    label=gettext_lazy("Enterprise alias cleared"),
)
says(
    "credential_report.generate",
    gettext_lazy("Generated the credential report ({users} RAM users)"),
    family=ACCOUNT,
    label=gettext_lazy("Credential report generated"),
)


@describes("keyring.rotate", family=ACCOUNT, label=gettext_lazy("Secrets re-encrypted"))
def _keyring_rotated(event: AuditEvent) -> str:
    facts = details_of(event)
    counts: dict[str, StrOrPromise] = {
        "resealed_access_keys": pgettext_lazy("counted", "AccessKeys"),
        "resealed_authenticators": pgettext_lazy("counted", "MFA devices"),
        "resealed_packets": pgettext_lazy("counted", "delivery packets"),
        "resealed_one_time_pages": pgettext_lazy("counted", "one-time pages"),
        **{f"resealed_{column.key}": column.noun for column in sealed_columns()},
    }
    return joined(
        _("Re-encrypted the stored secrets with the current key"),
        (
            pgettext("a number of things", "%(count)s %(things)s") % {"count": facts[key], "things": noun}
            for key, noun in counts.items()
            if key in facts
        ),
    )


# --- Settings ---------------------------------------------------------------------------------------

SETTINGS = gettext_lazy("Settings")
SECURITY_SETTING_LABELS: dict[str, StrOrPromise] = {
    "allow_change_password": gettext_lazy("users may change their password"),
    "allow_manage_access_keys": gettext_lazy("users may manage their AccessKeys"),
    "allow_manage_mfa": gettext_lazy("users may manage their MFA devices"),
    "remember_mfa_for_7_days": gettext_lazy("remember MFA for 7 days"),
    "session_hours": gettext_lazy("logon session duration (hours)"),
    "logon_ip_masks": gettext_lazy("logon IP masks"),
}
PASSWORD_POLICY_LABELS: dict[str, StrOrPromise] = {
    "minimum_length": gettext_lazy("minimum length"),
    "require_lowercase": gettext_lazy("lowercase letters required"),
    "require_uppercase": gettext_lazy("uppercase letters required"),
    "require_numbers": gettext_lazy("digits required"),
    "require_symbols": gettext_lazy("symbols required"),
    "max_age_days": gettext_lazy("maximum age (days)"),
    "reuse_prevention": gettext_lazy("earlier passwords refused"),
    "max_failed_attempts": gettext_lazy("failed sign-ins before a lock"),
    "hard_expiry": gettext_lazy("expired passwords block sign-in"),
}


@describes("security_settings.update", family=SETTINGS, label=gettext_lazy("Security settings changed"))
def _security_settings(event: AuditEvent) -> str:
    changed = details_of(event)["changed"]
    if not changed:
        return _("Saved the security settings without changes")
    return _("Changed the security settings: %(changes)s") % {"changes": changes_text(changed, SECURITY_SETTING_LABELS)}


@describes("password_policy.update", family=SETTINGS, label=gettext_lazy("Password policy changed"))
def _password_policy(event: AuditEvent) -> str:
    changed = details_of(event)["changed"]
    if not changed:
        return _("Saved the password policy without changes")
    return _("Changed the password policy: %(changes)s") % {"changes": changes_text(changed, PASSWORD_POLICY_LABELS)}


# --- RAM users --------------------------------------------------------------------------------------

RAM_USERS = gettext_lazy("RAM users")
PROFILE_LABELS: dict[str, StrOrPromise] = {
    "name": pgettext_lazy("changed field", "user name"),
    "display_name": pgettext_lazy("changed field", "display name"),
    "email": pgettext_lazy("changed field", "email"),
    "mobile_phone": pgettext_lazy("changed field", "mobile phone"),
    "comments": pgettext_lazy("changed field", "comments"),
    "language": pgettext_lazy("changed field", "language"),
}


def _required_at_next_logon(facts: Mapping[str, Any]) -> list[str]:
    return [
        _("password reset required at next logon") if facts.get("reset_required") else "",
        _("MFA required at next logon") if facts.get("mfa_required") else "",
    ]


def _sealed_in(facts: Mapping[str, Any]) -> str:
    packet = facts.get("delivery_packet")
    return _("sealed in %(packet)s") % {"packet": packet_text(packet)} if packet else ""


@describes("ram_user.create", family=RAM_USERS, label=gettext_lazy("RAM user created"))
def _user_created(event: AuditEvent) -> str:
    facts = details_of(event)
    if facts.get("console_logon"):
        if facts.get("password_generated"):
            logon = _("console logon enabled with a generated password")
        else:
            logon = _("console logon enabled with a typed password")
    elif facts.get("invited"):
        logon = _("invited by email to choose a console password")
    else:
        logon = _("console logon off")
    key = facts.get("access_key_id")
    return joined(
        _("Created the RAM user “%(name)s”") % {"name": facts["display_name"]},
        [
            logon,
            *_required_at_next_logon(facts),
            _("AccessKey %(access_key_id)s created") % {"access_key_id": key} if key else "",
            _sealed_in(facts),
        ],
    )


@describes("ram_user.update", family=RAM_USERS, label=gettext_lazy("RAM user changed"))
def _user_updated(event: AuditEvent) -> str:
    facts = details_of(event)
    text = _("Changed the user's %(fields)s") % {"fields": changes_text(facts["changed"], PROFILE_LABELS)}
    if not facts.get("new_name"):
        return text
    return clauses([text, _("renamed to %(name)s") % {"name": facts["new_name"]}])


@describes("ram_user.delete", family=RAM_USERS, label=gettext_lazy("RAM user deleted"))
def _user_deleted(event: AuditEvent) -> str:
    facts = details_of(event)
    policies, keys = facts.get("detached_policies") or [], facts.get("deleted_access_keys") or []
    groups = facts.get("left_groups") or []
    return joined(
        _("Deleted the RAM user"),
        [
            _("detached %(policies)s") % {"policies": names(policies)} if policies else "",
            ngettext("deleted AccessKey %(keys)s", "deleted AccessKeys %(keys)s", len(keys)) % {"keys": names(keys)}
            if keys
            else "",
            ngettext("left group %(groups)s", "left groups %(groups)s", len(groups)) % {"groups": names(groups)}
            if groups
            else "",
        ],
    )


# --- Console logon and passwords --------------------------------------------------------------------

LOGON = gettext_lazy("Console logon and passwords")


def _logon_facts(facts: Mapping[str, Any]) -> list[str]:
    password = ""
    if facts.get("password_changed"):
        password = _("new generated password") if facts.get("password_generated") else _("new typed password")
    return [password, *_required_at_next_logon(facts), _sealed_in(facts)]


@describes("console_logon.enable", family=LOGON, label=gettext_lazy("Console logon enabled"))
def _logon_enabled(event: AuditEvent) -> str:
    facts = details_of(event)
    return joined(_("Enabled console logon"), _logon_facts(facts)) + superseded_text(facts)


@describes("console_logon.update", family=LOGON, label=gettext_lazy("Logon settings changed"))
def _logon_updated(event: AuditEvent) -> str:
    facts = details_of(event)
    return joined(_("Modified the logon settings"), _logon_facts(facts)) + superseded_text(facts)


@describes("console_logon.disable", family=LOGON, label=gettext_lazy("Console logon disabled"))
def _logon_disabled(event: AuditEvent) -> str:
    return _("Disabled console logon") + superseded_text(details_of(event))


@describes("password.change", family=LOGON, label=gettext_lazy("Own password changed"))
def _password_changed(event: AuditEvent) -> str:
    return _("Changed their own password") + superseded_text(details_of(event))


# --- MFA --------------------------------------------------------------------------------------------

MFA = "MFA"
says(
    "mfa.seed_shown",
    gettext_lazy("Started binding an MFA device: its key was shown"),
    family=MFA,
    label=gettext_lazy("MFA key shown"),
)
says("mfa.bind", gettext_lazy("Bound the MFA device “{device}”"), family=MFA, label=gettext_lazy("MFA device bound"))
says(
    "mfa.failed",
    gettext_lazy("MFA binding failed: the code did not match"),
    family=MFA,
    label=gettext_lazy("MFA binding failed"),
)
says("mfa.unbind", gettext_lazy("Unbound the MFA device"), family=MFA, label=gettext_lazy("MFA device unbound"))


@describes("mfa.reset", family=MFA, label=gettext_lazy("MFA reset"))
def _mfa_reset(event: AuditEvent) -> str:
    devices = details_of(event).get("devices") or []
    return joined(
        _("Reset MFA: removed every device and the backup codes; a new device is required at next logon"),
        [_("devices %(devices)s") % {"devices": names(devices)} if devices else ""],
    )


says(
    "mfa.device_remove",
    gettext_lazy("Removed the MFA device “{device}”"),
    family=MFA,
    label=gettext_lazy("MFA device removed"),
)


says("mfa.passkey_add", gettext_lazy("Added the passkey “{device}”"), family=MFA, label=gettext_lazy("Passkey added"))


says(
    "mfa.passkey_remove",
    gettext_lazy("Removed the passkey “{device}”"),
    family=MFA,
    label=gettext_lazy("Passkey removed"),
)
says(
    "mfa.backup_codes_regenerated",
    gettext_lazy("Generated new backup codes"),
    family=MFA,
    label=gettext_lazy("Backup codes regenerated"),
)


says(
    "mfa.device_create",
    gettext_lazy("Created the virtual MFA device “{device}”"),
    family=MFA,
    label=gettext_lazy("Virtual MFA device created"),
)


says(
    "mfa.device_delete",
    gettext_lazy("Deleted the virtual MFA device “{device}”"),
    family=MFA,
    label=gettext_lazy("Virtual MFA device deleted"),
)


# --- Policies ---------------------------------------------------------------------------------------

POLICIES = gettext_lazy("Policies")


says(
    "policy.attach",
    gettext_lazy("Attached the policy {policy}"),
    family=POLICIES,
    label=gettext_lazy("Policy attached"),
)


says(
    "policy.detach",
    gettext_lazy("Detached the policy {policy}"),
    family=POLICIES,
    label=gettext_lazy("Policy detached"),
)


# --- Groups -----------------------------------------------------------------------------------------

GROUPS = gettext_lazy("Groups")
GROUP_LABELS: dict[str, StrOrPromise] = {
    "name": pgettext_lazy("changed field", "name"),
    "display_name": pgettext_lazy("changed field", "display name"),
    "comments": pgettext_lazy("changed field", "comments"),
    "language": pgettext_lazy("changed field", "language"),
}


says("group.create", gettext_lazy("Created the group"), family=GROUPS, label=gettext_lazy("Group created"))


@describes("group.update", family=GROUPS, label=gettext_lazy("Group changed"))
def _group_updated(event: AuditEvent) -> str:
    facts = details_of(event)
    fields = [str(field) for field in facts.get("changed") or []]
    changed = names(GROUP_LABELS.get(field, field.replace("_", " ")) for field in fields)
    text = _("Changed the group's %(fields)s") % {"fields": changed}
    if not facts.get("new_name"):
        return text
    return clauses([text, _("renamed it to %(name)s") % {"name": facts["new_name"]}])


@describes("group.delete", family=GROUPS, label=gettext_lazy("Group deleted"))
def _group_deleted(event: AuditEvent) -> str:
    facts = details_of(event)
    members, policies = facts.get("removed_members") or [], facts.get("detached_policies") or []
    roles = facts.get("revoked_project_roles") or []
    return joined(
        _("Deleted the group"),
        [
            _("removed %(members)s") % {"members": names(members)} if members else "",
            _("detached %(policies)s") % {"policies": names(policies)} if policies else "",
            _("revoked %(roles)s") % {"roles": clauses(roles)} if roles else "",
        ],
    )


says(
    "group.member_add",
    gettext_lazy("Added to the group {group}"),
    family=GROUPS,
    label=gettext_lazy("Added to a group"),
)


says(
    "group.member_remove",
    gettext_lazy("Removed from the group {group}"),
    family=GROUPS,
    label=gettext_lazy("Removed from a group"),
)


says(
    "group.policy_attach",
    gettext_lazy("Attached the policy {policy}"),
    family=GROUPS,
    label=gettext_lazy("Policy attached to a group"),
)


says(
    "group.policy_detach",
    gettext_lazy("Detached the policy {policy}"),
    family=GROUPS,
    label=gettext_lazy("Policy detached from a group"),
)


# --- AccessKeys -------------------------------------------------------------------------------------

ACCESS_KEYS = gettext_lazy("AccessKeys")


@describes("access_key.create", family=ACCESS_KEYS, label=gettext_lazy("AccessKey created"))
def _key_created(event: AuditEvent) -> str:
    facts = details_of(event)
    packet = facts.get("delivery_packet")
    if packet:
        return _("Created AccessKey %(access_key_id)s, sealed in %(packet)s") % {
            "access_key_id": facts["access_key_id"],
            "packet": packet_text(packet),
        }
    return _("Created AccessKey %(access_key_id)s") % {"access_key_id": facts["access_key_id"]}


says(
    "access_key.enable",
    gettext_lazy("Enabled AccessKey {access_key_id}"),
    family=ACCESS_KEYS,
    label=gettext_lazy("AccessKey enabled"),
)


says(
    "access_key.disable",
    gettext_lazy("Disabled AccessKey {access_key_id}"),
    family=ACCESS_KEYS,
    label=gettext_lazy("AccessKey disabled"),
)


@describes("access_key.delete", family=ACCESS_KEYS, label=gettext_lazy("AccessKey deleted"))
def _key_deleted(event: AuditEvent) -> str:
    facts = details_of(event)
    return _("Deleted AccessKey %(access_key_id)s") % {"access_key_id": facts["access_key_id"]} + superseded_text(facts)


# --- Delivery packets and one-time pages -----------------------------------------------------------

PACKETS = gettext_lazy("Delivery packets")
PRINT_CHANNELS: dict[str, StrOrPromise] = {"printed": gettext_lazy("Printed"), "pdf": gettext_lazy("Downloaded as PDF")}


@describes("packet.instructions", family=PACKETS, label=gettext_lazy("Sign-in instructions prepared"))
def _instructions(event: AuditEvent) -> str:
    return _("Prepared sign-in instructions in %(packet)s") % {"packet": packet_text(details_of(event)["packet"])}


@describes("packet.shown", family=PACKETS, label=gettext_lazy("Packet shown"))
def _packet_shown(event: AuditEvent) -> str:
    return _("Showed %(packet)s on the issuing page") % {"packet": packet_text(details_of(event)["packet"])}


@describes("packet.printed", family=PACKETS, label=gettext_lazy("Packet printed"))
def _packet_printed(event: AuditEvent) -> str:
    facts = details_of(event)
    how = PRINT_CHANNELS.get(facts.get("channel", ""), PRINT_CHANNELS["printed"])
    return headed(str(how), packet_text(facts["packet"]))


@describes("packet.email_queued", family=PACKETS, label=gettext_lazy("Packet queued for email"))
def _packet_queued(event: AuditEvent) -> str:
    facts = details_of(event)
    return _("Queued %(packet)s for email to %(to)s") % {"packet": packet_text(facts["packet"]), "to": facts["to"]}


@describes("packet.sent", family=PACKETS, label=gettext_lazy("Packet emailed"))
def _packet_sent(event: AuditEvent) -> str:
    facts = details_of(event)
    values = {"packet": packet_text(facts["packet"]), "to": facts["to"]}
    if facts.get("invitation"):
        return _("Emailed the invitation %(packet)s to %(to)s") % values
    return _("Emailed %(packet)s to %(to)s, with a claim link") % values


@describes("packet.invitation", family=PACKETS, label=gettext_lazy("Invitation queued"))
def _invitation(event: AuditEvent) -> str:
    facts = details_of(event)
    replaces = facts.get("replaces")
    return joined(
        _("Invited the user by email (%(to)s) to choose a console password, in %(packet)s")
        % {"to": facts["to"], "packet": packet_text(facts["packet"])},
        [
            _("the earlier invitation (%(packets)s) stops working") % {"packets": packets_text(replaces)}
            if replaces
            else ""
        ],
    )


@describes("packet.invitation_accepted", family=PACKETS, label=gettext_lazy("Invitation accepted"))
def _invitation_accepted(event: AuditEvent) -> str:
    facts = details_of(event)
    return joined(
        _("Accepted the invitation %(packet)s: chose a console password; console logon enabled")
        % {"packet": packet_text(facts["packet"])},
        [_("MFA to be bound at this sign-in") if facts.get("mfa_required") else ""],
    )


@describes("packet.claimed", family=PACKETS, label=gettext_lazy("Packet claimed"))
def _packet_claimed(event: AuditEvent) -> str:
    return _("Claimed %(packet)s through its link: secrets shown once and wiped") % {
        "packet": packet_text(details_of(event)["packet"])
    }


@describes("packet.expired", family=PACKETS, label=gettext_lazy("Claim or invitation link expired"))
def _packet_expired(event: AuditEvent) -> str:
    return _("The link of %(packet)s expired") % {"packet": packet_text(details_of(event)["packet"])}


@describes("packet.revoked", family=PACKETS, label=gettext_lazy("Packet revoked"))
def _packet_revoked(event: AuditEvent) -> str:
    return _("Revoked %(packet)s") % {"packet": packet_text(details_of(event)["packet"])}


def _one_time_page(facts: Mapping[str, Any]) -> str:
    kind = facts.get("kind", "")
    label = OneTimeReveal.Kind(kind).label if kind in OneTimeReveal.Kind.values else str(kind)
    users = facts.get("ram_users")
    key = facts.get("access_key_id")
    return joined(
        _("the one-time page “%(page)s”") % {"page": label},
        [
            _("AccessKey %(access_key_id)s") % {"access_key_id": key} if key else "",
            ngettext("%(count)s user", "%(count)s users", len(users)) % {"count": len(users)}
            if isinstance(users, list)
            else "",
            packet_text(facts["packet"]) if facts.get("packet") else "",
        ],
    )


@describes("secrets.shown", family=PACKETS, label=gettext_lazy("Secrets shown once"))
def _secrets_shown(event: AuditEvent) -> str:
    return _("Opened %(page)s") % {"page": _one_time_page(details_of(event))}


@describes("secrets.expired_unseen", family=PACKETS, label=gettext_lazy("Secrets expired unseen"))
def _secrets_expired(event: AuditEvent) -> str:
    return _("Wiped unseen: %(page)s") % {"page": _one_time_page(details_of(event))}


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
            return Party(text=_("Owner"), title=title, url=reverse("accounts:overview"))
        name = self.user_name(text)
        if name is not None:
            pk, name = self.users.get(name.lower(), (None, name))
            principal = f"RAM${self.account.account_id}:{name}"
            return Party(text=name, title=principal, url=reverse("accounts:user-detail", args=[pk]) if pk else "")
        if is_actor and text:  # a label: the operator, the mail worker, a claim link
            label = actor_label(text)
            return Party(text=label[:1].upper() + label[1:], title=label)
        if text.startswith(GROUP_TARGET_PREFIX):
            group = _("group %(name)s") % {"name": text.removeprefix(GROUP_TARGET_PREFIX)}
            return Party(text=group, title=group)
        return Party(text=text or "—", title=text)


# The actors that are not people (accounts.actors.Actor.label) as the trail names them: "operator", "mail worker", a
# claim link or an invitation (with the principal it is of); shown capitalised ("Operator"), whole on hover.
ACTOR_LABELS: dict[str, StrOrPromise] = {
    "operator": pgettext_lazy("actor", "operator"),
    "mail worker": pgettext_lazy("actor", "mail worker"),
}
ACTOR_LABEL_PREFIXES: dict[str, StrOrPromise] = {
    "claim link of ": pgettext_lazy("actor", "claim link of %(principal)s"),
    "invitation of ": pgettext_lazy("actor", "invitation of %(principal)s"),
}
# How audit events name a group (accounts.services.groups.group_target).
GROUP_TARGET_PREFIX = "group "


def actor_label(text: str) -> str:
    """An actor's label in words ("operator", "claim link of RAM$…:alice"); one not known here as it is."""
    if text in ACTOR_LABELS:
        return str(ACTOR_LABELS[text])
    for prefix, phrase in ACTOR_LABEL_PREFIXES.items():
        if text.startswith(prefix):
            return str(phrase) % {"principal": text.removeprefix(prefix)}
    return text


def trail_rows(events: Iterable[AuditEvent], account: PrimaryAccount) -> list[TrailRow]:
    """The events in words, their actors and targets linked to their pages, in a fixed number of queries."""
    events = list(events)
    people = _People(account, [name for event in events for name in (event.actor, _target_name(event))])
    rows = []
    for event in events:
        if event.action in ANONYMOUS_ACTIONS:
            actor = Party(
                text=_("Anonymous"),
                title=_("A sign-in by nobody known"),
                note=_("tried %(principal)s") % {"principal": tried_text(event)},
            )
        else:
            actor = people.party(event.actor, is_actor=True)
        rows.append(TrailRow(event, sentence(event), actor, people.party(_target_name(event))))
    return rows


def _target_name(event: AuditEvent) -> str:
    # A failed sign-in's target is what the sign-in tried, shown as the principal it names.
    return tried_principal(event) if event.action in ANONYMOUS_ACTIONS else event.target
