"""Passkeys' rules outside the browser (issue 17, item 3): adding one needs a code first and counts towards the device
limit, the ceremonies' endpoints refuse whoever is not entitled, removing one asks for a code, and a host that is an
IP address is told that passkeys need a host name. Chromium's own ceremonies: tests/browser/test_passkeys.py."""

import json
import os
import re
from datetime import timedelta

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import Authenticator, BackupCodeDevice
from accounts.passkeys import REGISTRATION_ALLOWED_UNTIL, REGISTRATION_NAME
from accounts.services.access_keys import issue_access_key
from accounts.services.alias import set_enterprise_alias
from accounts.services.otp import (
    PASSKEY_NAME,
    confirm_totp_enrolment,
    device_name_problems,
    issue_passkey_code,
    mfa_device_count,
    new_authenticator,
    regenerate_backup_codes,
    remove_mfa_device,
    remove_passkey,
    start_totp_enrolment,
    suggested_device_name,
    verify_otp,
)
from portal.models import AuditEvent
from tests.conftest import CONSOLE, fresh_totp_code, make_ram_user, signed_in, totp_code
from tests.db_state import database_state


def a_passkey_of(person, name: str = "Chromium") -> WebAuthnCredential:
    """A registered credential row, as the library stores one (its key material is not used here)."""
    credential_id = os.urandom(16)
    return WebAuthnCredential.objects.create(
        user=person.user,
        name=name,
        confirmed=True,
        credential_id=credential_id,
        credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(credential_id),
        public_key=os.urandom(32),
        sign_count=0,
    )


def signed_in_with_mfa(owner) -> Client:
    """The owner signed in as a person does (password, then a code): a session that passed MFA."""
    client = Client(HTTP_HOST="localhost")
    client.post(reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": owner.password})
    assert client.post(reverse("accounts:sign-in-verify"), {"otp_code": owner.code()}).status_code == 302
    return client


def test_adding_a_passkey_needs_a_code_first(owner):
    client = signed_in_with_mfa(owner)
    url = reverse("accounts:add-passkey")
    page = client.get(url, HTTP_HOST="localhost").content.decode()
    assert 'name="otp_code"' in page and "passkey-registration-placeholder" not in page
    refused = client.post(reverse("accounts:begin-passkey-registration"), HTTP_HOST="localhost")
    assert refused.status_code == 403 and refused.json()["code"] == "registration_not_allowed"
    wrong = client.post(url, {"otp_code": "000000"}, HTTP_HOST="localhost")
    assert wrong.status_code == 200 and "wrong" in wrong.content.decode()
    assert "passkey-registration-placeholder" not in client.get(url, HTTP_HOST="localhost").content.decode()


def test_after_the_code_the_browser_gets_registration_options_for_this_host(owner):
    client = signed_in_with_mfa(owner)
    url = reverse("accounts:add-passkey")
    code = fresh_totp_code(owner.device)
    assert client.post(url, {"otp_code": code}, HTTP_HOST="localhost").status_code == 302
    page = client.get(url, HTTP_HOST="localhost").content.decode()
    assert "passkey-registration-placeholder" in page and 'id="otp_webauthn_config"' in page
    options = client.post(reverse("accounts:begin-passkey-registration"), HTTP_HOST="localhost").json()
    assert options["rp"] == {"id": "localhost", "name": "RAM Onboarding Portal"}
    assert options["user"]["name"] == owner.user.email and options["challenge"]


def test_an_ip_address_is_told_passkeys_need_a_host_name(owner):
    page = signed_in(owner).get(reverse("accounts:add-passkey"), HTTP_HOST="127.0.0.1").content.decode()
    assert "never by an IP address" in page and 'name="otp_code"' not in page


def test_passkeys_count_towards_the_device_limit(owner, settings):
    settings.PORTAL_MAX_MFA_DEVICES = 2
    a_passkey_of(owner)
    assert mfa_device_count(owner.user) == 2
    page = signed_in(owner).get(reverse("accounts:add-passkey"), HTTP_HOST="localhost").content.decode()
    assert "You have the most MFA devices allowed" in page
    pending = start_totp_enrolment(actor=owner.actor, user=owner.user)
    try:
        confirm_totp_enrolment(actor=owner.actor, user=owner.user, device_id=pending.pk, code=totp_code(pending))
    except Exception as error:
        assert "most allowed" in str(error)
    else:
        raise AssertionError("a third device was accepted")


def test_the_sign_in_ceremony_refuses_without_a_sign_in_under_way(owner):
    answer = Client().post(reverse("accounts:begin-passkey-sign-in"), HTTP_HOST="localhost")
    assert answer.status_code in (401, 403) and "detail" in answer.json()
    complete = Client().post(
        reverse("accounts:complete-passkey-sign-in"),
        data=json.dumps({"id": "x"}),
        content_type="application/json",
        HTTP_HOST="localhost",
    )
    assert complete.status_code in (400, 401, 403)
    assert not AuditEvent.objects.filter(action="sign_in.success").exists()


def test_removing_a_passkey_asks_for_a_code_and_says_so_in_the_trail(owner):
    passkey = a_passkey_of(owner, "YubiKey")
    client = signed_in(owner)
    url = reverse("accounts:remove-passkey", args=[passkey.pk])
    assert "Remove the passkey YubiKey" in client.get(url).content.decode()
    done = client.post(url, {"confirm": "YubiKey", "otp_code": fresh_totp_code(owner.device)})
    assert done.status_code == 302 and not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert AuditEvent.objects.get(action="mfa.passkey_remove").details == {"device": "YubiKey"}


def test_another_person_s_passkey_is_not_found(owner, other_owner):
    theirs = a_passkey_of(other_owner)
    assert signed_in(owner).get(reverse("accounts:remove-passkey", args=[theirs.pk])).status_code == 404


def test_a_passkey_s_one_time_code_is_good_once_for_its_person_for_two_minutes(owner, other_owner):
    passkey = a_passkey_of(owner)
    code = issue_passkey_code(user=owner.user, device=passkey)
    assert len(code) == 16 and code.startswith("pk")
    assert code not in repr(database_state(with_request_records=True))  # a hash only
    assert verify_otp(user=other_owner.user, code=code, origin=CONSOLE) is None  # another person's: nothing
    assert verify_otp(user=owner.user, code=code, origin=CONSOLE) == passkey
    assert verify_otp(user=owner.user, code=code, origin=CONSOLE) is None  # spent
    late = issue_passkey_code(user=owner.user, device=passkey)
    with time_machine.travel(timezone.now() + timedelta(minutes=2, seconds=1)):
        assert verify_otp(user=owner.user, code=late, origin=CONSOLE) is None
    assert AuditEvent.objects.filter(action="otp.failed").count() == 3


def test_a_passkey_s_code_confirms_any_action_that_asks_for_a_code(owner):
    passkey = a_passkey_of(owner)
    issued = issue_access_key(
        actor=owner.actor, holder=owner.user, otp_code=issue_passkey_code(user=owner.user, device=passkey)
    )
    assert issued.access_key.user == owner.user


def test_the_confirmation_ceremony_is_for_signed_in_people(owner):
    anonymous = Client(HTTP_HOST="localhost").post(reverse("accounts:begin-passkey-confirmation"))
    assert anonymous.status_code == 302 and "/signin/" in anonymous.url
    a_passkey_of(owner)
    options = signed_in(owner).post(reverse("accounts:begin-passkey-confirmation"), HTTP_HOST="localhost").json()
    assert options["rpId"] == "localhost" and len(options["allowCredentials"]) == 1


def test_confirmation_pages_that_ask_for_a_code_offer_the_passkey_and_take_its_code(owner):
    alice = make_ram_user(owner, "alice")
    new_authenticator(user=alice.user, name="lost-phone", confirmed=True)
    passkey = a_passkey_of(owner)
    client = signed_in(owner)
    url = reverse("accounts:reset-mfa", args=[alice.ram_user.pk])
    assert code_inputs(client.get(url, HTTP_HOST="localhost").content.decode()) == {"id_otp_code": True}
    code = issue_passkey_code(user=owner.user, device=passkey)
    done = client.post(url, {"confirm": "alice", "otp_code": code}, HTTP_HOST="localhost")
    assert done.status_code == 302
    assert AuditEvent.objects.filter(action="mfa.reset").count() == 1


def code_inputs(page: str) -> dict[str, bool]:
    """Each code field of a page (by name and id), and whether it is marked as one a passkey may answer."""
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        name = re.search(r'\bname="([^"]+)"', tag)
        if name and name.group(1).split("-")[-1] in ("otp_code", "current_otp_code"):
            field_id = re.search(r'\bid="([^"]+)"', tag)
            fields[field_id.group(1) if field_id else name.group(1)] = 'data-passkey="accepted"' in tag
    return fields


def test_every_code_field_that_confirms_the_person_offers_the_passkey_and_no_new_device_s(owner):
    alice = make_ram_user(owner, "alice")
    new_authenticator(user=alice.user, name="phone", confirmed=True)
    set_enterprise_alias(actor=owner.actor, otp_code=fresh_totp_code(owner.device), alias="acme-data")
    client = signed_in(owner)
    confirming = [
        reverse("accounts:security-settings"),
        reverse("accounts:password-policy"),
        reverse("accounts:update-default-domain"),
        reverse("accounts:create-users"),
        reverse("accounts:create-account-access-key"),
        reverse("accounts:reset-mfa", args=[alice.ram_user.pk]),
        reverse("accounts:my-account"),  # "Generate new backup codes"
        reverse("accounts:add-passkey"),
    ]
    for url in confirming:
        fields = code_inputs(client.get(url).content.decode())
        assert fields and all(fields.values()), (url, fields)
    assert len(code_inputs(client.get(reverse("accounts:update-default-domain")).content.decode())) == 2  # set, clear
    # Adding a device: the code from a bound one (or a passkey) confirms; the new device's own code is its own.
    assert code_inputs(client.get(reverse("accounts:bind-mfa")).content.decode()) == {
        "id_current_otp_code": True,
        "id_otp_code": False,
    }


def test_pages_learn_whether_to_offer_the_passkey_from_one_request(owner, other_owner):
    url = reverse("accounts:passkey-confirmation-options")
    anonymous = Client(HTTP_HOST="localhost").get(url)
    assert anonymous.status_code == 302 and "/signin/" in anonymous.url
    client = signed_in(owner)
    assert client.get(url, HTTP_HOST="localhost").status_code == 204  # no passkey yet
    a_passkey_of(other_owner)
    assert client.get(url, HTTP_HOST="localhost").status_code == 204  # someone else's is not the owner's
    a_passkey_of(owner)
    options = client.get(url, HTTP_HOST="localhost")
    assert options.status_code == 200 and options["Cache-Control"].startswith("max-age=0")
    body = options.json()
    assert body["configuration"]["beginAuthenticationUrl"] == reverse("accounts:begin-passkey-confirmation")
    assert body["configuration"]["beginRegistrationUrl"] == ""
    assert body["script"].endswith("django_otp_webauthn/otp_webauthn_auth.js")
    assert client.get(body["texts"]).status_code == 200
    assert client.get(url, HTTP_HOST="127.0.0.1").status_code == 204  # no passkey works on an IP address
    # Every signed-in page carries what portal.js builds the offer from; a signed-out page does not.
    page = client.get(reverse("accounts:overview")).content.decode()
    assert 'id="passkey-offer"' in page and f'data-options="{url}"' in page
    assert 'id="passkey-offer"' not in Client().get(reverse("accounts:owner-sign-in")).content.decode()


def test_with_a_passkey_the_last_authenticator_may_go_and_the_backup_codes_stay(owner):
    passkey = a_passkey_of(owner)
    regenerate_backup_codes(actor=owner.actor, otp_code=fresh_totp_code(owner.device))
    client = signed_in(owner)
    url = reverse("accounts:remove-mfa-device", args=[owner.device.pk])
    assert "You keep 1 other MFA device." in client.get(url).content.decode()
    done = client.post(
        url, {"confirm": owner.device.name, "otp_code": issue_passkey_code(user=owner.user, device=passkey)}
    )
    assert done.status_code == 302
    assert not Authenticator.objects.filter(user=owner.user).exists()
    assert BackupCodeDevice.objects.filter(user=owner.user).exists()  # they still stand in for the passkey
    card = client.get(reverse("accounts:my-account")).content.decode()
    assert "Backup codes left" in card and "Add a passkey" in card and "Add MFA device" in card
    # The owner must sign in with MFA: the passkey, now the only device, stays.
    refused = client.post(
        reverse("accounts:remove-passkey", args=[passkey.pk]),
        {"confirm": passkey.name, "otp_code": issue_passkey_code(user=owner.user, device=passkey)},
    )
    assert refused.status_code == 200 and "This is your only MFA device" in refused.content.decode()
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


def test_a_ram_user_s_last_passkey_takes_the_backup_codes_with_it_when_mfa_is_not_required(owner):
    alice = make_ram_user(owner, "alice")
    phone = new_authenticator(user=alice.user, name="phone", confirmed=True)
    passkey = a_passkey_of(alice)
    regenerate_backup_codes(actor=alice.actor, otp_code=fresh_totp_code(phone))
    remove_mfa_device(
        actor=alice.actor, device_id=phone.pk, otp_code=issue_passkey_code(user=alice.user, device=passkey)
    )
    assert BackupCodeDevice.objects.filter(user=alice.user).exists()
    remove_passkey(
        actor=alice.actor, passkey_id=passkey.pk, otp_code=issue_passkey_code(user=alice.user, device=passkey)
    )
    assert not WebAuthnCredential.objects.filter(user=alice.user).exists()
    assert not BackupCodeDevice.objects.filter(user=alice.user).exists()
    assert list(AuditEvent.objects.filter(target=alice.user.display).values_list("action", flat=True).order_by("pk"))[
        -2:
    ] == ["mfa.device_remove", "mfa.passkey_remove"]


def test_a_passkey_is_named_with_its_code_and_a_taken_name_is_refused_before_the_code(owner):
    client = signed_in_with_mfa(owner)
    url = reverse("accounts:add-passkey")
    page = client.get(url, HTTP_HOST="localhost").content.decode()
    assert 'name="name"' in page and 'value="passkey"' in page  # the name offered
    owner.device.refresh_from_db()
    taken = client.post(url, {"name": owner.device.name, "otp_code": "000000"}, HTTP_HOST="localhost")
    assert taken.status_code == 200 and "exists already" in taken.content.decode()
    bad = client.post(url, {"name": "my key!", "otp_code": "000000"}, HTTP_HOST="localhost")
    assert "Use 1–64 characters" in bad.content.decode()
    assert not client.session.get(REGISTRATION_ALLOWED_UNTIL)
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        named = client.post(url, {"name": "yubikey", "otp_code": owner.code()}, HTTP_HOST="localhost")
    assert named.status_code == 302 and client.session[REGISTRATION_NAME] == "yubikey"


def test_a_passkey_s_name_is_offered_free_of_every_device_s(owner):
    a_passkey_of(owner, "passkey")
    assert suggested_device_name(owner.user, base=PASSKEY_NAME) == "passkey-2"
    assert device_name_problems(owner.user, "PASSKEY") == [
        "A device named PASSKEY exists already: choose another name."
    ]
