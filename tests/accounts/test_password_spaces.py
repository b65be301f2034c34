"""Spaces in passwords: a password of nothing else is refused; spaces at either end are kept exactly as typed
(ASVS 5.0 6.2.8: no transformation), on every way in and on every sheet."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import PasswordPolicy, RamUser
from accounts.pdf import delivery_sheets_pdf
from accounts.services.logon import LogonChange, modify_logon_settings
from accounts.services.ram_users import BatchRejected, NewRamUser, create_ram_users
from accounts.sheets import delivery_sheet
from tests.conftest import make_ram_user, signed_in
from tests.db_state import database_state

SPACED = " pass word "


@pytest.fixture
def short_passwords(owner):
    # " pass word " has 11 characters; the default policy asks for 12.
    PasswordPolicy.objects.filter(account=owner.account).update(minimum_length=8)


@pytest.mark.parametrize("blank", [" " * 16, "\t" * 12, " \u3000 " * 5])
def test_a_password_of_only_spaces_is_refused_when_creating_a_user(owner, blank):
    before = database_state()
    with pytest.raises(BatchRejected) as rejection:
        create_ram_users(
            actor=owner.actor,
            new_users=[NewRamUser(name="blank", display_name="Blank", console_logon=True, password=blank)],
        )
    assert rejection.value.row_errors[0]["password"] == ["The password must not consist only of spaces."]
    assert database_state() == before


def test_a_password_of_only_spaces_is_refused_by_modify_logon_settings(owner, ram_user):
    before = database_state()
    with pytest.raises(ValidationError) as rejection:
        modify_logon_settings(
            actor=owner.actor, ram_user=ram_user.ram_user, change=LogonChange(is_enabled=True, new_password=" " * 16)
        )
    assert rejection.value.message_dict["password"] == ["The password must not consist only of spaces."]
    assert database_state() == before


def test_sixteen_spaces_typed_on_create_user_get_a_message_beside_the_field(owner):
    response = signed_in(owner).post(
        reverse("accounts:create-users"),
        {
            "users-TOTAL_FORMS": "1",
            "users-INITIAL_FORMS": "0",
            "users-0-name": "blank",
            "users-0-display_name": "Blank",
            "users-0-console_logon": "on",
            "users-0-password_mode": "custom",
            "users-0-password": " " * 16,
            "deliver": "show",
        },
    )
    assert response.status_code == 200
    assert "The password must not consist only of spaces." in response.content.decode()
    assert not RamUser.objects.filter(name="blank").exists()


def test_spaces_at_both_ends_are_kept_exactly_and_only_the_exact_password_signs_in(owner, short_passwords):
    [created] = create_ram_users(
        actor=owner.actor,
        new_users=[
            NewRamUser(
                name="spacey", display_name="Spacey", console_logon=True, password=SPACED, must_reset_password=False
            )
        ],
    )
    user = created.ram_user.user
    assert user.check_password(SPACED)
    assert not user.check_password(SPACED.strip())
    url = reverse("accounts:ram-sign-in", args=[owner.account.default_domain])
    trimmed = Client().post(url, {"login": "spacey", "password": SPACED.strip()})
    assert trimmed.status_code == 200 and "The logon name or password is incorrect" in trimmed.content.decode()
    exact = Client().post(url, {"login": "spacey", "password": SPACED})
    assert exact.status_code == 302 and exact.url == reverse("accounts:my-credentials")


def test_the_sheet_and_the_pdf_carry_the_spaces_and_say_so(owner, short_passwords):
    alice = make_ram_user(owner, "alice")
    sheet = delivery_sheet(alice.ram_user, password=SPACED)
    assert sheet.password == SPACED
    assert sheet.password_spaces_note == "Note: the password begins and ends with a space."
    assert delivery_sheet(alice.ram_user, password=" leading-only").password_spaces_note.endswith(
        "begins with a space."
    )
    assert delivery_sheet(alice.ram_user, password="no-spaces-here").password_spaces_note == ""
    text = PdfReader(io.BytesIO(delivery_sheets_pdf([sheet]))).pages[0].extract_text()
    assert "pass word" in text
    assert "Note: the password begins and ends with a space." in text


def test_the_issuing_page_renders_the_password_exactly_with_its_note(owner, short_passwords):
    bob = make_ram_user(owner, "bob", console_logon=False)
    client = signed_in(owner)
    response = client.post(
        reverse("accounts:modify-logon-settings", args=[bob.ram_user.pk]),
        {"is_enabled": "1", "password_mode": "custom", "password": SPACED, "deliver": "show"},
        follow=True,
    )
    page = response.content.decode()
    assert f'data-field="password" id="password-of-{bob.ram_user.pk}">{SPACED}</span>' in page
    assert "Note: the password begins and ends with a space." in page
