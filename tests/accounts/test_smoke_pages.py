import pytest
from django.urls import reverse

from tests.conftest import signed_in


@pytest.mark.parametrize(
    "name",
    [
        "overview",
        "user-list",
        "create-users",
        "security-settings",
        "password-policy",
        "policy-list",
        "audit-trail",
        "my-account",
        "bind-mfa",
        "change-password",
    ],
)
def test_owner_pages_render(owner, ram_user, name):
    response = signed_in(owner).get(reverse(f"accounts:{name}"))
    assert response.status_code == 200


def test_user_pages_render(owner, ram_user):
    client = signed_in(owner)
    for name in ("user-detail", "edit-user", "delete-user", "modify-logon-settings"):
        assert client.get(reverse(f"accounts:{name}", args=[ram_user.ram_user.pk])).status_code == 200
