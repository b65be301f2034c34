"""The portal in Chinese in Chromium (issue 18): a browser that asks for Chinese gets it from the first page, the
language picker switches on the spot (and the choice stays with the person), and the main pages are looked at in
Chinese, on a desktop and on a 390-pixel phone."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.actors import operator_actor
from accounts.models import User
from accounts.services.access_keys import issue_access_key
from projects.matrix import Role
from projects.services import add_member, create_project
from tests.browser.conftest import Browsing
from tests.conftest import fresh_totp_code, make_ram_user

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_the_main_pages_in_chinese(browser, live_server, owner):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    browsing = Browsing(page=page, base_url=live_server.url, test_name="main_pages_in_chinese")
    zhang = make_ram_user(owner, "zhangwei")
    issue_access_key(actor=operator_actor(owner.account), holder=owner.user, otp_code=None)  # (projects need it)
    project = create_project(actor=owner.actor, name="sales_dw")
    add_member(actor=owner.actor, project=project, ram_user=zhang.ram_user, roles=[Role.DEV])

    # The browser asks for Chinese (zh-CN): the sign-in page answers in it before anyone has chosen anything.
    browsing.open(reverse("accounts:owner-sign-in"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    browsing.snap("sign-in")
    page.get_by_label("邮箱").fill(owner.user.email)
    page.get_by_label("密码").fill(owner.password)
    page.get_by_role("button", name="登录").click()
    page.get_by_label("验证码").fill(fresh_totp_code(owner.device))
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("heading", name="概览")).to_be_visible()
    browsing.snap("overview")

    for name, heading in [
        ("accounts:user-list", "用户"),
        ("accounts:create-users", "创建用户"),
        ("accounts:security-settings", "用户安全设置"),
        ("accounts:update-default-domain", "设置默认域名"),
        ("accounts:packet-list", "交付包"),
        ("accounts:group-list", "用户组"),
    ]:
        browsing.open(reverse(name))
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        browsing.snap(name.split(":")[1])
    browsing.open(reverse("accounts:user-detail", args=[zhang.ram_user.pk]))
    browsing.snap("user-detail")
    browsing.open(reverse("projects:project-detail", args=[project.pk]))
    browsing.snap("project-detail")

    # The picker switches to English at once (choosing is enough), and the owner's account remembers it.
    page.get_by_label("语言").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(browsing.base_url + reverse("projects:project-detail", args=[project.pk]))
    assert User.objects.get(pk=owner.user.pk).language == "en"
    page.get_by_label("Language").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # A phone: Chinese labels wrap where they must, and no page gets wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    for name, args in [
        ("accounts:user-list", []),
        ("accounts:create-users", []),
        ("accounts:user-detail", [zhang.ram_user.pk]),
        ("accounts:security-settings", []),
        ("projects:project-detail", [project.pk]),
    ]:
        browsing.open(reverse(name, args=args))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        browsing.snap(f"{name.split(':')[1]}-390")
    assert not errors, errors
    context.close()
