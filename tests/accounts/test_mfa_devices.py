"""MFA that people cannot lose (issue 17, item 2): backup codes for everyone who binds MFA (shown once, hashed at
rest, each good once), up to eight named devices per person (the ninth refused), removing one with a code but never
the last while MFA is required, and the administrator's "Reset MFA" for a user who lost them all, end to end."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Authenticator, BackupCode, BackupCodeDevice, OneTimeReveal, RamUser
from accounts.services.mfa import create_virtual_mfa_device
from accounts.services.otp import (
    confirm_totp_enrolment,
    devices_of_account,
    mfa_devices_of,
    remove_mfa_device,
    start_totp_enrolment,
    verify_otp,
)
from portal.models import AuditEvent
from tests.conftest import CONSOLE, RAM_PASSWORD, fresh_totp_code, make_ram_user, signed_in, totp_code
from tests.db_state import database_state

BACKUP_CODE_RE = re.compile(r'<li class="col">([a-z2-9]{5}-[a-z2-9]{5})</li>')


def bind_on_the_page(client: Client, *, name: str, current_code: str | None = None):
    """Binds a device through the bind-mfa page; the response and the new device."""
    page = client.get(reverse("accounts:bind-mfa"))
    device = Authenticator.objects.get(pk=int(re.search(r'name="device_id" value="(\d+)"', page.content.decode())[1]))
    token = re.search(r'name="form_token" value="([^"]+)"', page.content.decode())[1]
    form = {"device_id": device.pk, "name": name, "otp_code": totp_code(device), "form_token": token}
    if current_code is not None:
        form["current_otp_code"] = current_code
    return client.post(reverse("accounts:bind-mfa"), form), device


def add_device(person, name: str) -> Authenticator:
    pending = start_totp_enrolment(actor=person.actor, user=person.user)
    confirm_totp_enrolment(
        actor=person.actor, user=person.user, device_id=pending.pk, code=totp_code(pending), name=name
    )
    return Authenticator.objects.get(pk=pending.pk)


def test_a_ram_user_s_first_device_brings_ten_backup_codes_shown_once_hashed_and_good_once(owner):
    alice = make_ram_user(owner, "alice")
    client = signed_in(alice)
    response, device = bind_on_the_page(client, name="work-phone")
    assert response.status_code == 302
    shown = client.get(response.url).content.decode()
    codes = BACKUP_CODE_RE.findall(shown)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "Already shown." in client.get(response.url).content.decode()  # once
    assert Authenticator.objects.get(pk=device.pk).name == "work-phone"
    stored = repr(database_state(with_request_records=True))
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)  # hashes only
    assert BackupCode.objects.filter(device__user=alice.user).count() == 10
    assert verify_otp(user=alice.user, code=codes[3], origin=CONSOLE) is not None
    assert verify_otp(user=alice.user, code=codes[3], origin=CONSOLE) is None  # spent
    assert BackupCode.objects.filter(device__user=alice.user).count() == 9


def test_a_further_device_needs_a_code_and_a_name_of_its_own_and_keeps_the_backup_codes(owner):
    alice = make_ram_user(owner, "alice")
    first = add_device(alice, "work-phone")
    codes_before = set(BackupCode.objects.filter(device__user=alice.user).values_list("code_hash", flat=True))
    client = signed_in(alice)
    page = client.get(reverse("accounts:bind-mfa")).content.decode()
    assert "Add an MFA device" in page and "Code from one of your MFA devices" in page

    taken, _ = bind_on_the_page(client, name="WORK-PHONE", current_code=fresh_totp_code(first))
    assert taken.status_code == 200 and "A device named WORK-PHONE exists already" in taken.content.decode()
    wrong, _ = bind_on_the_page(client, name="tablet", current_code="000000")
    assert wrong.status_code == 200 and "The code from your MFA device is wrong or used." in wrong.content.decode()
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):  # past the wrong code's throttle
        added, second = bind_on_the_page(client, name="tablet", current_code=fresh_totp_code(first))
        assert added.status_code == 302 and added.url == reverse("accounts:my-credentials")
        assert verify_otp(user=alice.user, code=fresh_totp_code(second), origin=CONSOLE) == second  # either signs
    assert [device.name for device in mfa_devices_of(alice.user)] == ["work-phone", "tablet"]
    assert set(BackupCode.objects.filter(device__user=alice.user).values_list("code_hash", flat=True)) == codes_before
    listed = client.get(reverse("accounts:my-credentials")).content.decode()
    assert 'data-device="work-phone"' in listed and 'data-device="tablet"' in listed


def test_device_names_are_unique_in_the_account_for_the_ram_api_s_serial_numbers(owner):
    alice, bob = make_ram_user(owner, "alice"), make_ram_user(owner, "bob")
    add_device(alice, "phone")
    with pytest.raises(ValidationError) as refused:
        add_device(bob, "Phone")
    assert "exists already" in str(refused.value)
    add_device(owner, "phone")  # the owner's devices are not RAM devices: only its own names count


def test_the_eighth_device_is_accepted_and_the_ninth_refused(owner):
    alice = make_ram_user(owner, "alice")
    for number in range(1, 9):
        add_device(alice, f"device-{number}")
    assert mfa_devices_of(alice.user).count() == 8
    pending = start_totp_enrolment(actor=alice.actor, user=alice.user)
    with pytest.raises(ValidationError) as refused:
        confirm_totp_enrolment(
            actor=alice.actor, user=alice.user, device_id=pending.pk, code=totp_code(pending), name="device-9"
        )
    assert "You have 8 MFA devices, the most allowed" in str(refused.value)
    assert mfa_devices_of(alice.user).count() == 8
    page = signed_in(alice).get(reverse("accounts:bind-mfa")).content.decode()
    assert "You have the most MFA devices allowed" in page and 'name="otp_code"' not in page


def test_removing_a_device_needs_a_code_and_never_the_last_while_mfa_is_required(owner):
    spare = add_device(owner, "spare")
    client = signed_in(owner)
    url = reverse("accounts:remove-mfa-device", args=[spare.pk])
    asked = client.get(url).content.decode()
    assert "Remove the MFA device spare" in asked and "You keep 1 other MFA device." in asked
    refused = client.post(url, {"confirm": "spare", "otp_code": "000000"})
    assert refused.status_code == 200 and "wrong" in refused.content.decode()
    assert Authenticator.objects.filter(pk=spare.pk).exists()
    assert not AuditEvent.objects.filter(action="mfa.device_remove").exists()
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):  # past the wrong code's throttle
        done = client.post(url, {"confirm": "spare", "otp_code": fresh_totp_code(owner.device)})
        assert done.status_code == 302 and not Authenticator.objects.filter(pk=spare.pk).exists()
        with pytest.raises(ValidationError) as last:
            remove_mfa_device(actor=owner.actor, device_id=owner.device.pk, otp_code=fresh_totp_code(owner.device))
    assert "This is your only MFA device" in str(last.value)
    assert AuditEvent.objects.filter(action="mfa.device_remove").count() == 1


def test_a_ram_user_without_required_mfa_may_remove_the_last_device_and_its_codes_go_with_it(owner):
    alice = make_ram_user(owner, "alice")
    device = add_device(alice, "phone")
    assert BackupCodeDevice.objects.filter(user=alice.user).exists()
    remove_mfa_device(actor=alice.actor, device_id=device.pk, otp_code=fresh_totp_code(device))
    assert not Authenticator.objects.filter(user=alice.user).exists()
    assert not BackupCodeDevice.objects.filter(user=alice.user).exists()


def test_reset_mfa_end_to_end(owner):
    alice = make_ram_user(owner, "alice")
    add_device(alice, "lost-phone")
    add_device(alice, "lost-tablet")
    admin = signed_in(owner)
    url = reverse("accounts:reset-mfa", args=[alice.ram_user.pk])
    asked = admin.get(url).content.decode()
    assert "Reset MFA of alice" in asked and "The 2 MFA devices and the backup codes" in asked
    before = database_state(with_audit=False)
    wrong = admin.post(url, {"confirm": "alice", "otp_code": "000000"})
    assert wrong.status_code == 200 and "wrong" in wrong.content.decode()
    assert database_state(with_audit=False) == before

    with time_machine.travel(timezone.now() + timedelta(seconds=31)):  # past the wrong code's throttle
        done = admin.post(url, {"confirm": "alice", "otp_code": fresh_totp_code(owner.device)})
    assert done.status_code == 302
    assert not Authenticator.objects.filter(user=alice.user).exists()
    assert not BackupCodeDevice.objects.filter(user=alice.user).exists()
    assert RamUser.objects.get(pk=alice.ram_user.pk).must_bind_mfa
    event = AuditEvent.objects.get(action="mfa.reset")
    assert event.channel == "console" and event.details == {"devices": ["lost-phone", "lost-tablet"]}

    # alice signs in with her password alone, must bind a new device, and gets new backup codes once.
    person = Client()
    continued = person.post(
        reverse("accounts:ram-sign-in", args=[owner.account.default_domain]),
        {"login": "alice", "password": RAM_PASSWORD},
    )
    assert continued.status_code == 302
    enrol = person.get(reverse("accounts:sign-in-enrol"))
    assert enrol.status_code == 200, enrol
    page = enrol.content.decode()
    device = Authenticator.objects.get(pk=int(re.search(r'name="device_id" value="(\d+)"', page)[1]))
    token = re.search(r'name="form_token" value="([^"]+)"', page)[1]
    bound = person.post(
        reverse("accounts:sign-in-enrol"), {"device_id": device.pk, "otp_code": totp_code(device), "form_token": token}
    )
    assert bound.status_code == 302 and "/signin/backup-codes/" in bound.url
    codes = BACKUP_CODE_RE.findall(person.get(bound.url).content.decode())
    assert len(codes) == 10
    assert OneTimeReveal.objects.filter(user=alice.user, kind=OneTimeReveal.Kind.BACKUP_CODES).exists()
    assert mfa_devices_of(alice.user).count() == 1


def test_reset_mfa_is_for_administrators_with_their_code(owner, ram_reader):
    alice = make_ram_user(owner, "alice")
    add_device(alice, "phone")
    client = signed_in(ram_reader)
    assert client.get(reverse("accounts:reset-mfa", args=[alice.ram_user.pk])).status_code == 403
    assert client.post(reverse("accounts:reset-mfa", args=[alice.ram_user.pk]), {"confirm": "alice"}).status_code == 403
    assert Authenticator.objects.filter(user=alice.user).exists()


def test_a_name_held_by_an_unbound_api_device_is_not_taken_by_a_console_device(owner):
    """The RAM OpenAPI finds a device by its serial number (its name): two devices of one name would be ambiguous."""
    create_virtual_mfa_device(actor=owner.actor, name="spare-token")  # unbound, held by the owner for now
    alice = make_ram_user(owner, "alice")
    with pytest.raises(ValidationError) as refused:
        add_device(alice, "Spare-Token")
    assert "exists already" in str(refused.value)
    assert add_device(alice, "phone").name == "phone"  # her own pending enrolment never blocks her


def test_the_owner_s_enrolment_under_way_is_no_virtual_mfa_device_of_the_api(owner):
    pending = start_totp_enrolment(actor=owner.actor, user=owner.user)  # the owner's "Add MFA device" page, open
    assert pending.name.startswith("Authenticator")
    assert not devices_of_account(owner.account).filter(pk=pending.pk).exists()
    with pytest.raises(ValidationError):
        create_virtual_mfa_device(actor=owner.actor, name="Authenticator-7")
