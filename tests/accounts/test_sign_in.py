import re
from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Authenticator, BackupCodeDevice, PrimaryAccount, RamUser, SignInLock
from accounts.services.otp import new_authenticator
from accounts.services.security import update_password_policy, update_security_settings
from portal.models import AuditEvent
from tests.conftest import CONSOLE, RAM_PASSWORD, form_token_of, fresh_totp_code, make_ram_user, signed_in, totp_code


def ram_sign_in_url(account):
    return reverse("accounts:ram-sign-in", args=[account.default_domain])


def sign_in_owner(client, owner):
    response = client.post(reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": owner.password})
    assert response.status_code == 302
    return response


def test_owner_signs_in_with_password_and_code(owner):
    client = Client()
    response = sign_in_owner(client, owner)
    assert response.url == reverse("accounts:sign-in-verify")
    # Not signed in yet: the gate still sends the owner to the sign-in page.
    assert client.get(reverse("accounts:overview")).status_code == 302
    response = client.post(reverse("accounts:sign-in-verify"), {"otp_code": owner.code()})
    assert response.status_code == 302 and response.url == reverse("accounts:overview")
    assert client.get(reverse("accounts:overview")).status_code == 200
    assert AuditEvent.objects.filter(action="sign_in.success", actor=owner.account.principal).count() == 1


def test_wrong_password_and_unknown_email_get_the_same_message(owner):
    client = Client()
    wrong = client.post(reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": "nope-nope-nope"})
    unknown = client.post(reverse("accounts:owner-sign-in"), {"email": "who@nowhere.example", "password": "x"})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_a_totp_code_is_never_accepted_twice(owner):
    code = totp_code(owner.device)
    first, second = Client(), Client()
    sign_in_owner(first, owner)
    sign_in_owner(second, owner)
    assert first.post(reverse("accounts:sign-in-verify"), {"otp_code": code}).status_code == 302
    response = second.post(reverse("accounts:sign-in-verify"), {"otp_code": code})
    assert response.status_code == 200
    assert "already been used" in response.content.decode()
    assert "_auth_user_id" not in second.session
    assert AuditEvent.objects.filter(action="otp.failed").count() == 1


def test_first_sign_in_enrols_totp_and_shows_ten_backup_codes_once(owner):
    Authenticator.objects.filter(user=owner.user).delete()
    client = Client()
    response = sign_in_owner(client, owner)
    assert response.url == reverse("accounts:sign-in-enrol")
    page = client.get(response.url)
    assert page["Cache-Control"].count("no-store") == 1
    device = Authenticator.objects.get(user=owner.user, confirmed=False)
    assert "data:image/svg+xml" in page.content.decode()
    response = client.post(response.url, {"device_id": device.pk, "otp_code": totp_code(device)}, follow=True)
    assert response.status_code == 200 and response.redirect_chain[0][0].startswith("/signin/backup-codes/")
    assert "no-store" in response["Cache-Control"]
    codes = response.context["backup_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    # Stored only as hashes.
    stored = list(BackupCodeDevice.objects.get(user=owner.user).codes.values_list("code_hash", flat=True))
    assert not set(codes) & set(stored)
    response = client.get(reverse("accounts:sign-in-continue"))
    assert response.url == reverse("accounts:overview")
    assert Authenticator.objects.get(pk=device.pk).confirmed


def test_backup_code_works_once(owner):
    Authenticator.objects.filter(user=owner.user).delete()
    client = Client()
    sign_in_owner(client, owner)
    client.get(reverse("accounts:sign-in-enrol"))
    device = Authenticator.objects.get(user=owner.user, confirmed=False)
    codes = client.post(
        reverse("accounts:sign-in-enrol"), {"device_id": device.pk, "otp_code": totp_code(device)}, follow=True
    ).context["backup_codes"]
    backup_device = BackupCodeDevice.objects.get(user=owner.user)
    first = Client()
    sign_in_owner(first, owner)
    response = first.post(reverse("accounts:sign-in-verify"), {"otp_code": codes[0]})
    assert response.status_code == 302 and response.url == reverse("accounts:overview")
    assert first.get(reverse("accounts:overview")).status_code == 200
    remaining = sorted(backup_device.codes.values_list("pk", flat=True))
    assert len(remaining) == 9  # the used one, and only it, is gone
    failures_before = AuditEvent.objects.filter(action="otp.failed", actor=owner.account.principal).count()

    second = Client()
    sign_in_owner(second, owner)
    response = second.post(reverse("accounts:sign-in-verify"), {"otp_code": codes[0]})
    assert response.status_code == 200
    assert "otp_code" in response.context["form"].errors
    # Still not signed in: the gate sends the second browser back to the sign-in page.
    assert second.get(reverse("accounts:overview")).status_code == 302
    assert "_auth_user_id" not in second.session
    # Nothing more was deleted, and the failure is on the record.
    assert sorted(backup_device.codes.values_list("pk", flat=True)) == sorted(remaining)
    assert AuditEvent.objects.filter(action="otp.failed", actor=owner.account.principal).count() == failures_before + 1


def test_ram_user_signs_in_with_user_name_or_logon_name(ram_user):
    account = ram_user.account
    for login in ("alice", "ALICE", f"alice@{account.default_domain}"):
        client = Client()
        response = client.post(ram_sign_in_url(account), {"login": login, "password": RAM_PASSWORD})
        assert response.status_code == 302, login
        assert response.url == reverse("accounts:my-credentials")
        assert client.get(response.url).status_code == 200


def test_logon_name_of_another_domain_is_refused(ram_user, other_owner):
    response = Client().post(
        ram_sign_in_url(ram_user.account),
        {"login": f"alice@{other_owner.account.default_domain}", "password": RAM_PASSWORD},
    )
    assert response.status_code == 200
    assert "incorrect" in response.content.decode()


def test_unknown_domain_is_404(db):
    assert Client().get("/signin/nobody.onaliyun.com/").status_code == 404


def test_ram_user_without_console_logon_cannot_sign_in(owner):
    bob = make_ram_user(owner, "bob", console_logon=False)
    response = Client().post(ram_sign_in_url(owner.account), {"login": "bob", "password": ""})
    assert response.status_code == 200
    assert not RamUser.objects.get(pk=bob.ram_user.pk).user.has_usable_password()


def test_forced_password_reset_comes_before_anything_else(owner, ram_user):
    RamUser.objects.filter(pk=ram_user.ram_user.pk).update(must_reset_password=True)
    client = Client()
    response = client.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
    assert response.url == reverse("accounts:sign-in-change-password")
    assert client.get(reverse("accounts:my-credentials")).status_code == 302
    new = "Saffron-Glacier-Pillow-7719"
    response = client.post(
        response.url, {"current_password": RAM_PASSWORD, "new_password": new, "confirm_password": new}
    )
    assert response.url == reverse("accounts:my-credentials")
    ram_user.user.refresh_from_db()
    assert ram_user.user.check_password(new)
    assert not RamUser.objects.get(pk=ram_user.ram_user.pk).must_reset_password


def test_forced_mfa_binding_at_first_sign_in(owner, ram_user):
    RamUser.objects.filter(pk=ram_user.ram_user.pk).update(must_bind_mfa=True)
    client = Client()
    response = client.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
    assert response.url == reverse("accounts:sign-in-enrol")
    client.get(response.url)
    device = Authenticator.objects.get(user=ram_user.user, confirmed=False)
    response = client.post(reverse("accounts:sign-in-enrol"), {"device_id": device.pk, "otp_code": totp_code(device)})
    # Its first device brings backup codes, shown once on their own page, then on to the credential page.
    assert response.url.startswith("/signin/backup-codes/")
    assert (
        len(re.findall(r'<li class="col">[a-z2-9]{5}-[a-z2-9]{5}</li>', client.get(response.url).content.decode()))
        == 10
    )
    assert client.get(reverse("accounts:sign-in-continue")).url == reverse("accounts:my-credentials")
    # Next time the code is asked for.
    other = Client()
    response = other.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
    assert response.url == reverse("accounts:sign-in-verify")


def test_failed_attempts_lock_for_an_hour_then_expire(owner, ram_user):
    update_password_policy(actor=owner.actor, otp_code=owner.code(), values={"max_failed_attempts": 3})
    url = ram_sign_in_url(owner.account)
    client = Client()
    for _ in range(3):
        client.post(url, {"login": "alice", "password": "wrong-wrong-wrong"})
    # Locked: even the right password is refused, with the same message.
    response = client.post(url, {"login": "alice", "password": RAM_PASSWORD})
    assert response.status_code == 200
    assert SignInLock.objects.get(identity=f"{owner.account.account_id}:alice").locked_until > timezone.now()
    # Another source address is not locked out.
    assert Client(REMOTE_ADDR="10.0.0.9").post(url, {"login": "alice", "password": RAM_PASSWORD}).status_code == 302
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert client.post(url, {"login": "alice", "password": RAM_PASSWORD}).status_code == 302


def test_unknown_names_are_locked_like_real_ones(owner):
    update_password_policy(actor=owner.actor, otp_code=owner.code(), values={"max_failed_attempts": 2})
    client = Client()
    for _ in range(2):
        client.post(ram_sign_in_url(owner.account), {"login": "ghost", "password": "whatever-123"})
    lock = SignInLock.objects.get(identity=f"{owner.account.account_id}:ghost")
    assert lock.locked_until is not None


def test_logon_ip_masks_restrict_console_sign_in(owner, ram_user):
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"logon_ip_masks": ["10.1.0.0/16"]})
    url = ram_sign_in_url(owner.account)
    refused = Client().post(url, {"login": "alice", "password": RAM_PASSWORD})
    assert refused.status_code == 200 and "not allowed from your network" in refused.content.decode()
    assert Client(REMOTE_ADDR="10.1.2.3").post(url, {"login": "alice", "password": RAM_PASSWORD}).status_code == 302


def test_session_length_comes_from_the_security_settings(owner, ram_user):
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"session_hours": 2})
    client = Client()
    response = client.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
    client.get(response.url)
    assert client.session.get_expiry_age() == 2 * 3600


def test_pending_sign_in_expires(owner):
    client = Client()
    sign_in_owner(client, owner)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = client.post(reverse("accounts:sign-in-verify"), {"otp_code": totp_code(owner.device)})
    assert response.status_code == 302 and response.url == reverse("accounts:owner-sign-in")
    assert "_auth_user_id" not in client.session


def test_sign_in_events_are_audited(owner, ram_user):
    Client().post(ram_sign_in_url(owner.account), {"login": "alice", "password": "bad-password-1"})
    event = AuditEvent.objects.get(action="sign_in.failed")
    assert event.target == f"{owner.account.account_id}:alice"
    assert event.source_ip == "127.0.0.1"
    assert "bad-password-1" not in str(event.details)
    assert CONSOLE.channel == event.channel


def _sign_in_ram_user_with_code(client, owner, ram_user, device):
    response = client.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
    if response.url == reverse("accounts:sign-in-verify"):
        response = client.post(response.url, {"otp_code": fresh_totp_code(device)})
    return response


def test_remember_mfa_for_7_days_skips_the_code_in_the_same_browser_only(owner, ram_user):
    device = new_authenticator(user=ram_user.user, name="Phone", confirmed=True)
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"remember_mfa_for_7_days": True})
    browser = Client()
    _sign_in_ram_user_with_code(browser, owner, ram_user, device)
    browser.post(reverse("accounts:sign-out"))
    response = browser.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
    assert response.url == reverse("accounts:my-credentials")
    # Another browser still needs the code, and so does this one after 7 days.
    other = Client()
    response = other.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
    assert response.url == reverse("accounts:sign-in-verify")
    with time_machine.travel(timezone.now() + timedelta(days=7, hours=1)):
        browser.post(reverse("accounts:sign-out"))
        response = browser.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
        assert response.url == reverse("accounts:sign-in-verify")


def test_remembered_mfa_is_forgotten_when_the_setting_is_off(owner, ram_user):
    device = new_authenticator(user=ram_user.user, name="Phone", confirmed=True)
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"remember_mfa_for_7_days": True})
    browser = Client()
    _sign_in_ram_user_with_code(browser, owner, ram_user, device)
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"remember_mfa_for_7_days": False})
    browser.post(reverse("accounts:sign-out"))
    response = browser.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
    assert response.url == reverse("accounts:sign-in-verify")


def test_administrator_resets_the_mfa_of_a_user_who_lost_the_device(owner, ram_user):
    new_authenticator(user=ram_user.user, name="Phone", confirmed=True)
    response = signed_in(owner).post(
        reverse("accounts:reset-mfa", args=[ram_user.ram_user.pk]), {"confirm": "alice", "otp_code": owner.code()}
    )
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=ram_user.user).exists()
    assert RamUser.objects.get(pk=ram_user.ram_user.pk).must_bind_mfa  # a new device at the next logon
    assert AuditEvent.objects.filter(action="mfa.reset", target=ram_user.ram_user.principal).count() == 1
    client = Client()
    response = client.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
    assert response.url == reverse("accounts:sign-in-enrol")


def test_self_sign_up_creates_an_account_and_goes_straight_to_authenticator_enrolment(db, settings):
    settings.PORTAL_SELF_SIGN_UP = True
    client = Client()
    response = client.post(
        reverse("accounts:sign-up"),
        {"name": "Newco", "email": "Founder@Newco.example", "password": "Copper-Willow-Signal-6604"},
    )
    assert response.status_code == 302
    account = PrimaryAccount.objects.get(owner__email="founder@newco.example")
    assert account.name == "Newco" and len(account.account_id) == 16
    assert response.url == reverse("accounts:sign-in-enrol")
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="account.create", account_id=account.account_id).count() == 1


def test_self_sign_up_is_off_by_default(db):
    response = Client().post(
        reverse("accounts:sign-up"), {"name": "X", "email": "x@x.example", "password": "Copper-Willow-Signal-6604"}
    )
    assert response.status_code == 404
    assert not PrimaryAccount.objects.exists()


def test_a_password_alone_cannot_jump_to_enrolment_and_replace_the_authenticator(owner):
    client = Client()
    sign_in_owner(client, owner)
    response = client.get(reverse("accounts:sign-in-enrol"))
    assert response.status_code == 302 and response.url == reverse("accounts:sign-in-verify")
    assert not Authenticator.objects.filter(user=owner.user, confirmed=False).exists()
    attacker_device = new_authenticator(user=owner.user, name="Attacker", confirmed=False)
    response = client.post(
        reverse("accounts:sign-in-enrol"), {"device_id": attacker_device.pk, "otp_code": totp_code(attacker_device)}
    )
    assert response.status_code == 302 and response.url == reverse("accounts:sign-in-verify")
    assert Authenticator.objects.filter(pk=owner.device.pk, confirmed=True).exists()
    assert "_auth_user_id" not in client.session


def test_a_password_alone_cannot_change_the_password_when_no_reset_is_due(owner, ram_user):
    new_authenticator(user=ram_user.user, name="Phone", confirmed=True)
    client = Client()
    response = client.post(ram_sign_in_url(owner.account), {"login": "alice", "password": RAM_PASSWORD})
    new = "Saffron-Glacier-Pillow-7719"
    response = client.post(
        reverse("accounts:sign-in-change-password"),
        {"current_password": RAM_PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert response.status_code == 302 and response.url == reverse("accounts:sign-in-verify")
    ram_user.user.refresh_from_db()
    assert ram_user.user.check_password(RAM_PASSWORD)


def test_the_first_sign_ins_enrolment_sent_twice_shows_the_backup_codes_once_and_signs_in(owner):
    Authenticator.objects.filter(user=owner.user).delete()
    client = Client()
    enrol = client.get(sign_in_owner(client, owner).url)
    device = Authenticator.objects.get(user=owner.user, confirmed=False)
    form = {"device_id": device.pk, "otp_code": totp_code(device), "form_token": form_token_of(enrol)}
    first = client.post(reverse("accounts:sign-in-enrol"), form)
    second = client.post(reverse("accounts:sign-in-enrol"), form)  # a second click, or a reload
    assert first.status_code == second.status_code == 302 and first.url == second.url
    page = client.get(first.url)
    assert len(page.context["backup_codes"]) == 10
    assert "I have saved the backup codes · Continue" in page.content.decode()
    again = client.get(first.url).content.decode()
    assert "Already shown." in again and not any(code in again for code in page.context["backup_codes"])
    assert client.get(reverse("accounts:sign-in-continue")).url == reverse("accounts:overview")
    assert AuditEvent.objects.filter(action="mfa.bind").count() == 1
    assert Client().get(first.url).status_code == 302  # someone without this pending sign-in: to the start
