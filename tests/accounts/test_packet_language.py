"""What is handed to a RAM user speaks their language (issue 18): the packet's email (subject and bodies, also when the
background worker sends it), the delivery sheet (print page and PDF), the claim page and the invitation, each in the
language of the RAM user's person (User.language; not chosen: English for what is sent or printed, the browser's for
the pages their link opens). The administrator's pages around them stay in the administrator's language, and a print
page or PDF holding several people's sheets has each sheet in its own person's language. Dates stay as they are."""

import re
from html import escape

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import DeliveryPacket, User
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.packets import email_delivery_packet, supersede_packet_secrets
from accounts.tasks import housekeeping
from tests.accounts.test_invitations import INVITE_URL, invitation_of, invite
from tests.accounts.test_packets import claim_token_from, pdf_of, sealed_user
from tests.accounts.test_sheet_scripts import text_of_pdf
from tests.conftest import form_token_of, signed_in
from tests.mail import body_of, link_token

ZH = "zh-hans"


def speaks(person_user, language: str) -> None:
    User.objects.filter(pk=person_user.pk).update(language=language)


def print_page(client, packet_ids) -> str:
    response = client.post(reverse("accounts:print-packets"), {"packet": [str(pk) for pk in packet_ids]})
    assert response.status_code == 200
    return response.content.decode()


def sheet_of(page: str, name: str) -> str:
    match = re.search(rf'<section[^>]*data-delivery-sheet="{name}"[^>]*>(.*?)</section>', page, flags=re.S)
    assert match, f"no sheet of {name}"
    return match.group(0)


def test_the_email_is_in_the_person_s_language_and_english_for_the_others(owner, smtp):
    chinese, english, unchosen = (sealed_user(owner, name) for name in ("zhang", "erin", "frank"))
    speaks(chinese.ram_user.user, ZH)
    speaks(english.ram_user.user, "en")
    with translation.override(ZH):  # whoever queues it, in whatever language
        for created in (chinese, english, unchosen):
            email_delivery_packet(actor=owner.actor, packet=created.packet, to=f"{created.ram_user.name}@example.com")
    assert deliver_due_emails() == 3
    by_to = {message["To"]: message for message in smtp.messages}

    zh = by_to["zhang@example.com"]
    assert " ".join(zh["Subject"].split()) == f"您在 Acme 的 RAM 用户账号 {chinese.ram_user.logon_name}"
    text = zh.get_body(preferencelist=("plain",)).get_content()
    html = zh.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Zhang，您好：")
    assert "已在 Acme 下为您创建 RAM 用户账号。" in text and "用户登录地址：" in text and "登录名称：" in text
    assert "您的初始机密信息不在此邮件中。" in text and "小时后过期" in text and "由 " in text
    assert '<html lang="zh-hans">' in html and "已在 <strong>Acme</strong> 下为您创建 RAM 用户账号。" in html
    assert "确认事项：" in html and "控制台登录：" in html
    assert "Hello" not in body_of(zh) and "Logon link" not in body_of(zh)
    assert re.search(r"/claim/#[A-Za-z0-9_-]+", text)  # the link is the same link

    for to in ("erin@example.com", "frank@example.com"):  # chose English, or nothing: English
        message = by_to[to]
        assert message["Subject"].startswith("Your RAM user account ")
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert text.startswith("Hello ") and "Logon link:" in text and "expires in 72 hours" in text
        assert '<html lang="en">' in message.get_body(preferencelist=("html",)).get_content()
        assert not re.search(r"[\u4e00-\u9fff]", body_of(message) + message["Subject"])


def test_the_background_worker_writes_in_the_person_s_language(owner, smtp):
    created = sealed_user(owner, "zhang")
    speaks(created.ram_user.user, ZH)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="zhang@example.com")
    translation.activate("en")  # the worker's thread: no request, English
    try:
        assert housekeeping.call()["sent"] == 1
        assert translation.get_language() == "en"  # and it is left as it was
    finally:
        translation.deactivate()
    [message] = smtp.messages
    assert "RAM 用户账号" in message["Subject"]
    assert "用户登录地址：" in body_of(message)


def test_a_print_page_has_each_sheet_in_its_person_s_language_around_the_administrator_s_page(owner):
    chinese, english = sealed_user(owner, "zhang"), sealed_user(owner, "erin")
    speaks(chinese.ram_user.user, ZH)
    page = print_page(signed_in(owner), [chinese.packet.pk, english.packet.pk])
    zh, en = sheet_of(page, "zhang"), sheet_of(page, "erin")
    assert 'lang="zh-hans"' in zh and "RAM 用户账号：Zhang" in zh
    for words in ("用户登录地址", "登录名称", "初始密码", "确认事项", "控制台登录：", "复制"):
        assert words in zh, words
    assert escape(chinese.initial_password) in zh
    assert "Logon link" not in zh and "Confirmations" not in zh
    assert 'lang="en"' in en and "RAM user account: Erin" in en and "Logon link" in en and "Initial password" in en
    assert not re.search(r"[\u4e00-\u9fff]", en)
    # The page around them is the administrator's, in English.
    outside = page.replace(zh, "").replace(en, "")
    assert "only on this page" in outside and ">Done<" in outside
    assert not re.search(r"[\u4e00-\u9fff]", outside.replace("简体中文", ""))  # (the picker names it in itself)


def test_a_chinese_administrator_prints_an_english_sheet_on_a_chinese_page(owner):
    speaks(owner.user, ZH)
    english = sealed_user(owner, "erin")
    page = print_page(signed_in(owner), [english.packet.pk])
    sheet = sheet_of(page, "erin")
    assert "RAM user account: Erin" in sheet and "Logon link" in sheet
    assert not re.search(r"[\u4e00-\u9fff]", sheet)
    outside = page.replace(sheet, "")
    assert "仅在此页面" in outside and ">完成<" in outside


def test_a_sheet_s_history_is_in_its_person_s_language(owner):
    created = sealed_user(owner, "zhang", create_access_key=True)
    speaks(created.ram_user.user, ZH)
    key_id = created.access_key.access_key_id
    supersede_packet_secrets(
        actor=owner.actor, ram_user=created.ram_user, event="access_key_deleted", access_key_id=key_id
    )
    assert DeliveryPacket.objects.get(pk=created.packet.pk).has_secrets  # the password is still in it
    listed = signed_in(owner).get(reverse("accounts:packet-list")).content.decode()
    assert f"AccessKey {key_id} was deleted; its secret was removed from this packet." in listed  # the admin's
    sheet = sheet_of(print_page(signed_in(owner), [created.packet.pk]), "zhang")
    assert f"AccessKey {key_id} 已删除；其 AccessKey Secret 已从此交付包中移除。" in sheet


def test_a_pdf_has_each_page_in_its_person_s_language(owner):
    chinese, english = sealed_user(owner, "zhang"), sealed_user(owner, "erin")
    speaks(chinese.ram_user.user, ZH)
    response = pdf_of(signed_in(owner), [chinese.packet.pk, english.packet.pk])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"NotoSansCJK" in response.content  # Chinese words need the CJK font, even with Latin names
    pages = text_of_pdf(response.content).split("\f")
    erin, zhang = pages[0], pages[1]  # (sheets in the order of their user names)
    assert "Zhang" in zhang and "Erin" in erin
    for words in (
        "RAM 用户账号",
        "主账号",
        "用户登录地址",
        "登录名称",
        "初始密码",
        "确认事项",
        "控制台登录",
        "首次登录时必须完成",
    ):
        assert words in zhang, words
    assert "Logon link" not in zhang and "Confirmations" not in zhang
    assert "RAM user account: Erin" in erin and "Logon link" in erin and "Confirmations" in erin
    assert not re.search(r"[\u4e00-\u9fff]", erin)


def test_an_english_pdf_embeds_no_cjk_font_for_a_chinese_administrator(owner):
    speaks(owner.user, ZH)
    english = sealed_user(owner, "erin")
    response = pdf_of(signed_in(owner), [english.packet.pk])
    assert b"NotoSansCJK" not in response.content
    assert "RAM user account: Erin" in text_of_pdf(response.content)


def claimed_page(owner, smtp, name: str, language: str, *, browser_asks: str = "en") -> tuple:
    created = sealed_user(owner, name)
    speaks(created.ram_user.user, language)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to=f"{name}@example.com")
    deliver_due_emails()
    browser = Client(HTTP_ACCEPT_LANGUAGE=browser_asks)
    page = browser.get(reverse("accounts:claim"))
    assert page["Content-Language"] == browser_asks  # whose link it is is not known yet
    shown = browser.post(
        reverse("accounts:claim"),
        {"claim_code": claim_token_from(smtp), "form_token": form_token_of(page)},
        follow=True,
    )
    assert shown.status_code == 200
    return created, shown, browser


def test_the_claim_page_shows_the_secrets_in_the_person_s_language(owner, smtp):
    created, shown, browser = claimed_page(owner, smtp, "zhang", ZH)
    html = shown.content.decode()
    assert shown["Content-Language"] == ZH and '<html lang="zh-hans">' in html
    assert "您的 RAM 用户账号" in html and "仅此一次" in html and "立即登录" in html and "用户登录地址" in html
    assert escape(created.initial_password) in html
    assert "Sign in now" not in html and "Logon link" not in html
    # Opened again: already shown, in Chinese too.
    again = browser.get(shown.redirect_chain[-1][0]).content.decode()
    assert "此链接的机密信息" in again and escape(created.initial_password) not in again


def test_the_claim_page_stays_english_for_an_english_person_whatever_the_browser_asks(owner, smtp):
    created, shown, _ = claimed_page(owner, smtp, "erin", "en", browser_asks=ZH)
    html = shown.content.decode()
    assert shown["Content-Language"] == "en"
    assert "Your RAM user account" in html and "Sign in now" in html and "Logon link" in html
    assert "立即登录" not in html and escape(created.initial_password) in html


def test_a_claim_without_the_page_s_cookie_is_in_the_person_s_language_too(owner, smtp):
    created = sealed_user(owner, "zhang")
    speaks(created.ram_user.user, ZH)
    email_delivery_packet(actor=owner.actor, packet=created.packet, to="zhang@example.com")
    deliver_due_emails()
    revealed = Client().post(reverse("accounts:claim"), {"claim_code": claim_token_from(smtp)})
    assert revealed.status_code == 200 and revealed["Content-Language"] == ZH
    assert "您的 RAM 用户账号" in revealed.content.decode()


def test_an_unchosen_language_leaves_the_claim_page_in_the_browser_s(owner, smtp):
    _, shown, _ = claimed_page(owner, smtp, "frank", "", browser_asks=ZH)
    assert shown["Content-Language"] == ZH and "立即登录" in shown.content.decode()
    _, shown, _ = claimed_page(owner, smtp, "gina", "", browser_asks="en")
    assert shown["Content-Language"] == "en" and "Sign in now" in shown.content.decode()


def test_an_invitation_is_in_the_invited_person_s_language(owner, smtp):
    dana = invite(owner)
    speaks(dana.user, ZH)
    assert deliver_due_emails() == 1
    [message] = smtp.messages
    assert message["Subject"].startswith("邀请：为您在 Acme 的 ")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "您受邀以 RAM 用户身份登录 Acme。" in text and "您的账号：" in text and "邀请人：" in text
    assert "<strong>Acme</strong>" in message.get_body(preferencelist=("html",)).get_content()
    token = link_token(message, "invitation")
    shown = Client(HTTP_ACCEPT_LANGUAGE="en").post(INVITE_URL, {"invitation_code": token})  # "Continue"
    html = shown.content.decode()
    assert shown.status_code == 200 and shown["Content-Language"] == ZH
    assert "设置您的密码" in html and "接受并登录" in html and dana.logon_name in html
    assert "Choose your password" not in html
    assert invitation_of(dana).state == DeliveryPacket.State.SENT


def test_an_english_invitation_stays_english(owner, smtp):
    dana = invite(owner)
    speaks(dana.user, "en")
    with translation.override(ZH):
        assert deliver_due_emails() == 1
    [message] = smtp.messages
    assert message["Subject"].startswith("Invitation: choose your password for dana@")
    assert f"expires in {settings.PORTAL_INVITATION_HOURS} hours" in body_of(message)
    assert not re.search(r"[\u4e00-\u9fff]", body_of(message))
    shown = Client(HTTP_ACCEPT_LANGUAGE=ZH).post(INVITE_URL, {"invitation_code": link_token(message, "invitation")})
    assert shown["Content-Language"] == "en" and "Choose your password" in shown.content.decode()
