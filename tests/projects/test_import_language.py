"""Import Users' `language` column: the language the portal speaks to each imported person (User.language). `en` or
`zh-hans` in any case (zh, zh-cn and zh_hans name Simplified Chinese too); empty, the importing administrator's own
language; anything else is an error on its row, which then creates nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from accounts.models import RamUser
from projects.imports import run_import, start_user_import
from projects.models import UserImportRow
from projects.user_import import COLUMNS, read_import, template_csv
from tests.conftest import signed_in

SPELLINGS = [
    ("en", "en"),
    ("EN", "en"),
    ("zh-hans", "zh-hans"),
    ("ZH-HANS", "zh-hans"),
    ("zh-Hans", "zh-hans"),
    ("zh_hans", "zh-hans"),
    ("zh", "zh-hans"),
    ("ZH", "zh-hans"),
    ("zh-cn", "zh-hans"),
    ("zh-CN", "zh-hans"),
    (" zh-cn ", "zh-hans"),
]


def imported(owner, text: str, *, language: str = "en") -> dict[str, str]:
    """Checks and imports `text` as an administrator whose page is in `language`: each created user's language."""
    with translation.override(language):
        preview = read_import(text.encode(), owner.account)
    job = start_user_import(actor=owner.actor, preview=preview, file_name="people.csv", enqueue=False)
    run_import(str(job.uid))
    users = RamUser.objects.filter(account=owner.account).select_related("user")
    return {ram_user.name: ram_user.user.language for ram_user in users}


@pytest.mark.parametrize(("written", "language"), SPELLINGS)
def test_each_accepted_spelling_names_a_portal_language(owner, written, language):
    preview = read_import(f"user_name,display_name,language\ncarol,Carol,{written}\n".encode(), owner.account)
    assert preview.errors == []
    assert preview.rows[0].new.language == language


def test_the_created_people_get_the_language_their_row_names(owner):
    rows = [f"user{index},Person {index},{written}" for index, (written, _) in enumerate(SPELLINGS)]
    languages = imported(owner, "\n".join(["user_name,display_name,language", *rows]), language="zh-hans")
    assert languages == {f"user{index}": language for index, (_, language) in enumerate(SPELLINGS)}


@pytest.mark.parametrize("importer", ["en", "zh-hans"])
def test_an_empty_cell_or_no_column_gives_the_importer_s_own_language(owner, importer):
    text = "user_name,display_name,language\ncarol,Carol,\ndave,Dave,en\n"
    assert imported(owner, text, language=importer) == {"carol": importer, "dave": "en"}
    with translation.override(importer):
        preview = read_import(b"user_name,display_name\nerin,Erin\n", owner.account)
    assert preview.rows[0].new.language == importer


def test_the_page_gives_an_empty_cell_the_language_of_the_administrator_s_page(owner):
    client = signed_in(owner)
    upload = SimpleUploadedFile("people.csv", b"user_name,display_name,language\ncarol,Carol,\ndave,Dave,EN\n")
    page = client.post(reverse("projects:import-users"), {"file": upload}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and page["Content-Language"] == "zh-hans"
    kept = {row.name: row.data["new"]["language"] for row in UserImportRow.objects.all()}
    assert kept == {"carol": "zh-hans", "dave": "en"}


@pytest.mark.parametrize("written", ["fr", "english", "zh-tw", "zh-hant", "en-us", "中文"])
def test_any_other_value_is_an_error_on_its_row_and_that_row_creates_nothing(owner, written):
    text = f"user_name,display_name,language\ncarol,Carol,{written}\ndave,Dave,zh\n"
    preview = read_import(text.encode(), owner.account)
    [error] = preview.errors
    assert (error.line, error.column) == (2, "language")
    assert "en or zh-hans" in error.message and f"“{written}”" in error.message
    assert [row.new.name for row in preview.creatable] == ["dave"]
    assert imported(owner, text) == {"dave": "zh-hans"}
    assert not RamUser.objects.filter(account=owner.account, name="carol").exists()


def test_the_page_shows_the_error_in_the_language_column(owner):
    client = signed_in(owner)
    upload = SimpleUploadedFile("people.csv", b"user_name,display_name,language\ncarol,Carol,klingon\n")
    page = client.post(reverse("projects:import-users"), {"file": upload}).content.decode()
    assert "<td>2</td><td><code>language</code></td>" in page
    assert "Write en or zh-hans (or leave it empty for your own language), not “klingon”." in page
    assert "Nothing can be imported from this file" in page and not UserImportRow.objects.exists()


def test_the_template_ends_with_the_optional_language_column(owner):
    header, example = template_csv().splitlines()
    assert COLUMNS[-1] == "language" and header.endswith(",language") and example.endswith(",zh-hans")
    assert read_import(b"user_name,display_name\ncarol,Carol\n", owner.account).errors == []  # (optional)
