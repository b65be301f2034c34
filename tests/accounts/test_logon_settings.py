import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import PasswordHistoryEntry, PasswordPolicy, RamUser
from accounts.passwords import generate_password
from accounts.services.logon import LogonChange, modify_logon_settings
from accounts.services.security import update_password_policy
from portal.models import AuditEvent
from tests.conftest import RAM_PASSWORD, make_ram_user, signed_in


def signed_in_at_logon_link(person) -> Client:
    client = Client()
    response = client.post(
        reverse("accounts:ram-sign-in", args=[person.account.default_domain]),
        {"login": person.ram_user.name, "password": person.password},
    )
    client.get(response.url)
    mine = client.get(reverse("accounts:my-credentials"))
    assert mine.status_code == 200 and person.ram_user.logon_name in mine.content.decode()
    return client


def test_disabling_console_logon_ends_existing_sessions(owner, ram_user):
    client = signed_in_at_logon_link(ram_user)
    response = signed_in(owner).post(
        reverse("accounts:modify-logon-settings", args=[ram_user.ram_user.pk]),
        {"is_enabled": "0", "password_mode": "keep"},
    )
    assert response.status_code == 302
    assert client.get(reverse("accounts:my-credentials")).status_code == 302
    ram_user.ram_user.refresh_from_db()
    assert not ram_user.ram_user.is_console_logon_enabled
    assert not ram_user.ram_user.user.has_usable_password()
    assert AuditEvent.objects.filter(action="console_logon.disable", target=ram_user.ram_user.principal).count() == 1


def test_setting_a_new_password_ends_existing_sessions(owner, ram_user):
    client = signed_in_at_logon_link(ram_user)
    new = "Harvest-Quartz-Beacon-3318"
    modify_logon_settings(
        actor=owner.actor, ram_user=ram_user.ram_user, change=LogonChange(is_enabled=True, new_password=new)
    )
    assert client.get(reverse("accounts:my-credentials")).status_code == 302
    ram_user.user.refresh_from_db()
    assert ram_user.user.check_password(new)


def test_generated_password_is_shown_once_and_never_stored_in_clear(owner):
    bob = make_ram_user(owner, "bob", console_logon=False)
    response = signed_in(owner).post(
        reverse("accounts:modify-logon-settings", args=[bob.ram_user.pk]),
        {"is_enabled": "1", "password_mode": "generate", "must_reset_password": "on"},
        follow=True,
    )
    assert response.status_code == 200 and response.redirect_chain[0][0].startswith("/issued/")
    assert "no-store" in response["Cache-Control"]
    password = response.context["sheet"].password
    page = response.content.decode()
    # The one-time reveal's controls: Copy, "Download CSV File", and "Done" only once saving is confirmed.
    for control in ('data-copy-target="#password-of-', "Download CSV File", "I have saved the password"):
        assert control in page, control
    assert 'id="done-link" href="' in page and 'aria-disabled="true"' in page
    bob.user.refresh_from_db()
    assert bob.user.check_password(password)
    assert password not in bob.user.password
    assert password not in str(list(AuditEvent.objects.values()))
    assert RamUser.objects.get(pk=bob.ram_user.pk).must_reset_password
    # The user detail page, opened afterwards, does not show it.
    assert (
        password not in signed_in(owner).get(reverse("accounts:user-detail", args=[bob.ram_user.pk])).content.decode()
    )


def test_enabling_without_a_password_is_refused(owner):
    bob = make_ram_user(owner, "bob", console_logon=False)
    with pytest.raises(ValidationError):
        modify_logon_settings(actor=owner.actor, ram_user=bob.ram_user, change=LogonChange(is_enabled=True))
    assert not RamUser.objects.get(pk=bob.ram_user.pk).is_console_logon_enabled


def test_password_reuse_prevention(owner, ram_user):
    update_password_policy(actor=owner.actor, otp_code=owner.code(), values={"reuse_prevention": 3})
    new = "Harvest-Quartz-Beacon-3318"
    modify_logon_settings(
        actor=owner.actor, ram_user=ram_user.ram_user, change=LogonChange(is_enabled=True, new_password=new)
    )
    assert PasswordHistoryEntry.objects.filter(user=ram_user.user).count() == 1
    with pytest.raises(ValidationError) as error:
        modify_logon_settings(
            actor=owner.actor,
            ram_user=ram_user.ram_user,
            change=LogonChange(is_enabled=True, new_password=RAM_PASSWORD),
        )
    assert "last 3 passwords" in str(error.value)


def test_password_policy_classes_and_context_words_are_enforced(owner, ram_user):
    update_password_policy(
        actor=owner.actor, otp_code=owner.code(), values={"require_symbols": True, "minimum_length": 14}
    )
    for weak, reason in (
        ("Abcdefghijklmnop1", "symbol"),
        ("Sh0rt!pass", "at least 14"),
        ("alice-Was-Here-2026!", "must not contain"),
        ("Acme-Orbit-Ledger-99!", "must not contain"),
    ):
        with pytest.raises(ValidationError) as error:
            modify_logon_settings(
                actor=owner.actor, ram_user=ram_user.ram_user, change=LogonChange(is_enabled=True, new_password=weak)
            )
        assert reason in str(error.value), weak


def test_generated_passwords_never_start_with_a_spreadsheet_formula_character(owner):
    # The reveal page's CSV writes secrets exactly as issued, so a first = + - @ would run as a formula.
    policy = PasswordPolicy.objects.get(account=owner.account)
    first_characters = {generate_password(policy)[0] for _ in range(400)}
    assert not first_characters & set("=+-@")
    assert len(first_characters) > 20  # still drawn from the whole alphabet
