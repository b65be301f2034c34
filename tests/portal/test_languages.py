"""The language of a page (issue 18): the signed-in person's own choice, else this browser's (the picker's cookie),
else what the browser asks for, else English; the picker is on every page and remembers the choice for the person."""

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from tests.conftest import signed_in


def language_of(response) -> str:
    assert response.status_code == 200
    return response["Content-Language"]


def test_a_browser_that_asks_for_chinese_gets_it_and_english_otherwise(db):
    sign_in = reverse("accounts:owner-sign-in")
    assert language_of(Client().get(sign_in)) == "en"
    assert language_of(Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8").get(sign_in)) == "zh-hans"
    assert language_of(Client(HTTP_ACCEPT_LANGUAGE="zh-Hans-CN").get(sign_in)) == "zh-hans"
    assert language_of(Client(HTTP_ACCEPT_LANGUAGE="fr-FR,de;q=0.8").get(sign_in)) == "en"


def test_the_picker_is_on_signed_out_pages_and_its_choice_stays_with_the_browser(db):
    browser = Client()
    page = browser.get(reverse("accounts:owner-sign-in")).content.decode()
    assert 'data-testid="language-picker"' in page and 'lang="zh-hans"' in page  # each language named in itself
    chosen = browser.post(
        reverse("accounts:choose-language"),
        {"language": "zh-hans"},
        HTTP_REFERER="http://testserver/signin/",
    )
    assert chosen.status_code == 302 and chosen.url == "http://testserver/signin/"  # back where it was chosen
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    answer = browser.get(reverse("accounts:owner-sign-in"))
    assert language_of(answer) == "zh-hans" and '<html lang="zh-hans">' in answer.content.decode()
    assert "语言" in answer.content.decode()  # the picker's own label, translated


def test_a_signed_in_person_s_choice_follows_them_to_another_browser(owner):
    first = signed_in(owner)
    first.post(reverse("accounts:choose-language"), {"language": "zh-hans"})
    assert User.objects.get(pk=owner.user.pk).language == "zh-hans"
    elsewhere = signed_in(owner)  # no cookie there, and a browser that asks for English
    page = elsewhere.get(reverse("accounts:overview"), HTTP_ACCEPT_LANGUAGE="en")
    assert language_of(page) == "zh-hans" and "退出登录" in page.content.decode()
    elsewhere.post(reverse("accounts:choose-language"), {"language": "en"})
    assert User.objects.get(pk=owner.user.pk).language == "en"


def test_an_unknown_language_changes_nothing(owner):
    client = signed_in(owner)
    answer = client.post(reverse("accounts:choose-language"), {"language": "xx"})
    assert answer.status_code == 302
    assert User.objects.get(pk=owner.user.pk).language == ""
    assert settings.LANGUAGE_COOKIE_NAME not in answer.cookies


def test_after_a_chinese_page_the_thread_speaks_english_again(owner):
    """The signed API is answered before the language is chosen: it must not inherit the last page's."""
    client = signed_in(owner)
    client.post(reverse("accounts:choose-language"), {"language": "zh-hans"})
    assert language_of(client.get(reverse("accounts:overview"))) == "zh-hans"
    assert translation.get_language() == "en"


def test_a_new_primary_account_s_owner_keeps_the_language_the_sign_up_page_was_read_in(db, settings):
    settings.PORTAL_SELF_SIGN_UP = True
    data = {"name": "Qiye", "email": "owner@qiye.example", "password": "Copper-Willow-Signal-6604"}
    Client(HTTP_ACCEPT_LANGUAGE="zh-CN").post(reverse("accounts:sign-up"), data)
    assert User.objects.get(email="owner@qiye.example").language == "zh-hans"
    english = {**data, "email": "owner@other.example", "name": "Other"}
    Client().post(reverse("accounts:sign-up"), english)
    assert User.objects.get(email="owner@other.example").language == "en"


def test_a_page_shown_once_holds_the_picker_and_its_sheet_speaks_the_person_s_language(owner):
    """Choosing a language reloads the page: where that would spend secrets shown once, the picker waits for the next
    page. The sheet on it is its person's, as a printed or emailed one: an English administrator, a Chinese user."""
    client = signed_in(owner)
    rows = {
        "users-TOTAL_FORMS": "1",
        "users-INITIAL_FORMS": "0",
        "users-0-name": "wangfang",
        "users-0-display_name": "王芳",
        "users-0-console_logon": "on",
        "users-0-password_mode": "generate",
        "deliver": "show",
        "language": "zh-hans",
    }
    shown = client.post(reverse("accounts:create-users"), rows, follow=True).content.decode()
    assert 'data-testid="language-picker-held"' in shown and 'data-testid="language-picker"' not in shown
    assert "新机密信息" not in shown and "The new secrets are shown" in shown  # the administrator's page, in English
    assert 'lang="zh-hans"' in shown and "RAM 用户账号" in shown  # wangfang's sheet, in Chinese
    assert 'data-testid="language-picker"' in client.get(reverse("accounts:user-list")).content.decode()
