"""Bulk actions of the Users table: confirmed with the count and the names, applied per user, reported per user."""

import re

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.actors import operator_actor
from accounts.models import DeliveryPacket, GroupMembership, PacketEmail, PolicyAttachment, RamUser, User
from accounts.services.access_keys import issue_access_key
from accounts.services.groups import add_to_group, create_group
from accounts.services.policies import attach_policy
from portal.models import AuditEvent
from projects.models import ProjectMember
from projects.services import add_member, create_project
from tests.accounts.test_user_list_queries import add_users
from tests.conftest import RAM_PASSWORD, signed_in
from tests.db_state import database_state


@pytest.fixture(autouse=True)
def mail_in_memory(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def confirm(client, data):
    response = client.post(reverse("accounts:confirm-bulk-action"), data)
    assert response.status_code == 200, response
    page = response.content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    ids = re.findall(r'name="user" value="(\d+)"', page)
    return page, token, ids


def apply(client, action, ids, token, policy="", follow=True):
    data = {"action": action, "policy": policy, "user": ids, "form_token": token, "confirm": "yes"}
    return client.post(reverse("accounts:apply-bulk-action"), data, follow=follow)


def report_rows(response) -> dict[str, tuple[str, str]]:
    page = response.content.decode()
    rows = re.findall(
        r'<tr data-user="([^"]+)"><td[^>]*>[^<]*</td><td><span class="badge [^"]+">(\w+)</span></td><td>([^<]*)</td>',
        page,
    )
    return {name: (result, message) for name, result, message in rows}


def test_the_confirmation_names_every_user_and_changes_nothing(owner):
    users = add_users(owner.account, 3)
    client = signed_in(owner)
    before = database_state()
    page, _, ids = confirm(
        client, {"action": "attach_policy", "policy": "AliyunRAMReadOnlyAccess", "user": [u.pk for u in users]}
    )
    assert "Add Permissions: AliyunRAMReadOnlyAccess — 3 users" in page
    assert all(user.name in page for user in users)
    assert sorted(ids) == sorted(str(u.pk) for u in users)
    assert database_state() == before


def test_attach_policy_to_the_ticked_users_is_applied_per_user_and_reported(owner):
    users = add_users(owner.account, 3)
    attach_policy(actor=owner.actor, ram_user=users[1], policy_name="AliyunRAMReadOnlyAccess")  # holds it already
    client = signed_in(owner)
    _, token, ids = confirm(
        client, {"action": "attach_policy", "policy": "AliyunRAMReadOnlyAccess", "user": [u.pk for u in users]}
    )
    events_before = AuditEvent.objects.filter(action="policy.attach").count()
    response = apply(client, "attach_policy", ids, token, policy="AliyunRAMReadOnlyAccess")
    assert response.redirect_chain[-1][0] == reverse("accounts:bulk-action-report", args=[token])
    rows = report_rows(response)
    assert rows[users[0].name][0] == "Done" and rows[users[2].name][0] == "Done"
    assert rows[users[1].name][0] == "Refused" and "already" in rows[users[1].name][1]
    assert "2 done, 1 refused" in response.content.decode()
    holders = set(
        PolicyAttachment.objects.filter(policy_name="AliyunRAMReadOnlyAccess").values_list("ram_user__name", flat=True)
    )
    assert holders == {user.name for user in users}
    assert AuditEvent.objects.filter(action="policy.attach").count() == events_before + 2


def test_the_same_confirmation_sent_twice_acts_once(owner):
    users = add_users(owner.account, 2)
    client = signed_in(owner)
    _, token, ids = confirm(client, {"action": "require_mfa", "user": [u.pk for u in users]})
    RamUser.objects.filter(pk__in=ids).update(is_console_logon_enabled=True)
    User.objects.filter(ram_user__pk__in=ids).update(password=make_password(RAM_PASSWORD))
    first = apply(client, "require_mfa", ids, token)
    assert "2 done, 0 refused" in first.content.decode()
    assert RamUser.objects.filter(pk__in=ids, must_bind_mfa=True).count() == 2
    after_first = database_state()
    again = apply(client, "require_mfa", ids, token)
    assert again.redirect_chain[-1][0] == reverse("accounts:bulk-action-report", args=[token])
    assert database_state() == after_first


def test_select_all_matching_takes_every_page_of_the_filter(owner, settings):
    settings.PORTAL_PAGE_SIZES = {**settings.PORTAL_PAGE_SIZES, "users": 5}
    add_users(owner.account, 12)  # every other one with console logon: 6 match
    client = signed_in(owner)
    page, token, ids = confirm(
        client, {"action": "disable_console_logon", "matching": "on", "filters": "console_logon=yes&sort=-name"}
    )
    expected = RamUser.objects.for_account(owner.account).filter(is_console_logon_enabled=True)
    assert sorted(ids) == sorted(str(pk) for pk in expected.values_list("pk", flat=True))
    assert "Disable console logon — 6 users" in page
    response = apply(client, "disable_console_logon", ids, token)
    assert set(report_rows(response).values()) == {("Done", "Console logon disabled.")}
    assert not RamUser.objects.for_account(owner.account).filter(is_console_logon_enabled=True).exists()


def test_enable_console_logon_seals_a_new_password_for_each_and_leaves_enabled_ones_alone(owner):
    users = add_users(owner.account, 2)  # user-00000 enabled, user-00001 disabled
    client = signed_in(owner)
    _, token, ids = confirm(client, {"action": "enable_console_logon", "user": [u.pk for u in users]})
    rows = report_rows(apply(client, "enable_console_logon", ids, token))
    assert rows["user-00000"][0] == "Refused" and "already enabled" in rows["user-00000"][1]
    assert rows["user-00001"][0] == "Done"
    enabled = RamUser.objects.get(name="user-00001")
    assert enabled.is_console_logon_enabled and enabled.must_reset_password and enabled.user.has_usable_password()
    packet = DeliveryPacket.objects.get(ram_user=enabled, state=DeliveryPacket.State.SEALED)
    assert packet.sealed_password and f"#{packet.pk}" in rows["user-00001"][1]


def test_email_packets_queues_each_users_packet_and_skips_those_without_an_address(owner):
    users = add_users(owner.account, 2)
    RamUser.objects.filter(pk=users[1].pk).update(email="")
    client = signed_in(owner)
    _, token, ids = confirm(client, {"action": "email_packets", "user": [u.pk for u in users]})
    rows = report_rows(apply(client, "email_packets", ids, token))
    assert rows[users[0].name][0] == "Done" and rows[users[1].name][0] == "Refused"
    assert list(PacketEmail.objects.values_list("to", flat=True)) == [users[0].email]


def test_without_confirm_nothing_happens_and_the_confirmation_is_shown_again(owner):
    users = add_users(owner.account, 2)
    client = signed_in(owner)
    _, token, ids = confirm(client, {"action": "require_password_reset", "user": [u.pk for u in users]})
    before = database_state()
    response = client.post(
        reverse("accounts:apply-bulk-action"), {"action": "require_password_reset", "user": ids, "form_token": token}
    )
    assert (
        response.status_code == 400
        and "Confirm: Require password reset at next logon for 2 users" in response.content.decode()
    )
    assert database_state() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "attach_policy"}, "Select at least one user."),
        ({"action": "", "user": ["1"]}, "Action: This field is required."),
        ({"action": "detach_policy", "user": ["1"]}, "Policy: Choose the policy."),
        ({"action": "delete_everything", "user": ["1"]}, "Action: Select a valid choice."),
    ],
)
def test_a_bad_choice_goes_back_to_the_table_with_a_message_and_changes_nothing(owner, data, message):
    users = add_users(owner.account, 1)
    data = {**data, "user": [str(users[0].pk)] if "user" in data else []}
    client = signed_in(owner)
    before = database_state()
    response = client.post(reverse("accounts:confirm-bulk-action"), data, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:user-list"))
    assert message in response.content.decode()
    assert database_state() == before


def test_another_accounts_users_are_never_selected(owner, other_owner, other_ram_user):
    mine = add_users(owner.account, 1)
    _, _, ids = confirm(signed_in(owner), {"action": "require_mfa", "user": [mine[0].pk, other_ram_user.ram_user.pk]})
    assert ids == [str(mine[0].pk)]


def test_a_reader_may_not_act_in_bulk(owner, ram_reader):
    users = add_users(owner.account, 1)
    response = signed_in(ram_reader).post(
        reverse("accounts:confirm-bulk-action"), {"action": "require_mfa", "user": [users[0].pk]}
    )
    assert response.status_code == 403


def test_more_than_the_limit_is_refused(owner, settings):
    settings.PORTAL_MAX_USERS_PER_BULK_ACTION = 3
    add_users(owner.account, 4)
    response = signed_in(owner).post(
        reverse("accounts:confirm-bulk-action"), {"action": "require_mfa", "matching": "on"}, follow=True
    )
    assert "A bulk action takes at most 3 users at a time" in response.content.decode()


def test_add_to_project_with_roles_for_the_selection(owner):
    users = add_users(owner.account, 3)
    operator = operator_actor(owner.account)
    issue_access_key(actor=operator, holder=owner.user, otp_code=None)
    project = create_project(actor=operator, name="bulk_project")
    add_member(actor=operator, project=project, ram_user=users[2], roles=[])
    client = signed_in(owner)
    page = client.post(reverse("projects:confirm-bulk-add-members"), {"user": [u.pk for u in users]}).content.decode()
    assert "Add to project — 3 users" in page and all(user.name in page for user in users)
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = client.post(
        reverse("projects:apply-bulk-add-members"),
        {"user": [u.pk for u in users], "project": project.pk, "roles": ["role_project_dev"], "form_token": token},
        follow=True,
    )
    rows = report_rows(response)
    assert rows[users[0].name] == ("Done", "Joined bulk_project as role_project_dev.")
    assert rows[users[2].name][0] == "Refused"
    members = ProjectMember.objects.filter(project=project).values_list("ram_user__name", flat=True)
    assert sorted(members) == sorted(user.name for user in users)


def test_print_packets_is_confirmed_then_downloads_one_pdf_of_the_selection(owner):
    users = add_users(owner.account, 2)
    client = signed_in(owner)
    page, _, ids = confirm(client, {"action": "print_packets", "user": [u.pk for u in users]})
    assert f'action="{reverse("accounts:pdf-for-users")}"' in page
    assert "Download delivery PDF — 2 users" in page
    response = client.post(reverse("accounts:pdf-for-users"), {"user": ids})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    printed = DeliveryPacket.objects.filter(ram_user__in=users, state=DeliveryPacket.State.PRINTED)
    assert sorted(printed.values_list("ram_user__name", flat=True)) == sorted(user.name for user in users)


def test_add_to_group_and_remove_from_group_for_the_selection(owner, settings):
    settings.PORTAL_MAX_GROUPS_PER_USER = 1
    users = add_users(owner.account, 3)
    team, other = create_group(actor=owner.actor, name="team"), create_group(actor=owner.actor, name="other")
    add_to_group(actor=owner.actor, group=team, ram_user=users[0])  # in it already
    add_to_group(actor=owner.actor, group=other, ram_user=users[1])  # at its limit of one group
    client = signed_in(owner)
    page, token, ids = confirm(client, {"action": "add_to_group", "group": team.pk, "user": [u.pk for u in users]})
    assert "Add to group: team — 3 users" in page and f'name="group" value="{team.pk}"' in page
    data = {"action": "add_to_group", "group": team.pk, "user": ids, "form_token": token, "confirm": "yes"}
    rows = report_rows(client.post(reverse("accounts:apply-bulk-action"), data, follow=True))
    assert rows[users[0].name] == ("Done", "Already in team.")
    assert rows[users[1].name][0] == "Refused" and "at most 1 groups" in rows[users[1].name][1]
    assert rows[users[2].name] == ("Done", "Added to team.")
    assert set(GroupMembership.objects.filter(group=team).values_list("ram_user__name", flat=True)) == {
        users[0].name,
        users[2].name,
    }

    _, token, ids = confirm(client, {"action": "remove_from_group", "group": team.pk, "user": [users[2].pk]})
    data = {"action": "remove_from_group", "group": team.pk, "user": ids, "form_token": token, "confirm": "yes"}
    rows = report_rows(client.post(reverse("accounts:apply-bulk-action"), data, follow=True))
    assert rows[users[2].name] == ("Done", "Removed from team.")
    no_group = client.post(reverse("accounts:confirm-bulk-action"), {"action": "add_to_group", "user": [users[0].pk]})
    assert no_group.status_code == 302  # back to the table, saying what is missing
    assert "Group: Choose the group." in [str(m) for m in get_messages(no_group.wsgi_request)]
