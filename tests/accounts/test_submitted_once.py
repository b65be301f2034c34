"""Secret-issuing forms are idempotent per form instance: a repeated submission (a second click, a reload, two at
once) does no new work and leads to the same one-time page, which shows the secrets once, to their issuer only."""

import hashlib
import re
import uuid
from datetime import timedelta
from html import escape, unescape

import pytest
import time_machine
from alibabacloud_ram20150501 import models as ram
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from Tea.exceptions import TeaException

from accounts.models import AccessKey, Authenticator, BackupCode, DeliveryPacket, OneTimeReveal, RamUser
from accounts.services.access_keys import open_secret
from accounts.services.otp import regenerate_backup_codes
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.packets import email_delivery_packet, print_delivery_packets
from accounts.services.reveals import ABANDONED_AFTER, expire_unseen_reveals, new_form_token
from portal.models import AuditEvent
from tests.accounts.test_concurrency import run_concurrently
from tests.accounts.test_packets import claim_token_from, sealed_user
from tests.api.conftest import ram_client
from tests.conftest import form_token_of, fresh_totp_code, make_owner, make_ram_user, signed_in, totp_code

State = OneTimeReveal.State


def create_user_form(token: str, name: str = "carol", **extra) -> dict:
    return {
        "users-TOTAL_FORMS": "1",
        "users-INITIAL_FORMS": "0",
        "users-0-name": name,
        "users-0-display_name": name.title(),
        "users-0-console_logon": "on",
        "users-0-password_mode": "generate",
        "deliver": "show",
        "form_token": token,
        **extra,
    }


def shown_password(page) -> str:
    html = page.content.decode()
    match = re.search(r'data-field="password" id="password-of-\d+">([^<]*)</span>', html)
    assert match, "The page shows no password."
    return unescape(match.group(1))


def shown_access_key_secret(page) -> str:
    match = re.search(r'id="access-key-secret">([A-Za-z0-9]{30})</span>', page.content.decode())
    assert match, "The page shows no AccessKey secret."
    return match.group(1)


def signs_in(owner, name: str, password: str) -> bool:
    response = Client().post(
        reverse("accounts:ram-sign-in", args=[owner.account.default_domain]), {"login": name, "password": password}
    )
    return response.status_code == 302


def test_the_form_page_carries_a_fresh_token_and_may_be_kept_only_by_the_browser(owner):
    client = signed_in(owner)
    first, second = (client.get(reverse("accounts:create-users")) for _ in range(2))
    assert form_token_of(first) != form_token_of(second)  # every form instance has its own
    assert first["Cache-Control"] == "private, no-cache, max-age=0"  # the back button may bring back the same one


def test_create_user_submitted_twice_creates_one_user_and_shows_the_password_once(owner):
    client = signed_in(owner)
    form = create_user_form(form_token_of(client.get(reverse("accounts:create-users"))))
    first = client.post(reverse("accounts:create-users"), form)
    second = client.post(reverse("accounts:create-users"), form)
    assert first.status_code == second.status_code == 302
    assert first.url == second.url and first.url.startswith("/issued/")
    assert "no-store" in first["Cache-Control"]
    assert RamUser.objects.filter(name="carol").count() == 1
    assert AuditEvent.objects.filter(action="ram_user.create").count() == 1

    page = client.get(first.url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    password = shown_password(page)
    assert "1 user created" in page.content.decode()
    reloaded = client.get(first.url)
    assert escape(password) not in reloaded.content.decode()
    assert "Already shown." in reloaded.content.decode()
    assert "Modify Logon Settings" in reloaded.content.decode()  # what to do instead
    assert client.post(reverse("accounts:create-users"), form).url == first.url  # a third time: the same page
    assert signs_in(owner, "carol", password)
    packet = DeliveryPacket.objects.get(ram_user__name="carol")
    assert packet.state == DeliveryPacket.State.WIPED and packet.channel == "shown"
    assert AuditEvent.objects.filter(action="packet.shown").count() == 1


def test_a_refused_submission_can_be_corrected_and_sent_again_with_the_same_form(owner):
    client = signed_in(owner)
    token = form_token_of(client.get(reverse("accounts:create-users")))
    refused = client.post(reverse("accounts:create-users"), create_user_form(token, name="bad name"))
    assert refused.status_code == 200 and form_token_of(refused) == token  # the same form comes back
    assert not OneTimeReveal.objects.exists()  # its claim went with the refusal
    corrected = client.post(reverse("accounts:create-users"), create_user_form(token))
    assert corrected.status_code == 302
    assert RamUser.objects.filter(name="carol").exists()


def test_a_wrong_code_then_the_right_one_on_the_same_create_accesskey_form_issues_one_key(owner, ram_user):
    client = signed_in(owner)
    url = reverse("accounts:create-access-key", args=[ram_user.ram_user.pk])
    token = form_token_of(client.get(url))
    wrong = client.post(url, {"otp_code": "000000", "form_token": token})
    assert wrong.status_code == 200 and "wrong or has already been used" in wrong.content.decode()
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):  # past django-otp's wait after a failure
        right = client.post(url, {"otp_code": owner.code(), "form_token": token})
    assert right.status_code == 302
    assert AccessKey.objects.filter(user=ram_user.user).count() == 1


def test_only_the_issuer_opens_the_one_time_page(owner, ram_admin, other_owner):
    client = signed_in(owner)
    response = client.post(reverse("accounts:create-users"), create_user_form(new_form_token()))
    for stranger in (ram_admin, other_owner):
        assert signed_in(stranger).get(response.url).status_code == 404
    assert shown_password(client.get(response.url))  # the strangers spent nothing
    assert Client().get(response.url).status_code == 302  # signed out: to the sign-in page


def test_sealed_secrets_stay_in_their_packet_and_the_page_says_so(owner):
    client = signed_in(owner)
    response = client.post(reverse("accounts:create-users"), create_user_form(new_form_token(), deliver="seal"))
    page = client.get(response.url).content.decode()
    assert "sealed in delivery packets" in page and 'data-field="password"' not in page
    assert DeliveryPacket.objects.get(ram_user__name="carol").state == DeliveryPacket.State.SEALED


def test_a_packet_printed_before_the_page_opened_is_not_shown_there(owner):
    client = signed_in(owner)
    response = client.post(reverse("accounts:create-users"), create_user_form(new_form_token()))
    packet = DeliveryPacket.objects.get(ram_user__name="carol")
    print_delivery_packets(actor=owner.actor, packet_ids=[packet.pk], channel="pdf")
    page = client.get(response.url).content.decode()
    assert 'data-field="password"' not in page
    assert f"#{packet.pk} had already left the portal another way" in page


def test_the_owners_own_accesskey_secret_waits_sealed_and_is_wiped_once_shown(owner):
    client = signed_in(owner)
    url = reverse("accounts:create-account-access-key")
    response = client.post(url, {"otp_code": owner.code(), "form_token": form_token_of(client.get(url))})
    reveal = OneTimeReveal.objects.get()
    key = AccessKey.objects.get(user=owner.user)
    assert reveal.state == State.READY and reveal.sealed_secrets.startswith("v1$")
    assert open_secret(key) not in reveal.sealed_secrets
    secret = shown_access_key_secret(client.get(response.url))
    assert secret == open_secret(key)
    reveal.refresh_from_db()
    assert reveal.state == State.SHOWN and reveal.sealed_secrets == "" and reveal.shown_at
    event = AuditEvent.objects.get(action="secrets.shown")
    assert event.details == {"kind": "access_key_created", "access_key_id": key.access_key_id, "holder": owner.user.pk}
    assert secret not in str(event.details)


def test_new_backup_codes_submitted_twice_are_made_once_and_shown_once(owner):
    client = signed_in(owner)
    token = form_token_of(client.get(reverse("accounts:my-account")))
    form = {"otp_code": owner.code(), "form_token": token}
    first = client.post(reverse("accounts:regenerate-backup-codes"), form)
    second = client.post(reverse("accounts:regenerate-backup-codes"), form)
    assert first.url == second.url
    assert AuditEvent.objects.filter(action="mfa.backup_codes_regenerated").count() == 1
    page = client.get(first.url)
    codes = re.findall(r'<li class="col">([a-z2-9]{5}-[a-z2-9]{5})</li>', page.content.decode())
    assert len(codes) == 10 and BackupCode.objects.count() == 10
    again = client.get(first.url).content.decode()
    assert "Already shown." in again and not any(code in again for code in codes)


def claimed_and_still_working(owner, token: str) -> OneTimeReveal:
    """The claim a request makes on its form's token before its work (what a request that died leaves behind)."""
    return OneTimeReveal.objects.create(
        user=owner.user,
        account=owner.account,
        form_token_hash=hashlib.sha256(token.encode()).hexdigest(),
        uid=uuid.uuid4(),
        kind=OneTimeReveal.Kind.USERS_CREATED,
    )


def test_a_claim_abandoned_by_a_dead_request_is_taken_over_by_the_next_submission(owner):
    token = new_form_token()
    with time_machine.travel(timezone.now() - ABANDONED_AFTER - timedelta(seconds=5)):
        stale = claimed_and_still_working(owner, token)
    client = signed_in(owner)
    page = client.get(stale.get_absolute_url()).content.decode()
    assert "did not finish" in page and "nothing was changed" in page
    response = client.post(reverse("accounts:create-users"), create_user_form(token))
    assert response.status_code == 302 and response.url != stale.get_absolute_url()
    assert RamUser.objects.filter(name="carol").count() == 1


def test_a_page_still_being_worked_on_says_so_and_looks_again(owner):
    working = claimed_and_still_working(owner, new_form_token())
    page = signed_in(owner).get(working.get_absolute_url()).content.decode()
    assert "still being processed" in page and '<meta http-equiv="refresh" content="1">' in page


def test_secrets_nobody_came_to_see_are_wiped_after_a_day(owner):
    client = signed_in(owner)
    url = reverse("accounts:create-account-access-key")
    response = client.post(url, {"otp_code": owner.code(), "form_token": new_form_token()})
    assert expire_unseen_reveals() == 0
    assert expire_unseen_reveals(now=timezone.now() + timedelta(days=1, minutes=1)) == 1
    reveal = OneTimeReveal.objects.get()
    assert reveal.state == State.EXPIRED and reveal.sealed_secrets == ""
    page = client.get(response.url).content.decode()
    assert "Not shown, and now wiped." in page and 'id="access-key-secret"' not in page


# Two submissions of one form at the same moment, each in its own thread and database connection.


def test_two_concurrent_create_user_submissions_create_one_user_shown_once(transactional_db):
    owner = make_owner("race-users@acme.example", "RaceUsers")
    clients = [signed_in(owner), signed_in(owner)]
    form = create_user_form(new_form_token())
    responses = run_concurrently(2, lambda: clients.pop().post(reverse("accounts:create-users"), form))
    assert all(not isinstance(response, Exception) for response in responses), responses
    assert [response.status_code for response in responses] == [302, 302]
    assert responses[0].url == responses[1].url
    assert RamUser.objects.filter(name="carol").count() == 1
    client = signed_in(owner)
    password = shown_password(client.get(responses[0].url))
    assert "Already shown." in client.get(responses[1].url).content.decode()
    assert signs_in(owner, "carol", password)


def test_two_concurrent_create_accesskey_submissions_with_one_code_issue_one_key_shown_once(live_server):
    owner = make_owner("race-keys@acme.example", "RaceKeys")
    alice = make_ram_user(owner, "alice")
    url = reverse("accounts:create-access-key", args=[alice.ram_user.pk])
    form = {"otp_code": owner.code(), "form_token": new_form_token(), "deliver": "show"}
    clients = [signed_in(owner), signed_in(owner)]
    responses = run_concurrently(2, lambda: clients.pop().post(url, form))
    assert [getattr(response, "status_code", response) for response in responses] == [302, 302]
    assert responses[0].url == responses[1].url
    [key] = AccessKey.objects.filter(user=alice.user)
    assert AuditEvent.objects.filter(action="otp.failed").count() == 0  # the repeat never met the used code
    client = signed_in(owner)
    secret = shown_access_key_secret(client.get(responses[1].url))
    assert secret == open_secret(key)
    assert 'id="access-key-secret"' not in client.get(responses[0].url).content.decode()
    # The secret shown works: the official SDK's request signed with it passes the signature check (alice holds no
    # policy, so the call itself is refused), where one signed with another secret does not.
    for signing_secret, code in ((secret, "NoPermission"), (secret[::-1], "SignatureDoesNotMatch")):
        with pytest.raises(TeaException) as refusal:
            ram_client(live_server, key.access_key_id, signing_secret).list_users(ram.ListUsersRequest())
        assert refusal.value.code == code


def test_two_concurrent_modify_logon_settings_submissions_set_one_password_shown_once(transactional_db):
    owner = make_owner("race-logon@acme.example", "RaceLogon")
    bob = make_ram_user(owner, "bob", console_logon=False)
    url = reverse("accounts:modify-logon-settings", args=[bob.ram_user.pk])
    form = {"is_enabled": "1", "password_mode": "generate", "deliver": "show", "form_token": new_form_token()}
    clients = [signed_in(owner), signed_in(owner)]
    responses = run_concurrently(2, lambda: clients.pop().post(url, form))
    assert [getattr(response, "status_code", response) for response in responses] == [302, 302]
    assert responses[0].url == responses[1].url
    assert AuditEvent.objects.filter(action__startswith="console_logon.").count() == 1
    assert DeliveryPacket.objects.filter(ram_user=bob.ram_user).count() == 1
    client = signed_in(owner)
    password = shown_password(client.get(responses[0].url))
    assert escape(password) not in client.get(responses[0].url).content.decode()
    assert signs_in(owner, "bob", password)


@pytest.mark.parametrize("deliver", ["show", "seal"])
def test_modify_logon_settings_without_a_new_password_claims_nothing(owner, ram_user, deliver):
    url = reverse("accounts:modify-logon-settings", args=[ram_user.ram_user.pk])
    form = {"is_enabled": "1", "password_mode": "keep", "must_bind_mfa": "on", "deliver": deliver}
    response = signed_in(owner).post(url, {**form, "form_token": new_form_token()})
    assert response.status_code == 302 and response.url == reverse("accounts:user-detail", args=[ram_user.ram_user.pk])
    assert not OneTimeReveal.objects.exists()


def test_an_owners_added_device_sent_twice_is_bound_once(owner):
    regenerate_backup_codes(actor=owner.actor, otp_code=owner.code())  # it has its codes: none are made anew
    client = signed_in(owner)
    page = client.get(reverse("accounts:bind-mfa"))
    device_id = int(re.search(r'name="device_id" value="(\d+)"', page.content.decode()).group(1))
    new_device = Authenticator.objects.get(pk=device_id)
    form = {
        "device_id": device_id,
        "current_otp_code": fresh_totp_code(owner.device),
        "name": "spare-phone",
        "otp_code": totp_code(new_device),
        "form_token": form_token_of(page),
    }
    first = client.post(reverse("accounts:bind-mfa"), form)
    second = client.post(reverse("accounts:bind-mfa"), form)
    assert first.status_code == second.status_code == 302 and first.url == second.url == reverse("accounts:my-account")
    assert list(Authenticator.objects.filter(user=owner.user, confirmed=True).order_by("pk")) == [
        owner.device,
        new_device,
    ]
    assert AuditEvent.objects.filter(action="mfa.bind").count() == 1


def test_a_first_device_sent_twice_shows_its_backup_codes_once(owner):
    alice = make_ram_user(owner, "alice")
    client = signed_in(alice)
    page = client.get(reverse("accounts:bind-mfa"))
    device_id = int(re.search(r'name="device_id" value="(\d+)"', page.content.decode()).group(1))
    form = {
        "device_id": device_id,
        "otp_code": totp_code(Authenticator.objects.get(pk=device_id)),
        "form_token": form_token_of(page),
    }
    first = client.post(reverse("accounts:bind-mfa"), form)
    second = client.post(reverse("accounts:bind-mfa"), form)
    assert first.status_code == second.status_code == 302 and first.url == second.url
    assert AuditEvent.objects.filter(action="mfa.bind").count() == 1
    codes = re.findall(r'<li class="col">([a-z2-9]{5}-[a-z2-9]{5})</li>', client.get(first.url).content.decode())
    assert len(codes) == 10
    assert "Already shown." in client.get(first.url).content.decode()


def test_a_repeat_goes_to_the_page_even_when_the_form_would_now_be_refused(owner):
    bob = make_ram_user(owner, "bob", console_logon=False)
    client = signed_in(owner)
    url = reverse("accounts:modify-logon-settings", args=[bob.ram_user.pk])
    token = form_token_of(client.get(url))
    form = {"is_enabled": "1", "password_mode": "custom", "password": "Harvest-Quartz-Beacon-3318", "form_token": token}
    first = client.post(url, form)
    # Back and OK again: the browser does not restore a password field, which alone would be refused.
    again = client.post(url, {**form, "password": ""})
    assert again.status_code == 302 and again.url == first.url
    assert DeliveryPacket.objects.filter(ram_user=bob.ram_user).count() == 1


def test_unseen_pages_whose_secrets_are_in_packets_keep_them_there(owner):
    client = signed_in(owner)
    client.post(reverse("accounts:create-users"), create_user_form(new_form_token()))
    url = reverse("accounts:create-account-access-key")
    client.post(url, {"otp_code": owner.code(), "form_token": new_form_token()})
    assert expire_unseen_reveals(now=timezone.now() + timedelta(days=2)) == 1
    users_page = OneTimeReveal.objects.get(kind=OneTimeReveal.Kind.USERS_CREATED)
    assert users_page.state == State.READY  # its password is still sealed in carol's packet, which can be printed
    assert DeliveryPacket.objects.get(ram_user__name="carol").state == DeliveryPacket.State.SEALED
    event = AuditEvent.objects.get(action="secrets.expired_unseen")
    assert event.details["kind"] == "access_key_created" and event.actor == "mail worker"


def test_reveal_pressed_twice_on_a_claim_page_shows_the_secrets_once_in_that_browser_only(owner, smtp):
    created = sealed_user(owner, create_access_key=True)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="carol@example.com")
    deliver_due_emails()
    token = claim_token_from(smtp)
    browser = Client()
    page = browser.get(reverse("accounts:claim"))
    assert "portal_claim_browser" in page.cookies
    form = {"claim_code": token, "form_token": form_token_of(page)}
    first = browser.post(reverse("accounts:claim"), form)
    second = browser.post(reverse("accounts:claim"), form)  # a second click on "Reveal", or a reload
    assert first.status_code == second.status_code == 302 and first.url == second.url
    other_browser = Client()
    other_browser.get(reverse("accounts:claim"))
    assert other_browser.get(first.url).status_code == 404  # the page is the claiming browser's alone
    shown = browser.get(first.url)
    assert "no-store" in shown["Cache-Control"]
    assert escape(created.initial_password) in shown.content.decode()
    assert created.access_key_secret in shown.content.decode()
    again = browser.get(first.url).content.decode()
    assert "Already shown." in again and created.access_key_secret not in again
    packet = DeliveryPacket.objects.get(pk=created.packet.pk)
    assert packet.state == DeliveryPacket.State.CLAIMED and not packet.has_secrets
    assert AuditEvent.objects.filter(action="packet.claimed").count() == 1
    reveal = OneTimeReveal.objects.get(kind=OneTimeReveal.Kind.CLAIMED)
    assert reveal.sealed_secrets == "" and reveal.account == owner.account and reveal.user is None
