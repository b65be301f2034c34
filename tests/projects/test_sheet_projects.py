"""Every delivery sheet lists the user's projects, roles and what each allows (SPEC §4.8), worded as the user's
credential page words them: the shown sheet, the email and the PDF."""

import pytest
from django.core import mail

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.packets import email_delivery_packet, instructions_packet
from accounts.sheets import delivery_sheet
from projects.abilities import abilities_of
from projects.services import add_member, create_project
from tests.accounts.test_packets import pdf_of
from tests.accounts.test_sheet_scripts import text_of_pdf
from tests.conftest import signed_in


@pytest.fixture
def member(owner, ram_user):
    operator = operator_actor(owner.account)
    issue_access_key(actor=operator, holder=owner.user, otp_code=None)
    project = create_project(actor=operator, name="sales_dw")
    add_member(actor=operator, project=project, ram_user=ram_user.ram_user, roles=["role_project_dev"])
    return ram_user


def expected_lines(ram_user) -> list[str]:
    [entry] = abilities_of(ram_user)
    lines = ["Roles: role_project_dev (Developer)"]
    lines += [f"{name}: {'; '.join(allowed) if allowed else 'nothing'}" for name, _, allowed in entry.channels]
    return lines


def test_the_sheet_has_a_section_per_project_with_roles_and_what_they_allow(member):
    sheet = delivery_sheet(member.ram_user)
    [section] = sheet.sections
    assert section.title == "Project sales_dw"
    assert list(section.lines) == expected_lines(member.ram_user)
    assert any(
        "Web console (DataWorks): " in line and line != "Web console (DataWorks): nothing" for line in section.lines
    )


def test_a_user_in_no_project_has_no_such_section(owner, ram_user):
    assert delivery_sheet(ram_user.ram_user).sections == ()


def test_the_email_and_the_pdf_carry_the_projects(owner, member, settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    packet = instructions_packet(actor=owner.actor, ram_user=member.ram_user)
    email_delivery_packet(actor=owner.actor, packet=packet, to="alice@example.com")
    deliver_due_emails()
    [message] = mail.outbox
    html = message.alternatives[0][0]
    assert "Projects and roles:" in message.body and "Project sales_dw" in message.body
    for line in expected_lines(member.ram_user):
        assert f"    - {line}" in message.body
    assert "<strong>Project sales_dw</strong>" in html
    text = " ".join(text_of_pdf(pdf_of(signed_in(owner), [packet.pk]).content).split())
    assert "Projects and roles" in text and "Project sales_dw" in text
    assert "Roles: role_project_dev (Developer)" in text
