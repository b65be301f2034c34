"""The accounts app's models, by topic; everything is importable from `accounts.models` as before."""

from accounts.models.access_keys import AccessKey
from accounts.models.delivery import PACKET_HISTORY_SENTENCES, DeliveryPacket, OneTimeReveal, PacketEmail
from accounts.models.groups import GROUP_NAME_RE, Group, GroupMembership, GroupPolicyAttachment
from accounts.models.identities import USER_NAME_RE, AliasHold, PolicyAttachment, PrimaryAccount, RamUser, User
from accounts.models.mfa import (
    Authenticator,
    BackupCode,
    BackupCodeDevice,
    PasskeyProof,
    authenticator_associated_data,
    hash_backup_code,
)
from accounts.models.security import (
    CredentialReport,
    IdentityLock,
    PasswordHistoryEntry,
    PasswordPolicy,
    SecuritySettings,
    SignInLock,
)

__all__ = [
    "GROUP_NAME_RE",
    "PACKET_HISTORY_SENTENCES",
    "USER_NAME_RE",
    "AccessKey",
    "AliasHold",
    "Authenticator",
    "BackupCode",
    "BackupCodeDevice",
    "CredentialReport",
    "DeliveryPacket",
    "Group",
    "GroupMembership",
    "GroupPolicyAttachment",
    "IdentityLock",
    "OneTimeReveal",
    "PacketEmail",
    "PasskeyProof",
    "PasswordHistoryEntry",
    "PasswordPolicy",
    "PolicyAttachment",
    "PrimaryAccount",
    "RamUser",
    "SecuritySettings",
    "SignInLock",
    "User",
    "authenticator_associated_data",
    "hash_backup_code",
]
