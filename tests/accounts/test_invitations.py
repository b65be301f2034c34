"""Invitations (issue 14, item 4): "Invite by email" on Create User and `deliver=invite` in an import. No password is
made or sent; the person gets a one-time link through a real SMTP server, chooses a password under the policy,
binds MFA where required and lands on My credentials. The link is spent by POST only, expires, can be revoked and
sent again, and stops when an administrator sets a password meanwhile."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Authenticator, DeliveryPacket, PacketEmail, RamUser, SecuritySettings
from accounts.services.claim_links import expire_stale_packets
from accounts.services.invitations import InvitationRefused, accept_invitation, resend_invitation
from accounts.services.logon import LogonChange, modify_logon_settings
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.packets import revoke_delivery_packet
from accounts.services.policies import attach_policy
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.models import AuditEvent
from tests.accounts.test_sign_in import ram_sign_in_url
from tests.accounts.test_submitted_once import create_user_form
from tests.conftest import CONSOLE, form_token_of, signed_in, totp_code
from tests.mail import body_of, link_token

State = DeliveryPacket.State
CHOSEN = "Juniper-Harbour-Compass-6620"  # the password the person chooses: a canary too
INVITE_URL = reverse("accounts:invitation")


def invite(owner, name="dana", *, email="dana@people.example", **extra) -> RamUser:
    [created] = create_ram_users(
        actor=owner.actor,
        new_users=[
            NewRamUser(name=name, display_name=name.title(), email=email, console_logon=True, invite=True, **extra)
        ],
    )
    return created.ram_user


def invitation_of(ram_user) -> DeliveryPacket:
    return DeliveryPacket.objects.filter(ram_user=ram_user, is_invitation=True).latest("pk")


def sent_token(smtp) -> str:
    assert deliver_due_emails() >= 1
    return link_token(smtp.messages[-1], "invitation")


def accept(client, token, password=CHOSEN, confirm=None):
    return client.post(
        INVITE_URL, {"invitation_code": token, "new_password": password, "confirm_password": confirm or password}
    )


def test_create_user_invites_by_email_and_makes_no_password(owner, smtp):
    client = signed_in(owner)
    token = form_token_of(client.get(reverse("accounts:create-users")))
    response = client.post(
        reverse("accounts:create-users"),
        create_user_form(token, "dana", **{"users-0-password_mode": "invite", "users-0-email": "dana@people.example"}),
        follow=True,
    )
    assert response.status_code == 200
    assert "Invited by email (dana@people.example) · Queued" in response.content.decode()
    dana = RamUser.objects.get(name="dana")
    assert not dana.is_console_logon_enabled and not dana.user.has_usable_password()
    # No password packet: the invitation alone, queued for the address.
    assert not DeliveryPacket.objects.filter(ram_user=dana, is_invitation=False).exists()
    invitation = invitation_of(dana)
    assert invitation.state == State.SEALED and invitation.email_to == "dana@people.example"
    assert PacketEmail.objects.get(packet=invitation).to == "dana@people.example"
    created = AuditEvent.objects.get(action="ram_user.create", target=dana.principal)
    assert created.details["invited"] is True and created.details["console_logon"] is False
    assert AuditEvent.objects.get(action="packet.invitation").details == {
        "packet": invitation.pk,
        "to": "dana@people.example",
    }


def test_inviting_needs_an_email_address_and_creates_nothing_without_one(owner):
    client = signed_in(owner)
    token = form_token_of(client.get(reverse("accounts:create-users")))
    response = client.post(
        reverse("accounts:create-users"), create_user_form(token, "dana", **{"users-0-password_mode": "invite"})
    )
    assert response.status_code == 200
    assert "Enter the email address the invitation goes to." in response.content.decode()
    assert not RamUser.objects.filter(name="dana").exists()


def test_the_email_carries_a_one_time_link_and_no_password(owner, smtp):
    dana = invite(owner)
    token = sent_token(smtp)
    [message] = smtp.messages
    text = body_of(message)
    assert message["To"] == "dana@people.example"
    assert message["Subject"].startswith("Invitation: choose your password for dana@")
    assert dana.logon_name in text and f"expires in {settings.PORTAL_INVITATION_HOURS} hours" in text
    dana.user.refresh_from_db()
    assert not dana.user.has_usable_password()  # none was made: there is none to leak
    packet = invitation_of(dana)
    assert packet.state == State.SENT and packet.state_label == "Sent, not accepted yet"
    assert packet.claim_token_hash and token not in packet.claim_token_hash
    assert AuditEvent.objects.filter(action="packet.sent", details__invitation=True).count() == 1


def test_opening_the_link_spends_nothing_and_continue_shows_whose_it_is(owner, smtp):
    dana = invite(owner)
    token = sent_token(smtp)
    scanner = Client()
    page = scanner.get(INVITE_URL)  # what a mail scanner fetches: the fragment never reaches the server
    assert page.status_code == 200 and token not in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    shown = scanner.post(INVITE_URL, {"invitation_code": token})  # "Continue"
    html = shown.content.decode()
    assert shown.status_code == 200 and dana.logon_name in html and "Choose your password" in html
    assert 'autocomplete="new-password"' in html
    assert invitation_of(dana).state == State.SENT
    assert not RamUser.objects.get(pk=dana.pk).is_console_logon_enabled


@pytest.mark.parametrize(
    ("password", "confirm", "error"),
    [
        ("short", None, "at least"),
        ("dana-Harbour-Compass-6620", None, "must not contain"),
        (CHOSEN, "Juniper-Harbour-Compass-6621", "The two passwords do not match."),
    ],
)
def test_a_refused_password_spends_nothing(owner, smtp, password, confirm, error):
    dana = invite(owner)
    token = sent_token(smtp)
    response = accept(Client(), token, password, confirm)
    assert response.status_code == 200 and error in response.content.decode()
    assert invitation_of(dana).state == State.SENT
    dana.user.refresh_from_db()
    assert not dana.user.has_usable_password()
    # The same link still works with a good password.
    assert accept(Client(), token).status_code == 302


def test_accepting_binds_mfa_where_required_and_lands_on_my_credentials(owner, smtp):
    dana = invite(owner, must_bind_mfa=True)
    token = sent_token(smtp)
    client = Client()
    response = accept(client, token)
    assert response.status_code == 302 and response.url == reverse("accounts:sign-in-enrol")
    client.get(response.url)
    device = Authenticator.objects.get(user=dana.user, confirmed=False)
    response = client.post(reverse("accounts:sign-in-enrol"), {"device_id": device.pk, "otp_code": totp_code(device)})
    assert response.url.startswith("/signin/backup-codes/")  # its first device's backup codes, once
    assert client.get(response.url).status_code == 200
    response = client.get(reverse("accounts:sign-in-continue"))
    assert response.url == reverse("accounts:my-credentials")
    assert client.get(response.url).status_code == 200
    dana.refresh_from_db()
    assert dana.is_console_logon_enabled and not dana.must_reset_password
    packet = invitation_of(dana)
    assert packet.state == State.CLAIMED and packet.state_label == "Accepted" and not packet.claim_token_hash
    accepted = AuditEvent.objects.get(action="packet.invitation_accepted")
    assert accepted.target == dana.principal and accepted.details == {"packet": packet.pk, "mfa_required": True}
    # The chosen password now signs in at the logon link (asking for the new device's code).
    signing_in = Client().post(ram_sign_in_url(owner.account), {"login": "dana", "password": CHOSEN})
    assert signing_in.url == reverse("accounts:sign-in-verify")
    # It is nowhere in clear: not in the packet, the outbox, the audit trail.
    with connection.cursor() as cursor:
        for table in (DeliveryPacket._meta.db_table, PacketEmail._meta.db_table, AuditEvent._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")
            assert CHOSEN not in repr(cursor.fetchall())


def test_an_admin_landing_elsewhere_still_lands_on_my_credentials_after_accepting(owner, smtp):
    dana = invite(owner)
    attach_policy(actor=owner.actor, ram_user=dana, policy_name="AliyunRAMReadOnlyAccess")
    response = accept(Client(), sent_token(smtp))
    assert response.url == reverse("accounts:my-credentials")


def test_accept_sent_twice_carries_on_in_that_browser_and_is_refused_elsewhere(owner, smtp):
    dana = invite(owner, must_bind_mfa=True)
    token = sent_token(smtp)
    client = Client()
    assert accept(client, token).url == reverse("accounts:sign-in-enrol")
    again = accept(client, token)  # a second click, a reload
    assert again.status_code == 302 and again.url == reverse("accounts:sign-in-continue")
    assert client.get(again.url).url == reverse("accounts:sign-in-enrol")
    elsewhere = accept(Client(), token)
    assert elsewhere.status_code == 410 and "not valid" in elsewhere.content.decode()
    assert AuditEvent.objects.filter(action="packet.invitation_accepted").count() == 1
    with pytest.raises(InvitationRefused):
        accept_invitation(token=token, password=CHOSEN, origin=CONSOLE)
    assert RamUser.objects.get(pk=dana.pk).is_console_logon_enabled


def test_an_expired_invitation_is_refused_and_can_be_sent_again(owner, smtp):
    dana = invite(owner)
    old = sent_token(smtp)
    later = timezone.now() + timedelta(hours=settings.PORTAL_INVITATION_HOURS, minutes=1)
    with time_machine.travel(later):
        refused = Client().post(INVITE_URL, {"invitation_code": old})
        assert refused.status_code == 410 and "has expired" in refused.content.decode()
        refused = accept(Client(), old)
        assert refused.status_code == 410
        assert invitation_of(dana).state == State.SENT
        assert expire_stale_packets() == 1  # the worker marks it
        assert invitation_of(dana).state_label == "Expired"
        packets = signed_in(owner).get(reverse("accounts:packet-list")).content.decode()
        assert "Send again" in packets and "Invitation to choose a password" in packets
        expired = invitation_of(dana)
        response = signed_in(owner).post(reverse("accounts:resend-invitation", args=[expired.pk]), follow=True)
        assert "A new invitation for dana is queued" in response.content.decode()
        new = sent_token(smtp)
        assert new != old
        assert accept(Client(), old).status_code == 410
        assert accept(Client(), new).url == reverse("accounts:my-credentials")
    event = AuditEvent.objects.filter(action="packet.invitation").latest("pk")
    assert "replaces" not in event.details  # the expired one had already stopped


def test_send_again_while_the_first_is_pending_stops_the_first_link(owner, smtp):
    dana = invite(owner)
    first = sent_token(smtp)
    resend_invitation(actor=owner.actor, packet=invitation_of(dana))
    second = sent_token(smtp)
    assert accept(Client(), first).status_code == 410
    assert DeliveryPacket.objects.filter(ram_user=dana, state=State.SUPERSEDED).count() == 1
    assert AuditEvent.objects.filter(action="packet.invitation").latest("pk").details["replaces"]
    assert accept(Client(), second).status_code == 302
    # Accepted: nothing left to send again.
    response = signed_in(owner).post(reverse("accounts:resend-invitation", args=[invitation_of(dana).pk]), follow=True)
    assert "can be sent again" in response.content.decode()
    assert DeliveryPacket.objects.filter(ram_user=dana, is_invitation=True).count() == 2


def test_a_revoked_invitation_is_refused_and_can_be_sent_again(owner, smtp):
    dana = invite(owner)
    token = sent_token(smtp)
    revoke_delivery_packet(actor=owner.actor, packet=invitation_of(dana))
    assert accept(Client(), token).status_code == 410
    resend_invitation(actor=owner.actor, packet=invitation_of(dana))
    assert accept(Client(), sent_token(smtp)).status_code == 302


def test_a_password_set_by_an_administrator_meanwhile_stops_the_invitation(owner, smtp):
    dana = invite(owner)
    token = sent_token(smtp)
    modify_logon_settings(
        actor=owner.actor,
        ram_user=dana,
        change=LogonChange(is_enabled=True, generate_password=True),
    )
    assert invitation_of(dana).state == State.SUPERSEDED
    assert accept(Client(), token).status_code == 410
    with pytest.raises(ValidationError, match="can already sign in"):
        # (Superseded is not resendable either; an expired one of a user who signs in already is refused too.)
        DeliveryPacket.objects.filter(pk=invitation_of(dana).pk).update(state=State.EXPIRED)
        resend_invitation(actor=owner.actor, packet=invitation_of(dana))


def test_the_packet_list_shows_invitations_without_print_or_email(owner, smtp):
    dana = invite(owner)
    sent_token(smtp)
    packet = invitation_of(dana)
    html = signed_in(owner).get(reverse("accounts:packet-list")).content.decode()
    row = html[html.index(f'id="packet-{packet.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Sent, not accepted yet" in row and "Link works until" in row
    assert 'name="packet"' not in row  # not selectable for print or PDF
    assert "Send again" in row and "Revoke" in row
    assert f'<option value="{packet.pk}"' not in html  # not offered in "Email a packet"


def test_accepting_from_a_network_the_account_refuses_sets_the_password_without_signing_in(owner, smtp):
    dana = invite(owner)
    SecuritySettings.objects.filter(account=owner.account).update(logon_ip_masks=["10.0.0.0/8"])
    client = Client(REMOTE_ADDR="192.0.2.7")
    response = accept(client, sent_token(smtp))
    assert response.status_code == 200 and "Invitation accepted" in response.content.decode()
    assert "_auth_user_id" not in client.session
    dana.refresh_from_db()
    assert dana.is_console_logon_enabled and dana.user.check_password(CHOSEN)


def test_the_users_table_and_the_user_page_say_who_is_invited(owner, smtp):
    dana = invite(owner)
    client = signed_in(owner)
    table = client.get(reverse("accounts:user-list")).content.decode()
    row = table[table.index('data-user="dana"') :]
    assert "Invited" in row[: row.index("</tr>")]
    page = client.get(reverse("accounts:user-detail", args=[dana.pk])).content.decode()
    assert "Disabled until the invitation sent to dana@people.example is accepted (queued)" in page
    accept(Client(), sent_token(smtp))
    table = client.get(reverse("accounts:user-list")).content.decode()
    assert "Invited</span>" not in table


def test_revoking_an_invitation_asks_first_and_names_what_stops(owner, smtp):
    dana = invite(owner)
    token = sent_token(smtp)
    packet = invitation_of(dana)
    client = signed_in(owner)
    url = reverse("accounts:revoke-packet", args=[packet.pk])
    asked = client.get(url).content.decode()
    assert "The invitation emailed to dana@people.example stops working" in asked
    assert invitation_of(dana).state == State.SENT
    client.post(url, {"confirm": str(packet.pk)})
    assert invitation_of(dana).state == State.REVOKED
    assert accept(Client(), token).status_code == 410
