"""What "changes nothing" means in tests: every row a request could touch, and the audit trail."""

from django.contrib.sessions.models import Session

from accounts.models import (
    Authenticator,
    BackupCode,
    PasswordHistoryEntry,
    PasswordPolicy,
    PolicyAttachment,
    PrimaryAccount,
    RamUser,
    SecuritySettings,
    SignInLock,
    User,
)
from portal.models import AuditEvent
from projects.models import CrossProjectAccess, Project, ProjectMember, RoleGrant


def database_state(*, with_audit: bool = True, with_sign_in_locks: bool = True) -> dict:
    """A comparable picture of the accounts data; equal before and after means nothing changed."""
    state = {
        "accounts": list(PrimaryAccount.objects.order_by("pk").values("pk", "account_id", "name", "alias", "owner")),
        "users": list(User.objects.order_by("pk").values("pk", "email", "password", "is_active", "session_generation")),
        "ram_users": list(
            RamUser.objects.order_by("pk").values(
                "pk",
                "account",
                "name",
                "display_name",
                "email",
                "mobile_phone",
                "comments",
                "is_console_logon_enabled",
                "must_reset_password",
                "must_bind_mfa",
            )
        ),
        "policies": list(PolicyAttachment.objects.order_by("pk").values("pk", "ram_user", "policy_name")),
        "security_settings": list(SecuritySettings.objects.order_by("pk").values()),
        "password_policies": list(PasswordPolicy.objects.order_by("pk").values()),
        "totp_devices": list(Authenticator.objects.order_by("pk").values("pk", "user", "key", "confirmed", "last_t")),
        "backup_codes": list(BackupCode.objects.order_by("pk").values_list("code_hash", flat=True)),
        "password_history": PasswordHistoryEntry.objects.count(),
        "projects": list(
            Project.objects.order_by("pk").values(
                "pk",
                "account",
                "name",
                "description",
                "ip_whitelist",
                "is_full_table_scan_allowed",
                "is_data_protection_on",
                "quota",
            )
        ),
        "project_members": list(ProjectMember.objects.order_by("pk").values("pk", "project", "ram_user")),
        "role_grants": list(RoleGrant.objects.order_by("pk").values("pk", "member", "role")),
        "cross_project_access": list(CrossProjectAccess.objects.order_by("pk").values("pk", "source", "target")),
    }
    if with_audit:
        state["audit"] = list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))
    if with_sign_in_locks:
        state["sign_in_locks"] = list(SignInLock.objects.order_by("pk").values("identity", "failures"))
    return state


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def actions_since(event_id: int) -> list[str]:
    return list(AuditEvent.objects.filter(pk__gt=event_id).order_by("pk").values_list("action", flat=True))


def session_count() -> int:
    return Session.objects.count()
