"""Delivery sheets print every name as typed, in any script, read back as a PDF viewer reads them (poppler)."""

import shutil
import subprocess

import pytest
from django.urls import reverse

from accounts.models import RamUser
from accounts.services.packets import instructions_packet
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.models import AuditEvent
from tests.accounts.test_packets import pdf_of
from tests.conftest import signed_in

PDFTOTEXT = shutil.which("pdftotext")


def text_of_pdf(content: bytes) -> str:
    assert PDFTOTEXT, "pdftotext (Debian's poppler-utils) is installed by `make test`"
    return subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def sheet_pdf(owner, display_names: list[str], prefix: str = "person") -> bytes:
    created = create_ram_users(
        actor=owner.actor,
        new_users=[NewRamUser(name=f"{prefix}{index}", display_name=name) for index, name in enumerate(display_names)],
    )
    packets = [instructions_packet(actor=owner.actor, ram_user=item.ram_user) for item in created]
    response = pdf_of(signed_in(owner), [packet.pk for packet in packets])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return response.content


@pytest.mark.parametrize(
    "display_name",
    ["张伟（数据平台）", "山田 太郎", "김민준", "Zoë O'Brien", "Ελένη Παπαδοπούλου", "Дмитрий Иванов"],
)
def test_a_name_in_any_script_is_on_its_sheet_as_typed(owner, display_name):
    text = text_of_pdf(sheet_pdf(owner, [display_name]))
    assert f"RAM user account: {display_name}" in text
    assert RamUser.objects.get(name="person0").display_name == display_name


def test_a_character_no_font_has_prints_as_a_placeholder_and_the_line_goes_on(owner):
    text = text_of_pdf(sheet_pdf(owner, ["Zoë O'Brien 🚀 (数据)"]))
    assert "RAM user account: Zoë O'Brien \ufffd (数据)" in text


def test_only_sheets_that_need_it_embed_the_cjk_font(owner):
    latin = sheet_pdf(owner, ["Zoë O'Brien"])
    mixed = sheet_pdf(owner, ["Carol", "张伟"], prefix="mixed")
    assert b"NotoSansCJK" not in latin and b"DejaVuSans" in latin
    assert b"NotoSansCJK" in mixed
    assert "RAM user account: Carol" in text_of_pdf(mixed) and "RAM user account: 张伟" in text_of_pdf(mixed)


@pytest.mark.parametrize("url_name", ["accounts:pdf-packets", "accounts:print-packets"])
def test_printing_nothing_says_so_instead_of_an_empty_document(owner, url_name):
    client = signed_in(owner)
    response = client.post(reverse(url_name), {"packet": []}, follow=True)
    assert response.redirect_chain == [(reverse("accounts:packet-list"), 302)]
    assert response["Content-Type"].startswith("text/html")
    assert "Select at least one packet to print: nothing was selected." in response.content.decode()
    assert not AuditEvent.objects.filter(action="packet.printed").exists()
