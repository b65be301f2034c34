"""Every main page opens for the owner, under its own heading, with the facts that page exists to show."""

import html
import re

import pytest
from django.urls import reverse

from tests.conftest import signed_in


def heading_and_text(response) -> tuple[str, str]:
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    [heading] = re.findall(r"<h1[^>]*>(.*?)</h1>", page, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", heading).split()), page


# name → (heading, what else the page must show: a callable of the owner and the RAM user alice)
OWNER_PAGES = {
    "overview": ("Overview", lambda owner, alice: owner.account.account_id),
    "user-list": ("Users", lambda owner, alice: reverse("accounts:user-detail", args=[alice.ram_user.pk])),
    "create-users": ("Create User", lambda owner, alice: "Console Password Logon"),
    "security-settings": ("RAM user security settings", lambda owner, alice: "Logon IP masks"),
    "password-policy": ("Password policy", lambda owner, alice: f'name="minimum_length" value="{12}"'),
    "policy-list": ("Policies", lambda owner, alice: "AliyunRAMReadOnlyAccess"),
    "audit-trail": ("Audit trail", lambda owner, alice: alice.ram_user.principal),  # the event of its creation
    "my-account": ("My account", lambda owner, alice: owner.user.email),
    "bind-mfa": ("Add an MFA device", lambda owner, alice: "QR code for your authenticator app"),
    "change-password": ("Change password", lambda owner, alice: 'autocomplete="current-password"'),
}


@pytest.mark.parametrize("name", OWNER_PAGES)
def test_owner_pages_render(owner, ram_user, name):
    heading, page = heading_and_text(signed_in(owner).get(reverse(f"accounts:{name}")))
    expected_heading, fact = OWNER_PAGES[name]
    assert heading == expected_heading
    assert fact(owner, ram_user) in page


@pytest.mark.parametrize(
    ("name", "heading", "fact"),
    [
        ("user-detail", "Alice", "alice@"),
        ("edit-user", "Edit alice", 'name="display_name" value="Alice"'),
        ("delete-user", "Delete alice", "Type the user name to confirm"),
        ("modify-logon-settings", "Modify Logon Settings", "Require MFA at next logon"),
    ],
)
def test_user_pages_render(owner, ram_user, name, heading, fact):
    shown, page = heading_and_text(signed_in(owner).get(reverse(f"accounts:{name}", args=[ram_user.ram_user.pk])))
    assert shown.startswith(heading)
    assert fact in page
