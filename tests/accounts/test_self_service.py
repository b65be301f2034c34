"""A RAM user's own password and MFA device, as far as the security settings allow."""

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Authenticator
from accounts.services.security import update_password_policy, update_security_settings
from tests.conftest import RAM_PASSWORD, signed_in, totp_code

NEW_PASSWORD = "Maple-Comet-Harbour-2291"


def change_password(client, current=RAM_PASSWORD, new=NEW_PASSWORD):
    return client.post(
        reverse("accounts:change-password"),
        {"current_password": current, "new_password": new, "confirm_password": new},
    )


def test_a_ram_user_changes_their_password_with_the_current_one(ram_user):
    client = signed_in(ram_user)
    refused = change_password(client, current="not-the-password")
    assert refused.status_code == 200 and "The current password is incorrect." in refused.content.decode()
    ram_user.user.refresh_from_db()
    assert ram_user.user.check_password(RAM_PASSWORD)
    assert change_password(client).status_code == 302
    ram_user.user.refresh_from_db()
    assert ram_user.user.check_password(NEW_PASSWORD)
    # The session that made the change carries on.
    mine = client.get(reverse("accounts:my-credentials"))
    assert mine.status_code == 200 and ram_user.ram_user.logon_name in mine.content.decode()


def test_password_change_not_allowed_hides_the_link_and_refuses_the_url(owner, ram_user):
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_change_password": False})
    client = signed_in(ram_user)
    assert reverse("accounts:change-password") not in client.get(reverse("accounts:my-credentials")).content.decode()
    assert client.get(reverse("accounts:change-password")).status_code == 403
    assert change_password(client).status_code == 403
    ram_user.user.refresh_from_db()
    assert ram_user.user.check_password(RAM_PASSWORD)


def test_a_ram_user_binds_a_device_then_adds_another(ram_user):
    client = signed_in(ram_user)
    client.get(reverse("accounts:bind-mfa"))
    first = Authenticator.objects.get(user=ram_user.user, confirmed=False)
    response = client.post(reverse("accounts:bind-mfa"), {"device_id": first.pk, "otp_code": totp_code(first)})
    assert response.status_code == 302  # to the one-time page of the backup codes its first device brings
    first.refresh_from_db()
    assert first.confirmed
    client.get(reverse("accounts:bind-mfa"))
    second = Authenticator.objects.get(user=ram_user.user, confirmed=False)
    # Adding another needs a code from one bound.
    refused = client.post(
        reverse("accounts:bind-mfa"),
        {"device_id": second.pk, "otp_code": totp_code(second), "current_otp_code": "000000"},
    )
    assert refused.status_code == 200
    assert "The code from your MFA device is wrong or used." in refused.content.decode()
    assert Authenticator.objects.get(pk=first.pk).confirmed
    # The wrong code throttles the old device for a moment (django-otp doubles the wait per failure).
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        response = client.post(
            reverse("accounts:bind-mfa"),
            {"device_id": second.pk, "otp_code": totp_code(second), "current_otp_code": totp_code(first)},
        )
    assert response.status_code == 302
    assert list(Authenticator.objects.filter(user=ram_user.user).order_by("pk").values_list("pk", flat=True)) == [
        first.pk,
        second.pk,
    ]


def test_mfa_management_not_allowed_hides_the_link_and_refuses_the_url(owner, ram_user):
    update_security_settings(actor=owner.actor, otp_code=owner.code(), values={"allow_manage_mfa": False})
    client = signed_in(ram_user)
    assert reverse("accounts:bind-mfa") not in client.get(reverse("accounts:my-credentials")).content.decode()
    assert client.get(reverse("accounts:bind-mfa")).status_code == 403
    assert client.post(reverse("accounts:bind-mfa"), {"device_id": 1, "otp_code": "123456"}).status_code == 403
    assert not Authenticator.objects.filter(user=ram_user.user).exists()


def test_guessing_the_current_password_is_locked_like_sign_in(owner, ram_user):
    update_password_policy(actor=owner.actor, otp_code=owner.code(), values={"max_failed_attempts": 3})
    client = signed_in(ram_user)
    for _ in range(3):
        assert "incorrect" in change_password(client, current="wrong-guess-123").content.decode()
    locked = change_password(client)  # even the right password, now
    assert "Too many wrong passwords" in locked.content.decode()
    ram_user.user.refresh_from_db()
    assert ram_user.user.check_password(RAM_PASSWORD)
