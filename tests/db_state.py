"""What "changes nothing" means in tests: every row of every installed model, compared column by column.

The state is built from the installed models, so a new model is covered without anyone remembering to add it;
`test_every_model_is_in_the_state_or_left_out_with_a_reason` fails for a model that is neither compared nor left
out below with its reason.
"""

from django.apps import apps
from django.contrib.sessions.models import Session

from portal.models import AuditEvent

# Models whose rows are not compared, and why.
LEFT_OUT = {
    "auth.Permission": "Django's catalogue of permissions, written by migrate alone (the portal does not use it)",
    "auth.Group": "Django's groups, unused by the portal",
    "auth.Group_permissions": "Django's groups, unused by the portal",
    "contenttypes.ContentType": "Django's catalogue of models, written by migrate alone",
    "accounts.Authenticator": "a proxy: its rows are otp_totp.TOTPDevice's, which are compared",
}
# Columns that change without anything changing, and why; a test that must see them passes the flag named.
OTP_THROTTLING = ("throttling_failure_timestamp", "throttling_failure_count")  # a wrong code counts, by design
KEY_USE = ("last_used_at", "last_used_channel", "last_used_service")  # an authenticated request, even refused
VOLATILE = {
    "otp_totp.TOTPDevice": (OTP_THROTTLING, "with_otp_throttling"),
    "accounts.BackupCodeDevice": (OTP_THROTTLING, "with_otp_throttling"),
    "accounts.AccessKey": (KEY_USE, "with_request_records"),
}
# Whole tables compared only when asked: the audit trail (a refusal is recorded), the sign-in locks (a failure is
# counted) and the nonces of signed requests (one refused after its signature was checked still spent its nonce).
OPTIONAL = {
    "portal.AuditEvent": "with_audit",
    "accounts.SignInLock": "with_sign_in_locks",
    "accounts.IdentityLock": "with_sign_in_locks",
    "portal.SeenNonce": "with_request_records",
}


def compared_models() -> list:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.label not in LEFT_OUT and not model._meta.proxy
    ]


def database_state(
    *,
    with_audit: bool = True,
    with_sign_in_locks: bool = True,
    with_otp_throttling: bool = False,
    with_request_records: bool = False,
) -> dict:
    """A comparable picture of the whole database; equal before and after means nothing changed."""
    flags = {
        "with_audit": with_audit,
        "with_sign_in_locks": with_sign_in_locks,
        "with_otp_throttling": with_otp_throttling,
        "with_request_records": with_request_records,
    }
    state = {}
    for model in compared_models():
        label = model._meta.label
        if label in OPTIONAL and not flags[OPTIONAL[label]]:
            continue
        volatile, flag = VOLATILE.get(label, ((), None))
        skipped = () if flag is None or flags[flag] else volatile
        fields = [field.attname for field in model._meta.concrete_fields if field.attname not in skipped]
        state[label] = list(model._base_manager.order_by("pk").values(*fields))
    return state


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def actions_since(event_id: int) -> list[str]:
    return list(AuditEvent.objects.filter(pk__gt=event_id).order_by("pk").values_list("action", flat=True))


def session_count() -> int:
    return Session.objects.count()
