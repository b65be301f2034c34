"""Import Users clicked through: upload, the preview with its errors, Import, the progress page (the worker's
part done here, as the worker would), and the report."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import RamUser
from projects.imports import run_import
from projects.models import UserImport
from tests.browser.conftest import Browsing, sign_in_owner

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

FILE = "\n".join(
    [
        "user_name,display_name,email,console_logon",
        "zhang.wei,张伟（数据平台）,zhang.wei@example.com,no",
        "zoe,Zoë O'Brien,zoe@example.com,maybe",
        "li.na,李娜,li.na@example.com,no",
    ]
)


def test_upload_preview_with_errors_import_progress_and_report(browsing: Browsing, owner, tmp_path):
    page = browsing.page
    sign_in_owner(browsing, owner)
    browsing.open(reverse("accounts:user-list"))
    page.get_by_role("link", name="Import Users").click()
    source = tmp_path / "people.csv"
    source.write_text(FILE, encoding="utf-8")
    page.get_by_label("CSV file (UTF-8, comma- or semicolon-separated)").set_input_files(str(source))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="1 error on 1 line")).to_be_visible()
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("3")
    expect(errors).to_contain_text("console_logon")
    expect(errors).to_contain_text("Write yes or no, not “maybe”.")
    browsing.snap("preview-with-errors")
    assert not RamUser.objects.filter(name="zhang.wei").exists()

    page.get_by_role("button", name="Import 2 users").click()
    expect(page.get_by_test_id("import-progress")).to_contain_text("0 of 2 rows done")
    browsing.snap("waiting-for-the-worker")
    run_import(str(UserImport.objects.get().uid))  # the background worker's part
    page.reload()
    expect(page.get_by_test_id("import-progress")).to_contain_text("2 of 2 rows done · 2 created · 0 failed")
    browsing.snap("done")
    assert RamUser.objects.get(name="zhang.wei").display_name == "张伟（数据平台）"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download result report (CSV)").click()
    report = download_info.value.path().read_text(encoding="utf-8").splitlines()
    assert report[0] == "line,user_name,outcome,error,packet"
    assert [line.split(",")[:3] for line in report[1:]] == [["2", "zhang.wei", "created"], ["4", "li.na", "created"]]
