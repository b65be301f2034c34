"""Bad input in every form gets a specific message beside the field, never a 500, and changes nothing."""

import time

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_otp.oath import TOTP

from accounts.models import Authenticator, BackupCodeDevice, PolicyAttachment, RamUser, User
from accounts.services.otp import regenerate_backup_codes
from accounts.services.policies import attach_policy
from portal.models import AuditEvent
from tests.conftest import OWNER_PASSWORD, RAM_PASSWORD, make_ram_user, signed_in
from tests.db_state import actions_since, database_state, last_event_id

STRONG = "Saffron-Glacier-Pillow-7719"
OTP_REJECTED = "The verification code is wrong or has already been used."
REQUIRED = "This field is required."


def wrong_code(device: Authenticator) -> str:
    """A six-digit code that the device will not accept now."""
    valid = set()
    for ahead in range(-device.tolerance, device.tolerance + 1):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time() + ahead * device.step
        valid.add(f"{totp.token():06d}")
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def code_unspent(person) -> bool:
    """The person's fresh device has accepted no code yet (a request refused for another reason spends none)."""
    return Authenticator.objects.get(pk=person.device.pk).last_t == -1


def assert_rejected(response, message: str, *, field: str | None = None, form: str = "form") -> None:
    """The page came back (not a 500, not a redirect) with the message, beside the field when given."""
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    bound = response.context[form]
    errors = bound.errors.get(field or "__all__", [])
    assert any(message in error for error in errors), f"{message!r} not among {field} errors {bound.errors}"


def assert_row_rejected(response, row: int, field: str, message: str) -> None:
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    errors = response.context["formset"].forms[row].errors.get(field, [])
    assert any(message in error for error in errors), f"{message!r} not in row {row} {field} errors: {errors}"


def flash_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Sign-in, sign-up and the pending sign-in steps -------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email", "password": "whatever"}, "email", "Enter a valid email address."),
        ({"email": "owner@acme.example", "password": ""}, "password", REQUIRED),
        ({"email": "", "password": "whatever"}, "email", REQUIRED),
    ],
)
def test_owner_sign_in_rejects_malformed_input(owner, data, field, message):
    client = Client()
    before = database_state()
    assert_rejected(client.post(reverse("accounts:owner-sign-in"), data), message, field=field)
    assert database_state() == before
    assert "_auth_user_id" not in client.session


def test_owner_sign_in_with_wrong_password_records_only_the_failure(owner):
    client = Client()
    before, mark = database_state(with_audit=False, with_sign_in_locks=False), last_event_id()
    response = client.post(reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": "nope-nope-1"})
    assert_rejected(response, "The logon name or password is incorrect")
    assert database_state(with_audit=False, with_sign_in_locks=False) == before
    assert actions_since(mark) == ["sign_in.failed"]
    assert "pending_sign_in" not in client.session and "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"login": "a" * 201, "password": RAM_PASSWORD}, "login", "Ensure this value has at most 200 characters"),
        ({"login": "alice", "password": ""}, "password", REQUIRED),
        ({"login": "", "password": RAM_PASSWORD}, "login", REQUIRED),
    ],
)
def test_ram_sign_in_rejects_malformed_input(ram_user, data, field, message):
    client = Client()
    before = database_state()
    url = reverse("accounts:ram-sign-in", args=[ram_user.account.default_domain])
    assert_rejected(client.post(url, data), message, field=field)
    assert database_state() == before
    assert "pending_sign_in" not in client.session


def test_ram_sign_in_with_wrong_password_records_only_the_failure(ram_user):
    client = Client()
    url = reverse("accounts:ram-sign-in", args=[ram_user.account.default_domain])
    before, mark = database_state(with_audit=False, with_sign_in_locks=False), last_event_id()
    assert_rejected(client.post(url, {"login": "alice", "password": "Wrong-Pass-1234"}), "incorrect")
    assert database_state(with_audit=False, with_sign_in_locks=False) == before
    assert actions_since(mark) == ["sign_in.failed"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Newco", "email": "new@newco.example", "password": "1q2w3e4r5t6y"}, "password", "too common"),
        (
            {"name": "Newco", "email": "new@newco.example", "password": "Short-1"},
            "password",
            "at least 12 characters",
        ),
        (
            {"name": "Newco", "email": "founder@newco.example", "password": "founder-Glacier-77"},
            "password",
            "must not contain “founder”",
        ),
        (
            {"name": "Newco", "email": "OWNER@ACME.EXAMPLE", "password": STRONG},
            "email",
            "An account with this email address already exists.",
        ),
        ({"name": "Newco", "email": "new@", "password": STRONG}, "email", "Enter a valid email address."),
        (
            {"name": "N" * 129, "email": "new@newco.example", "password": STRONG},
            "name",
            "Ensure this value has at most 128 characters",
        ),
    ],
)
def test_sign_up_rejects_bad_input(owner, settings, data, field, message):
    settings.PORTAL_SELF_SIGN_UP = True
    client = Client()
    before = database_state()
    assert_rejected(client.post(reverse("accounts:sign-up"), data), message, field=field)
    assert database_state() == before
    assert "pending_sign_in" not in client.session


def begin_owner_sign_in(owner) -> Client:
    client = Client()
    response = client.post(reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": owner.password})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    ("code", "message"),
    [("", REQUIRED), ("1" * 17, "Ensure this value has at most 16 characters")],
)
def test_otp_verify_rejects_malformed_codes_without_counting_them(owner, code, message):
    client = begin_owner_sign_in(owner)
    before = database_state()
    assert_rejected(client.post(reverse("accounts:sign-in-verify"), {"otp_code": code}), message, field="otp_code")
    assert database_state() == before
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("code", ["wrong", "backup-code"])
def test_otp_verify_rejects_a_wrong_code_and_records_it(owner, code):
    client = begin_owner_sign_in(owner)
    code = wrong_code(owner.device) if code == "wrong" else "abcde-fghjk"
    before, mark = database_state(with_audit=False), last_event_id()
    response = client.post(reverse("accounts:sign-in-verify"), {"otp_code": code})
    assert_rejected(response, "The code is wrong or has already been used.", field="otp_code")
    assert actions_since(mark) == ["otp.failed"]
    # Only the device's failure counter moved; no sign-in happened.
    assert database_state(with_audit=False) == before
    assert "_auth_user_id" not in client.session


def begin_enrolment(owner) -> tuple[Client, Authenticator]:
    Authenticator.objects.filter(user=owner.user).delete()
    client = begin_owner_sign_in(owner)
    assert client.get(reverse("accounts:sign-in-enrol")).status_code == 200
    return client, Authenticator.objects.get(user=owner.user, confirmed=False)


def test_enrolment_rejects_a_wrong_code(owner):
    client, device = begin_enrolment(owner)
    before, mark = database_state(with_audit=False), last_event_id()
    response = client.post(reverse("accounts:sign-in-enrol"), {"device_id": device.pk, "otp_code": wrong_code(device)})
    assert_rejected(response, "The code does not match", field="otp_code")
    assert actions_since(mark) == ["mfa.failed"]
    assert database_state(with_audit=False) == before
    assert not Authenticator.objects.get(pk=device.pk).confirmed
    assert not BackupCodeDevice.objects.filter(user=owner.user).exists()


@pytest.mark.parametrize(
    ("device_id", "field", "message"),
    [
        ("abc", "otp_code", "This enrolment has expired; scan the new QR code."),
        ("", "otp_code", "This enrolment has expired; scan the new QR code."),
        ("other", "otp_code", "This enrolment has expired; scan the new QR code."),
        (str(10**30), "otp_code", "This enrolment has expired; scan the new QR code."),
    ],
)
def test_enrolment_rejects_a_bad_device(owner, other_owner, device_id, field, message):
    client, _ = begin_enrolment(owner)
    if device_id == "other":
        device_id = str(other_owner.device.pk)
    before = database_state()
    response = client.post(reverse("accounts:sign-in-enrol"), {"device_id": device_id, "otp_code": "123456"})
    assert_rejected(response, message, field=field)
    assert database_state() == before


def begin_forced_reset(ram_user) -> Client:
    RamUser.objects.filter(pk=ram_user.ram_user.pk).update(must_reset_password=True)
    client = Client()
    url = reverse("accounts:ram-sign-in", args=[ram_user.account.default_domain])
    response = client.post(url, {"login": "alice", "password": RAM_PASSWORD})
    assert response.url == reverse("accounts:sign-in-change-password")
    return client


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        (RAM_PASSWORD, STRONG, STRONG + "x", "confirm_password", "The two passwords do not match."),
        ("Not-The-Password-1", STRONG, STRONG, "current_password", "The current password is incorrect."),
        (RAM_PASSWORD, "1q2w3e4r5t6y", "1q2w3e4r5t6y", "new_password", "This password is too common."),
        (RAM_PASSWORD, "alice-Glacier-77", "alice-Glacier-77", "new_password", "must not contain “alice”"),
        (RAM_PASSWORD, RAM_PASSWORD, RAM_PASSWORD, "new_password", "must differ from the current one"),
        (RAM_PASSWORD, "", "", "new_password", REQUIRED),
    ],
)
def test_forced_password_change_rejects_bad_input(ram_user, current, new, confirm, field, message):
    client = begin_forced_reset(ram_user)
    # A wrong current password counts towards the lock, as a failed sign-in does; nothing else changes.
    counts = current == RAM_PASSWORD
    before = database_state(with_sign_in_locks=counts)
    response = client.post(
        reverse("accounts:sign-in-change-password"),
        {"current_password": current, "new_password": new, "confirm_password": confirm},
    )
    assert_rejected(response, message, field=field)
    assert database_state(with_sign_in_locks=counts) == before
    assert RamUser.objects.get(pk=ram_user.ram_user.pk).must_reset_password
    assert "_auth_user_id" not in client.session


# --- Create users -----------------------------------------------------------------------------------


def user_rows(*rows: dict, total: int | None = None) -> dict:
    data = {"users-TOTAL_FORMS": str(total if total is not None else len(rows)), "users-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        values = {"display_name": row.get("name", "x").title(), "password_mode": "generate", **row}
        data |= {f"users-{index}-{key}": value for key, value in values.items()}
    return data


CREATE_CASES = {
    "bad-characters": (
        [{"name": "carol"}, {"name": "bad name!"}],
        1,
        "name",
        "Use 1–64 characters: letters, digits, periods (.), hyphens (-) and underscores (_).",
    ),
    "too-long-name": ([{"name": "c" * 65}], 0, "name", "Ensure this value has at most 64 characters"),
    "twice-in-the-request-ignoring-case": (
        [{"name": "Carol"}, {"name": "dave"}, {"name": "carol"}],
        2,
        "name",
        "This user name appears twice in the request.",
    ),
    "existing-name-ignoring-case": (
        [{"name": "carol"}, {"name": "ALICE"}],
        1,
        "name",
        "A RAM user with this name already exists.",
    ),
    "common-password": (
        [{"name": "carol", "console_logon": "on", "password_mode": "custom", "password": "1q2w3e4r5t6y"}],
        0,
        "password",
        "This password is too common.",
    ),
    "short-password": (
        [{"name": "carol", "console_logon": "on", "password_mode": "custom", "password": "Ab1!"}],
        0,
        "password",
        "The password must be at least 12 characters long.",
    ),
    "password-contains-user-name": (
        [{"name": "carol", "console_logon": "on", "password_mode": "custom", "password": "CAROL-Glacier-Pillow-7"}],
        0,
        "password",
        "The password must not contain “carol”.",
    ),
    "custom-password-missing": (
        [{"name": "carol", "console_logon": "on", "password_mode": "custom", "password": ""}],
        0,
        "password",
        "Enter the custom password, or choose to generate one.",
    ),
    "display-name-missing": ([{"name": "carol", "display_name": ""}], 0, "display_name", REQUIRED),
    "bad-email": ([{"name": "carol", "email": "carol@"}], 0, "email", "Enter a valid email address."),
    "bad-mobile-phone": (
        [{"name": "carol", "mobile_phone": "call me"}],
        0,
        "mobile_phone",
        "Enter the number as <country code>-<number>, e.g. 86-13800138000.",
    ),
    "comments-too-long": ([{"name": "carol", "comments": "c" * 129}], 0, "comments", "at most 128 characters"),
    "bad-password-mode": ([{"name": "carol", "password_mode": "email-it"}], 0, "password_mode", "Select a valid"),
}


@pytest.mark.parametrize("case", CREATE_CASES)
def test_create_users_rejects_bad_rows_and_creates_none(owner, ram_user, case):
    rows, row, field, message = CREATE_CASES[case]
    client = signed_in(owner)
    before = database_state()
    response = client.post(reverse("accounts:create-users"), user_rows(*rows))
    assert_row_rejected(response, row, field, message)
    assert database_state() == before
    # A generated password never reaches the page of a rejected request.
    assert "users_created" not in [template.name for template in response.templates]


def test_create_users_rejects_51_rows(owner):
    rows = [{"name": f"user{index:02d}"} for index in range(51)]
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse("accounts:create-users"), user_rows(*rows))
    assert response.status_code == 200
    assert "Please submit at most 50 forms." in response.context["formset"].non_form_errors()
    assert "Please submit at most 50 forms." in response.content.decode()
    assert database_state() == before


def test_create_users_rejects_an_empty_request(owner):
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse("accounts:create-users"), user_rows(total=0))
    assert response.status_code == 200
    assert "Please submit at least 1 form." in response.context["formset"].non_form_errors()
    assert database_state() == before


def test_create_users_rejects_a_tampered_management_form(owner):
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse("accounts:create-users"), {"users-0-name": "carol"})
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors()
    assert database_state() == before


def test_create_users_rejects_a_logon_name_over_128_characters(owner, settings):
    # The longest user name (64) and the longest alias (50) fit with the real suffix; a long suffix does not.
    settings.PORTAL_DOMAIN_SUFFIX = "onboarding.example-cloud-provider-with-a-long-name.example.com"
    name = "n" * 64
    assert len(f"{name}@{owner.account.default_domain}") > 128
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse("accounts:create-users"), user_rows({"name": name}))
    assert_row_rejected(response, 0, "name", "would exceed 128 characters")
    assert database_state() == before


# --- Edit, delete, logon settings, policies ---------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "al ice"}, "name", "Use 1–64 characters"),
        ({"name": "BOB"}, "name", "A RAM user with this name already exists."),
        ({"display_name": "   "}, "display_name", REQUIRED),
        ({"email": "alice@"}, "email", "Enter a valid email address."),
        ({"mobile_phone": "12"}, "mobile_phone", "Enter the number as <country code>-<number>"),
        ({"comments": "c" * 129}, "comments", "Ensure this value has at most 128 characters"),
    ],
)
def test_edit_user_rejects_bad_input(owner, ram_user, changes, field, message):
    make_ram_user(owner, "bob")
    data = {"name": "alice", "display_name": "Alice", "email": "", "mobile_phone": "", "comments": "", **changes}
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse("accounts:edit-user", args=[ram_user.ram_user.pk]), data)
    assert_rejected(response, message, field=field)
    assert database_state() == before


def test_delete_user_rejects_a_wrong_confirmation_without_spending_the_code(owner, ram_user):
    code = owner.code()
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(
        reverse("accounts:delete-user", args=[ram_user.ram_user.pk]), {"confirm_name": "ALICE", "otp_code": code}
    )
    assert_rejected(response, "Type alice exactly.", field="confirm_name")
    assert database_state() == before
    assert code_unspent(owner)


@pytest.mark.parametrize("code", ["wrong", ""])
def test_delete_user_rejects_a_wrong_code(owner, ram_user, code):
    code = wrong_code(owner.device) if code == "wrong" else code
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before, mark = database_state(with_audit=False), last_event_id()
    response = client.post(
        reverse("accounts:delete-user", args=[ram_user.ram_user.pk]), {"confirm_name": "alice", "otp_code": code}
    )
    assert_rejected(response, OTP_REJECTED if code else REQUIRED, field="otp_code")
    assert database_state(with_audit=False) == before
    assert actions_since(mark) == (["otp.failed"] if code else [])
    assert RamUser.objects.filter(pk=ram_user.ram_user.pk).exists()


@pytest.mark.parametrize(
    ("user_name", "data", "field", "message"),
    [
        (
            "alice",
            {"is_enabled": "1", "password_mode": "custom", "password": "Ab1!xyz"},
            "password",
            "The password must be at least 12 characters long.",
        ),
        (
            "alice",
            {"is_enabled": "1", "password_mode": "custom", "password": "alice-Glacier-Pillow-7"},
            "password",
            "must not contain “alice”",
        ),
        (
            "alice",
            {"is_enabled": "1", "password_mode": "custom", "password": ""},
            "password",
            "Enter the custom password, or choose another option.",
        ),
        ("alice", {"password_mode": "keep"}, "is_enabled", REQUIRED),
        ("alice", {"is_enabled": "1", "password_mode": "mail"}, "password_mode", "Select a valid choice."),
        ("alice", {"is_enabled": "maybe", "password_mode": "keep"}, "is_enabled", "Select a valid choice."),
        (
            "bob",
            {"is_enabled": "1", "password_mode": "keep"},
            "password",
            "Set a password or generate one to enable console logon.",
        ),
    ],
)
def test_modify_logon_settings_rejects_bad_input(owner, ram_user, user_name, data, field, message):
    make_ram_user(owner, "bob", console_logon=False)
    target = RamUser.objects.get(account=owner.account, name=user_name)
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse("accounts:modify-logon-settings", args=[target.pk]), data)
    assert_rejected(response, message, field=field)
    assert database_state() == before


@pytest.mark.parametrize(
    ("policy_name", "message"),
    [
        ("NoSuchPolicy", "Choose one of the system policies."),
        ("", "Choose a policy to attach."),
        ("AliyunRAMReadOnlyAccess", "AliyunRAMReadOnlyAccess is already attached to this user."),
    ],
)
def test_attach_policy_rejects_bad_input_beside_the_picker(owner, ram_user, policy_name, message):
    attach_policy(actor=owner.actor, ram_user=ram_user.ram_user, policy_name="AliyunRAMReadOnlyAccess")
    client = signed_in(owner)
    before = database_state()
    response = client.post(reverse("accounts:attach-policy", args=[ram_user.ram_user.pk]), {"policy_name": policy_name})
    # The user page comes back with the message beside "Policy", the picker on no policy rather than on the first.
    assert_rejected(response, message, field="policy_name", form="attach_form")
    page = response.content.decode()
    assert '<option value="">Choose a policy…</option>' in page or '<option value="" selected>' in page
    assert 'value="AdministratorAccess" selected' not in page
    assert database_state() == before


def test_detach_policy_rejects_a_policy_that_is_not_attached(owner, ram_user):
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    url = reverse("accounts:detach-policy", args=[ram_user.ram_user.pk, "NoSuchPolicy"])
    response = client.post(url, {"confirm": "NoSuchPolicy"})
    assert response.status_code == 302
    assert flash_messages(response) == ["NoSuchPolicy is not attached to this user."]
    assert database_state() == before


# --- Security settings and password policy ----------------------------------------------------------


def security_settings_data(**changes) -> dict:
    return {
        "allow_change_password": "on",
        "allow_manage_mfa": "on",
        "session_hours": "6",
        "logon_ip_masks": "",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"session_hours": "0"}, "session_hours", "Ensure this value is greater than or equal to 1."),
        ({"session_hours": "25"}, "session_hours", "Ensure this value is less than or equal to 24."),
        ({"session_hours": "six"}, "session_hours", "Enter a whole number."),
        ({"logon_ip_masks": "10.0.0.0/8\nnot-an-ip"}, "logon_ip_masks", "“not-an-ip” is not an IP address or CIDR"),
        ({"logon_ip_masks": "10.0.0.0/33"}, "logon_ip_masks", "“10.0.0.0/33” is not an IP address or CIDR"),
        (
            {"logon_ip_masks": "\n".join(f"10.0.{index}.0/24" for index in range(41))},
            "logon_ip_masks",
            "Enter at most 40 IP masks.",
        ),
    ],
)
def test_security_settings_reject_bad_input_without_spending_the_code(owner, changes, field, message):
    code = owner.code()
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse("accounts:security-settings"), security_settings_data(otp_code=code, **changes))
    assert_rejected(response, message, field=field)
    assert database_state() == before
    assert code_unspent(owner)


def test_security_settings_accept_exactly_40_masks(owner):
    masks = "\n".join(f"10.0.{index}.0/24" for index in range(40))
    response = signed_in(owner).post(
        reverse("accounts:security-settings"), security_settings_data(logon_ip_masks=masks, otp_code=owner.code())
    )
    assert response.status_code == 302
    owner.account.security_settings.refresh_from_db()
    assert len(owner.account.security_settings.logon_ip_masks) == 40


@pytest.mark.parametrize("code", ["wrong", ""])
def test_security_settings_reject_a_wrong_code(owner, code):
    code = wrong_code(owner.device) if code == "wrong" else code
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before, mark = database_state(with_audit=False), last_event_id()
    response = client.post(
        reverse("accounts:security-settings"), security_settings_data(session_hours="2", otp_code=code)
    )
    assert_rejected(response, OTP_REJECTED if code else REQUIRED, field="otp_code")
    assert database_state(with_audit=False) == before
    assert actions_since(mark) == (["otp.failed"] if code else [])


def password_policy_data(**changes) -> dict:
    return {
        "minimum_length": "12",
        "max_age_days": "0",
        "reuse_prevention": "0",
        "max_failed_attempts": "5",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"minimum_length": "7"}, "minimum_length", "Ensure this value is greater than or equal to 8."),
        ({"minimum_length": "33"}, "minimum_length", "Ensure this value is less than or equal to 32."),
        ({"max_age_days": "1096"}, "max_age_days", "Ensure this value is less than or equal to 1095."),
        ({"max_age_days": "-1"}, "max_age_days", "Ensure this value is greater than or equal to 0."),
        ({"reuse_prevention": "25"}, "reuse_prevention", "Ensure this value is less than or equal to 24."),
        ({"max_failed_attempts": "33"}, "max_failed_attempts", "Ensure this value is less than or equal to 32."),
        ({"minimum_length": "99999999999999999999"}, "minimum_length", "Ensure this value is less than or equal"),
    ],
)
def test_password_policy_rejects_bad_input_without_spending_the_code(owner, changes, field, message):
    code = owner.code()
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse("accounts:password-policy"), password_policy_data(otp_code=code, **changes))
    assert_rejected(response, message, field=field)
    assert database_state() == before
    assert code_unspent(owner)


def test_password_policy_rejects_a_wrong_code(owner):
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before, mark = database_state(with_audit=False), last_event_id()
    response = client.post(
        reverse("accounts:password-policy"),
        password_policy_data(minimum_length="20", otp_code=wrong_code(owner.device)),
    )
    assert_rejected(response, OTP_REJECTED, field="otp_code")
    assert database_state(with_audit=False) == before
    assert actions_since(mark) == ["otp.failed"]


# --- Own pages: password, MFA, backup codes ---------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "ram_user"])
@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("wrong-current", "current_password", "The current password is incorrect."),
        ("mismatch", "confirm_password", "The two passwords do not match."),
        ("same", "new_password", "The new password must differ from the current one."),
        ("short", "new_password", "at least"),
    ],
)
def test_change_own_password_rejects_bad_input(owner, ram_user, who, case, field, message):
    person = {"owner": owner, "ram_user": ram_user}[who]
    data = {
        "wrong-current": ("Not-The-Password-1", STRONG, STRONG),
        "mismatch": (person.password, STRONG, STRONG + "!"),
        "same": (person.password, person.password, person.password),
        "short": (person.password, "Ab1!", "Ab1!"),
    }[case]
    client = signed_in(person)
    # A wrong current password counts towards the lock, as a failed sign-in does; nothing else changes.
    before = database_state(with_sign_in_locks=case != "wrong-current")
    response = client.post(
        reverse("accounts:change-password"),
        dict(zip(("current_password", "new_password", "confirm_password"), data, strict=True)),
    )
    assert_rejected(response, message, field=field)
    assert database_state(with_sign_in_locks=case != "wrong-current") == before
    # The session survives a refused change.
    assert client.get(reverse("accounts:home")).status_code == 302
    assert "_auth_user_id" in client.session


def test_bind_mfa_rejects_a_wrong_code(ram_user):
    client = signed_in(ram_user)
    assert client.get(reverse("accounts:bind-mfa")).status_code == 200
    device = Authenticator.objects.get(user=ram_user.user, confirmed=False)
    before, mark = database_state(with_audit=False), last_event_id()
    response = client.post(reverse("accounts:bind-mfa"), {"device_id": device.pk, "otp_code": wrong_code(device)})
    assert_rejected(response, "The code does not match", field="otp_code")
    assert database_state(with_audit=False) == before
    assert actions_since(mark) == ["mfa.failed"]
    assert not Authenticator.objects.filter(user=ram_user.user, confirmed=True).exists()


def test_adding_an_mfa_device_rejects_a_wrong_current_code(owner):
    client = signed_in(owner)
    client.get(reverse("accounts:bind-mfa"))
    new_device = Authenticator.objects.get(user=owner.user, confirmed=False)
    new_code = f"{TOTP(new_device.bin_key).token():06d}"
    before, mark = database_state(with_audit=False), last_event_id()
    response = client.post(
        reverse("accounts:bind-mfa"),
        {"device_id": new_device.pk, "otp_code": new_code, "current_otp_code": wrong_code(owner.device)},
    )
    assert_rejected(response, "The code from your MFA device is wrong or used.", field="current_otp_code")
    assert database_state(with_audit=False) == before
    assert actions_since(mark) == ["otp.failed"]
    assert Authenticator.objects.get(user=owner.user, confirmed=True).pk == owner.device.pk


@pytest.mark.parametrize(
    ("code", "message"),
    [("wrong", OTP_REJECTED), ("", "Enter the verification code.")],
)
def test_regenerating_backup_codes_rejects_a_wrong_code_with_a_message(owner, code, message):
    regenerate_backup_codes(actor=owner.actor, otp_code=owner.code())
    code = wrong_code(owner.device) if code == "wrong" else code
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before, mark = database_state(with_audit=False), last_event_id()
    response = client.post(reverse("accounts:regenerate-backup-codes"), {"otp_code": code})
    assert response.status_code == 302
    assert response.url == reverse("accounts:my-account")
    assert flash_messages(response) == [message]
    assert database_state(with_audit=False) == before
    assert actions_since(mark) == (["otp.failed"] if code else [])


# --- Audit filter -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"since": "yesterday"}, "since", "Enter a valid date."),
        ({"until": "2026-02-30"}, "until", "Enter a valid date."),
        ({"channel": "carrier-pigeon"}, "channel", "Select a valid choice."),
        ({"actor": "a" * 201}, "actor", "Ensure this value has at most 200 characters"),
    ],
)
def test_audit_filter_rejects_bad_input(owner, query, field, message):
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.get(reverse("accounts:audit-trail"), query)
    assert_rejected(response, message, field=field)
    assert database_state() == before


@pytest.mark.parametrize("query", [{"until": "9999-12-31"}, {"since": "0001-01-01"}, {"page": "9" * 30}])
def test_audit_filter_takes_extreme_dates_without_failing(owner, query):
    client = signed_in(owner)
    response = client.get(reverse("accounts:audit-trail"), query)
    assert response.status_code == 200
    assert response.context["form"].is_valid()
    assert [event.action for event in response.context["page"]] == ["account.create"]
    export = client.get(reverse("accounts:audit-export"), query)
    assert export.status_code == 200
    assert b"account.create" in b"".join(export.streaming_content)


def test_no_input_of_a_rejected_form_is_stored_anywhere(owner, ram_user):
    # A cross-check over the whole module's theme: the typed secrets of refused forms leave no trace.
    client = signed_in(owner)
    client.post(
        reverse("accounts:create-users"),
        user_rows({"name": "carol", "console_logon": "on", "password_mode": "custom", "password": "1q2w3e4r5t6y"}),
    )
    client.post(
        reverse("accounts:modify-logon-settings", args=[ram_user.ram_user.pk]),
        {"is_enabled": "1", "password_mode": "custom", "password": "Ab1!xyz"},
    )
    assert not User.objects.filter(ram_user__name="carol").exists()
    assert not PolicyAttachment.objects.exists()
    for event in AuditEvent.objects.all():
        assert "1q2w3e4r5t6y" not in str(event.details)
        assert "Ab1!xyz" not in str(event.details)
    assert User.objects.get(pk=ram_user.user.pk).check_password(RAM_PASSWORD)
    assert OWNER_PASSWORD not in str(list(AuditEvent.objects.values_list("details", flat=True)))
