import re
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.actors import operator_actor
from accounts.models import AccessKey, DeliveryPacket, RamUser
from accounts.services.access_keys import (
    delete_access_key,
    issue_access_key,
    open_secret,
    set_access_key_status,
)
from accounts.services.otp import new_authenticator
from accounts.services.ram_users import DeleteConflict, delete_ram_user
from accounts.services.security import update_security_settings
from portal.models import AuditEvent
from tests.accounts.test_concurrency import run_concurrently
from tests.conftest import make_owner, make_ram_user, signed_in


def create_url(ram_user):
    return reverse("accounts:create-access-key", args=[ram_user.ram_user.pk])


def issue_through_the_console(client, url, code):
    """Submits "Create AccessKey" and follows it to the one-time page (or the form, refused)."""
    return client.post(url, {"otp_code": code}, follow=True)


def test_administrator_issues_a_key_that_is_shown_once_and_sealed_at_rest(owner, ram_user):
    response = issue_through_the_console(signed_in(owner), create_url(ram_user), owner.code())
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    access_key = AccessKey.objects.get(user=ram_user.user)
    secret = response.context["secret"]
    assert re.fullmatch(r"LTAI[A-Za-z0-9]{20}", access_key.access_key_id)
    assert re.fullmatch(r"[A-Za-z0-9]{30}", secret)
    assert secret in response.content.decode()
    assert secret not in access_key.sealed_secret
    assert open_secret(access_key) == secret
    assert access_key.is_active and access_key.created_by == owner.account.principal
    event = AuditEvent.objects.get(action="access_key.create")
    assert event.target == ram_user.ram_user.principal
    packet = DeliveryPacket.objects.get(access_key_id=access_key.access_key_id)
    assert event.details == {"access_key_id": access_key.access_key_id, "delivery_packet": packet.pk}
    # Shown on the issuing page, so the packet's sealed copy is already wiped.
    assert packet.state == DeliveryPacket.State.WIPED and packet.channel == "shown"
    assert not packet.sealed_access_key_secret
    # The user's page lists the key, never its secret.
    detail = signed_in(owner).get(reverse("accounts:user-detail", args=[ram_user.ram_user.pk])).content.decode()
    assert access_key.access_key_id in detail and secret not in detail
    overview = signed_in(owner).get(reverse("accounts:overview"))
    assert overview.context["access_key_count"] == 1


def test_the_same_otp_code_in_two_forms_creates_one_key(owner, ram_user):
    # Two form instances (two tabs, or a script without the form's token) with one code: the code works once.
    client = signed_in(owner)
    code = owner.code()
    first = issue_through_the_console(client, create_url(ram_user), code)
    second = issue_through_the_console(client, create_url(ram_user), code)
    assert first.status_code == second.status_code == 200
    assert "secret" in first.context and "secret" not in second.context
    assert "already been used" in second.content.decode()
    assert AccessKey.objects.filter(user=ram_user.user).count() == 1


def test_a_wrong_code_issues_nothing(owner, ram_user):
    response = issue_through_the_console(signed_in(owner), create_url(ram_user), "000000")
    assert response.status_code == 200 and "secret" not in response.context
    assert not AccessKey.objects.exists()
    assert AuditEvent.objects.filter(action="otp.failed").count() == 1


def test_at_most_two_keys_per_user(owner, ram_user):
    for _ in range(2):
        issue_access_key(actor=operator_actor(owner.account), holder=ram_user.user, otp_code=None)
    response = issue_through_the_console(signed_in(owner), create_url(ram_user), owner.code())
    assert "at most 2 AccessKeys" in response.content.decode()
    assert AccessKey.objects.filter(user=ram_user.user).count() == 2


def test_ten_concurrent_issuances_with_room_for_one_create_exactly_one(transactional_db):
    owner = make_owner("keys@acme.example", "Keys")
    alice = make_ram_user(owner, "alice")
    issue_access_key(actor=operator_actor(owner.account), holder=alice.user, otp_code=None)
    barrier_results = run_concurrently(
        10, lambda: issue_access_key(actor=operator_actor(owner.account), holder=alice.user, otp_code=None)
    )
    issued = [result for result in barrier_results if not isinstance(result, Exception)]
    refused = [result for result in barrier_results if isinstance(result, ValidationError)]
    assert len(issued) == 1, barrier_results
    assert len(refused) == 9, barrier_results
    assert AccessKey.objects.filter(user=alice.user).count() == 2


def test_disable_enable_and_delete_only_from_inactive(owner, ram_user):
    issued = issue_access_key(actor=owner.actor, holder=ram_user.user, otp_code=owner.code())
    key = issued.access_key
    with pytest.raises(ValidationError, match="Disable the AccessKey"):
        delete_access_key(actor=owner.actor, access_key=key)
    client = signed_in(owner)
    pk = ram_user.ram_user.pk
    client.post(reverse("accounts:disable-access-key", args=[pk, key.access_key_id]))
    key.refresh_from_db()
    assert not key.is_active
    client.post(reverse("accounts:enable-access-key", args=[pk, key.access_key_id]))
    key.refresh_from_db()
    assert key.is_active
    client.post(reverse("accounts:disable-access-key", args=[pk, key.access_key_id]))
    client.post(reverse("accounts:delete-access-key", args=[pk, key.access_key_id]), {"confirm": key.access_key_id})
    assert not AccessKey.objects.filter(access_key_id=key.access_key_id).exists()
    actions = list(AuditEvent.objects.filter(action__startswith="access_key.").values_list("action", flat=True))
    assert sorted(actions) == sorted(
        ["access_key.create", "access_key.disable", "access_key.enable", "access_key.disable", "access_key.delete"]
    )


def test_owner_key_operations_each_need_the_owners_code(owner):
    client = signed_in(owner)
    response = client.post(reverse("accounts:create-account-access-key"), {"otp_code": owner.code()}, follow=True)
    key = AccessKey.objects.get(user=owner.user)
    assert response.context["secret"] and key.created_by == owner.account.principal
    url = reverse("accounts:disable-account-access-key", args=[key.access_key_id])
    client.post(url, {"otp_code": ""})
    key.refresh_from_db()
    assert key.is_active
    client.post(url, {"otp_code": owner.code()})
    key.refresh_from_db()
    assert not key.is_active


def test_ram_administrators_cannot_touch_the_primary_accounts_keys(owner, ram_admin):
    issued = issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)
    client = signed_in(ram_admin)
    assert client.get(reverse("accounts:create-account-access-key")).status_code == 403
    url = reverse("accounts:disable-account-access-key", args=[issued.access_key.access_key_id])
    assert client.post(url).status_code == 403
    with pytest.raises(PermissionDenied):
        set_access_key_status(actor=ram_admin.actor, access_key=issued.access_key, is_active=False)
    assert AccessKey.objects.get(pk=issued.access_key.pk).is_active


SELF_SERVICE_URLS = (
    "accounts:enable-my-access-key",
    "accounts:disable-my-access-key",
    "accounts:delete-my-access-key",
)


def test_self_service_not_allowed_hides_the_controls_and_the_urls_refuse(owner, ram_user):
    new_authenticator(user=ram_user.user, name="Phone", confirmed=True)
    key = issue_access_key(actor=operator_actor(owner.account), holder=ram_user.user, otp_code=None).access_key
    client = signed_in(ram_user)
    page = client.get(reverse("accounts:my-credentials")).content.decode()
    assert key.access_key_id in page
    assert "Create AccessKey" not in page and "Disable" not in page
    assert client.get(reverse("accounts:create-my-access-key")).status_code == 403
    assert client.post(reverse("accounts:create-my-access-key"), {"otp_code": "123456"}).status_code == 403
    for name in SELF_SERVICE_URLS:
        assert client.post(reverse(name, args=[key.access_key_id])).status_code == 403
    key.refresh_from_db()
    assert key.is_active and AccessKey.objects.count() == 1


def test_self_service_allowed_lets_a_user_manage_their_own_keys_with_their_own_code(owner, ram_user):
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_manage_access_keys": True})
    device = new_authenticator(user=ram_user.user, name="Phone", confirmed=True)
    ram_user.device = device
    client = signed_in(ram_user)
    assert "Create AccessKey" in client.get(reverse("accounts:my-credentials")).content.decode()
    response = client.post(reverse("accounts:create-my-access-key"), {"otp_code": ram_user.code()}, follow=True)
    key = AccessKey.objects.get(user=ram_user.user)
    assert response.context["secret"] and key.created_by == ram_user.ram_user.principal
    client.post(reverse("accounts:disable-my-access-key", args=[key.access_key_id]))
    client.post(reverse("accounts:delete-my-access-key", args=[key.access_key_id]), {"confirm": key.access_key_id})
    assert not AccessKey.objects.exists()


def test_self_service_without_an_mfa_device_is_sent_to_bind_one(owner, ram_user):
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_manage_access_keys": True})
    response = signed_in(ram_user).get(reverse("accounts:create-my-access-key"))
    assert response.status_code == 302 and response.url == reverse("accounts:bind-mfa")
    assert not AccessKey.objects.exists()


def test_a_user_cannot_reach_another_users_key_through_self_service(owner, ram_user):
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_manage_access_keys": True})
    bob = make_ram_user(owner, "bob")
    bobs_key = issue_access_key(actor=operator_actor(owner.account), holder=bob.user, otp_code=None).access_key
    response = signed_in(ram_user).post(reverse("accounts:disable-my-access-key", args=[bobs_key.access_key_id]))
    assert response.status_code == 404
    bobs_key.refresh_from_db()
    assert bobs_key.is_active


def test_deleting_a_user_in_the_console_deletes_their_keys_but_the_service_alone_refuses(owner, ram_user):
    key = issue_access_key(actor=operator_actor(owner.account), holder=ram_user.user, otp_code=None).access_key
    with pytest.raises(DeleteConflict) as conflict:
        delete_ram_user(actor=owner.actor, ram_user=ram_user.ram_user, otp_code=owner.code())
    assert conflict.value.blockers == [f"AccessKey {key.access_key_id}"]
    assert RamUser.objects.filter(pk=ram_user.ram_user.pk).exists()
    page = signed_in(owner).get(reverse("accounts:delete-user", args=[ram_user.ram_user.pk])).content.decode()
    assert key.access_key_id in page
    response = signed_in(owner).post(
        reverse("accounts:delete-user", args=[ram_user.ram_user.pk]),
        {"confirm_name": "alice", "otp_code": owner.code()},
    )
    assert response.status_code == 302
    assert not RamUser.objects.filter(pk=ram_user.ram_user.pk).exists()
    assert not AccessKey.objects.exists()
    event = AuditEvent.objects.get(action="ram_user.delete")
    assert event.details["deleted_access_keys"] == [key.access_key_id]


def test_create_access_key_command_prints_the_id_and_the_secret_only(owner, ram_user):
    out = StringIO()
    call_command("create_access_key", account=owner.account.account_id, user="ALICE", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    key = AccessKey.objects.get(access_key_id=lines[0])
    assert key.user == ram_user.user and open_secret(key) == lines[1]
    # The secret left on standard output: no sealed copy is left to leave a second time.
    packet = DeliveryPacket.objects.get(access_key_id=key.access_key_id)
    assert packet.state == DeliveryPacket.State.WIPED and not packet.sealed_access_key_secret
    event = AuditEvent.objects.get(action="access_key.create")
    assert event.channel == "command" and lines[1] not in str(event.details)
    out = StringIO()
    call_command("create_access_key", account=owner.account.account_id, stdout=out)
    assert AccessKey.objects.get(access_key_id=out.getvalue().splitlines()[0]).user == owner.user


def test_create_access_key_command_refuses_unknown_names(owner):
    with pytest.raises(CommandError, match="no primary account"):
        call_command("create_access_key", account="0000000000000000")
    with pytest.raises(CommandError, match="no RAM user named ghost"):
        call_command("create_access_key", account=owner.account.account_id, user="ghost")
    assert not AccessKey.objects.exists()


def test_an_anonymous_reload_of_the_creation_url_shows_nothing(owner, ram_user):
    # The page is behind the sign-in gate; an anonymous visitor is sent away without a trace of a key.
    response = Client().post(create_url(ram_user), {"otp_code": owner.code()})
    assert response.status_code == 302
    assert not AccessKey.objects.exists()
