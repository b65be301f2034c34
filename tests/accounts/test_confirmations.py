"""Destructive actions ask first (issue 13): "Delete" an AccessKey, "Unbind" MFA, "Revoke" a policy, "Revoke" a
packet, "Sign out everywhere". Each shows a page saying what will happen and to whom, with Cancel; the server
refuses a POST without the confirmation (a stray click, a script, a forged form) and changes nothing; with it, the
change is made and audited."""

import html
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from accounts.actors import operator_actor
from accounts.models import AccessKey, Authenticator, DeliveryPacket, PolicyAttachment, User
from accounts.services.access_keys import issue_access_key, set_access_key_status
from accounts.services.otp import new_authenticator
from accounts.services.policies import attach_policy
from tests.conftest import Person, signed_in
from tests.db_state import actions_since, database_state, last_event_id

NOT_CONFIRMED = "Nothing was changed: press the button on this page to confirm."


@dataclass
class Confirmation:
    """One destructive action as the tests below walk it."""

    url: str
    confirm: str  # what the confirmation must say
    action: str  # the audit event it writes
    is_done: Callable[[], bool]
    shows: list[str]  # the names the page must show: what, and whose
    cancel_url: str
    typed: bool = False  # the person types `confirm` (else the page's button sends it)
    data: dict = field(default_factory=dict)


def inactive_key_of(owner: Person, holder: User) -> AccessKey:
    key = issue_access_key(actor=operator_actor(owner.account), holder=holder, otp_code=None).access_key
    return set_access_key_status(actor=operator_actor(owner.account), access_key=key, is_active=False)


def user_page(alice: Person) -> str:
    return reverse("accounts:user-detail", args=[alice.ram_user.pk])


def delete_access_key(owner: Person, alice: Person) -> Confirmation:
    key = inactive_key_of(owner, alice.user)
    return Confirmation(
        url=reverse("accounts:delete-access-key", args=[alice.ram_user.pk, key.access_key_id]),
        confirm=key.access_key_id,
        typed=True,
        action="access_key.delete",
        is_done=lambda: not AccessKey.objects.filter(pk=key.pk).exists(),
        shows=[key.access_key_id, alice.ram_user.principal],
        cancel_url=user_page(alice),
    )


def unbind_mfa(owner: Person, alice: Person) -> Confirmation:
    new_authenticator(user=alice.user, name="Phone", confirmed=True)
    return Confirmation(
        url=reverse("accounts:reset-mfa", args=[alice.ram_user.pk]),
        confirm="alice",
        action="mfa.reset",
        is_done=lambda: not Authenticator.objects.filter(user=alice.user).exists(),
        shows=["Reset MFA of alice", alice.ram_user.logon_name],
        cancel_url=user_page(alice),
        data={"otp_code": owner.code()},  # the administrator's own code confirms it too
    )


def detach_policy(owner: Person, alice: Person) -> Confirmation:
    attach_policy(actor=owner.actor, ram_user=alice.ram_user, policy_name="AliyunRAMFullAccess")
    return Confirmation(
        url=reverse("accounts:detach-policy", args=[alice.ram_user.pk, "AliyunRAMFullAccess"]),
        confirm="AliyunRAMFullAccess",
        action="policy.detach",
        is_done=lambda: not PolicyAttachment.objects.filter(ram_user=alice.ram_user).exists(),
        shows=["Revoke AliyunRAMFullAccess from alice", alice.ram_user.principal, "Administer RAM users"],
        cancel_url=user_page(alice),
    )


def revoke_packet(owner: Person, alice: Person) -> Confirmation:
    packet = DeliveryPacket.objects.get(ram_user=alice.ram_user)  # her initial password, sealed
    return Confirmation(
        url=reverse("accounts:revoke-packet", args=[packet.pk]),
        confirm=str(packet.pk),
        action="packet.revoked",
        is_done=lambda: DeliveryPacket.objects.get(pk=packet.pk).state == DeliveryPacket.State.REVOKED,
        shows=[f"Revoke packet #{packet.pk} for alice", alice.ram_user.logon_name, "wiped"],
        cancel_url=f"{reverse('accounts:packet-list')}#packet-{packet.pk}",
    )


def sign_out_everywhere(owner: Person, alice: Person) -> Confirmation:
    generation = owner.user.session_generation
    return Confirmation(
        url=reverse("accounts:sign-out-everywhere"),
        confirm=owner.account.principal,
        action="sign_out.everywhere",
        is_done=lambda: User.objects.get(pk=owner.user.pk).session_generation > generation,
        shows=["Sign out everywhere", owner.user.email, "this one included"],
        cancel_url=reverse("accounts:my-account"),
    )


ACTIONS = [delete_access_key, unbind_mfa, detach_policy, revoke_packet, sign_out_everywhere]


@pytest.fixture(params=ACTIONS, ids=lambda make: make.__name__)
def confirmation(request, owner, ram_user) -> Confirmation:
    return request.param(owner, ram_user)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def test_the_confirmation_page_says_what_happens_to_whom_with_cancel_and_changes_nothing(owner, confirmation):
    client = signed_in(owner)
    before = database_state()
    response = client.get(confirmation.url, confirmation.data)
    assert response.status_code == 200
    page = text_of(response)
    for name in confirmation.shows:
        assert name in page
    assert f'href="{confirmation.cancel_url}">Cancel</a>' in page
    form = response.context["form"]
    if confirmation.typed:
        assert 'name="confirm" value=' not in page  # typed by the person, never filled in for them
    else:
        assert f'name="confirm" value="{confirmation.confirm}"' in page
    assert not form.is_bound
    assert database_state() == before and not confirmation.is_done()


def test_a_post_without_the_confirmation_changes_nothing(owner, confirmation):
    client = signed_in(owner)
    before = database_state()
    response = client.post(confirmation.url, confirmation.data)  # a forged form, or a script: no `confirm`
    assert response.status_code == 200
    page = text_of(response)
    assert (f"Type {confirmation.confirm} exactly to confirm." if confirmation.typed else NOT_CONFIRMED) in page
    assert database_state() == before and not confirmation.is_done()


def test_a_post_confirming_something_else_changes_nothing(owner, confirmation):
    client = signed_in(owner)
    before = database_state()
    response = client.post(confirmation.url, {**confirmation.data, "confirm": confirmation.confirm + "x"})
    assert response.status_code == 200
    assert database_state() == before and not confirmation.is_done()


def test_the_confirmed_post_makes_the_change_and_records_it(owner, confirmation):
    client = signed_in(owner)
    start = last_event_id()
    response = client.post(confirmation.url, {**confirmation.data, "confirm": confirmation.confirm})
    assert response.status_code == 302
    assert confirmation.is_done()
    assert actions_since(start) == [confirmation.action]


def test_a_wrong_access_key_id_is_refused_beside_the_field(owner, ram_user):
    key = inactive_key_of(owner, ram_user.user)
    other = inactive_key_of(owner, ram_user.user)  # a real ID, but not this key's
    client = signed_in(owner)
    url = reverse("accounts:delete-access-key", args=[ram_user.ram_user.pk, key.access_key_id])
    before = database_state()
    for wrong in (other.access_key_id, key.access_key_id.lower(), key.access_key_id[:-1], "yes", "on"):
        response = client.post(url, {"confirm": wrong})
        assert response.status_code == 200
        assert response.context["form"].errors["confirm"] == [f"Type {key.access_key_id} exactly to confirm."]
    assert database_state() == before
    assert AccessKey.objects.filter(pk__in=[key.pk, other.pk]).count() == 2


def test_the_primary_accounts_key_needs_its_id_and_the_owners_code(owner):
    key = inactive_key_of(owner, owner.user)
    client = signed_in(owner)
    url = reverse("accounts:delete-account-access-key", args=[key.access_key_id])
    page = text_of(client.get(url))
    assert key.access_key_id in page and owner.account.principal in page and 'name="otp_code"' in page
    before = database_state()
    response = client.post(url, {"confirm": key.access_key_id})  # the ID without the code
    assert response.status_code == 200
    assert database_state() == before
    response = client.post(url, {"otp_code": owner.code()})  # the code without the ID
    assert response.status_code == 200
    assert database_state(with_otp_throttling=False) == before
    start = last_event_id()
    response = client.post(url, {"confirm": key.access_key_id, "otp_code": owner.code()})
    assert response.status_code == 302 and response.url == reverse("accounts:my-account")
    assert not AccessKey.objects.filter(pk=key.pk).exists()
    assert actions_since(start) == ["access_key.delete"]


def test_an_active_key_is_not_deleted_even_when_confirmed(owner, ram_user):
    key = issue_access_key(actor=operator_actor(owner.account), holder=ram_user.user, otp_code=None).access_key
    client = signed_in(owner)
    url = reverse("accounts:delete-access-key", args=[ram_user.ram_user.pk, key.access_key_id])
    assert "disable it first" in text_of(client.get(url))
    before = database_state()
    response = client.post(url, {"confirm": key.access_key_id})
    assert response.status_code == 200
    assert "Disable the AccessKey before deleting it." in text_of(response)
    assert database_state() == before


def test_a_ram_user_signs_out_everywhere_through_the_same_confirmation(ram_user):
    client = signed_in(ram_user)
    url = reverse("accounts:sign-out-everywhere")
    assert f'href="{url}"' in client.get(reverse("accounts:my-credentials")).content.decode()  # reached from there
    page = text_of(client.get(url))
    assert ram_user.ram_user.logon_name in page
    assert f'href="{reverse("accounts:my-credentials")}">Cancel</a>' in page
    before = database_state()
    assert client.post(url).status_code == 200
    assert database_state() == before
    start = last_event_id()
    response = client.post(url, {"confirm": ram_user.ram_user.principal})
    assert response.status_code == 302
    assert actions_since(start) == ["sign_out.everywhere"]
    assert client.get(reverse("accounts:my-credentials")).status_code == 302  # this session ended too


def test_the_pages_link_to_the_confirmations_instead_of_posting(owner, ram_user):
    alice = ram_user.ram_user
    new_authenticator(user=alice.user, name="Phone", confirmed=True)
    attach_policy(actor=owner.actor, ram_user=alice, policy_name="AliyunRAMFullAccess")
    key = inactive_key_of(owner, alice.user)
    client = signed_in(owner)
    page = client.get(user_page(ram_user)).content.decode()
    for name, args in (
        ("accounts:reset-mfa", [alice.pk]),
        ("accounts:detach-policy", [alice.pk, "AliyunRAMFullAccess"]),
        ("accounts:delete-access-key", [alice.pk, key.access_key_id]),
    ):
        assert f'href="{reverse(name, args=args)}"' in page
        assert f'formaction="{reverse(name, args=args)}"' not in page
        assert f'action="{reverse(name, args=args)}"' not in page
    packet = DeliveryPacket.objects.filter(ram_user=alice, state=DeliveryPacket.State.SEALED).first()
    packets = client.get(reverse("accounts:packet-list")).content.decode()
    assert f'href="{reverse("accounts:revoke-packet", args=[packet.pk])}"' in packets
    account = client.get(reverse("accounts:my-account")).content.decode()
    assert f'href="{reverse("accounts:sign-out-everywhere")}"' in account


def test_the_policy_picker_starts_on_no_policy(owner, ram_user):
    page = signed_in(owner).get(user_page(ram_user)).content.decode()
    picker = page[page.index('name="policy_name"') :]
    picker = picker[: picker.index("</select>")]
    options = picker.split("<option")[1:]
    assert options[0].startswith(' value="" selected>Choose a policy…')
    assert "selected" not in "".join(options[1:])
    assert 'value="AdministratorAccess"' in picker
