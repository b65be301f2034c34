"""Import Users, the preview: every row checked with Create User's rules, errors by line and column, nothing
written; the same from the operator's command."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.services.groups import create_group
from projects.user_import import COLUMNS, read_import, template_csv
from tests.conftest import signed_in
from tests.db_state import database_state

HEADER = "user_name,display_name,email,console_logon,password,require_mfa,access_key,policies,projects,deliver"


def errors_of(owner, text: str, encoding: str = "utf-8") -> list[tuple[int, str, str]]:
    preview = read_import(text.encode(encoding), owner.account)
    return [(error.line, error.column, error.message) for error in preview.errors]


def test_a_good_file_previews_what_it_would_create_and_writes_nothing(owner, project, ram_user):
    text = "\n".join(
        [
            HEADER,
            "carol,Carol King,carol@example.com,yes,,yes,no,AliyunRAMReadOnlyAccess,sales_dw:role_project_dev,email",
            "dave,张伟（数据平台）,,yes,Harvest-Quartz-Beacon-3318,no,yes,,,seal",
            "erin,Erin,erin@example.com,no,,,,,SALES_DW:role_project_guest|role_project_dev,email",
        ]
    )
    before = database_state()
    preview = read_import(text.encode(), owner.account)
    assert preview.errors == []
    assert [row.new.name for row in preview.rows] == ["carol", "dave", "erin"]
    assert preview.rows[1].new.display_name == "张伟（数据平台）"
    assert preview.rows[2].projects == (("sales_dw", ("role_project_guest", "role_project_dev")),)
    assert preview.counts() == {
        "users": 3,
        "with console logon": 2,
        "with an AccessKey": 1,
        "policy attachments": 1,
        "group memberships": 0,
        "project memberships": 2,
        "deliver: email": 2,
        "deliver: seal": 1,
    }
    assert database_state() == before


def test_utf8_with_a_byte_order_mark_and_semicolons_read_alike(owner):
    text = "user_name;display_name;email\r\ncarol;King, Carol;carol@example.com\r\n"
    preview = read_import(("\ufeff" + text).encode(), owner.account)
    assert preview.errors == [] and preview.rows[0].new.display_name == "King, Carol"


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("bad name!,Carol,,,,,,,,", "user_name", "Use 1–64 characters"),
        ("alice,Alice Again,,,,,,,,", "user_name", "A RAM user with this name already exists."),
        ("carol,,,,,,,,,", "display_name", "Enter a display name."),
        ("carol,Carol,not-an-email,,,,,,,", "email", "Enter a valid email address."),
        ("carol,Carol,,maybe,,,,,,", "console_logon", "Write yes or no, not “maybe”."),
        ("carol,Carol,,yes,short,,,,,", "password", "at least"),
        ("carol,Carol,,no,Harvest-Quartz-Beacon-3318,,,,,", "password", "A password needs console_logon=yes."),
        ("carol,Carol,,,,often,,,,", "require_mfa", "Write yes or no"),
        ("carol,Carol,,,,,perhaps,,,", "access_key", "Write yes or no"),
        ("carol,Carol,,,,,,RootAccess,,", "policies", "Unknown policy: RootAccess."),
        ("carol,Carol,,,,,,,nowhere:role_project_dev,", "projects", "This account has no project named “nowhere”."),
        ("carol,Carol,,,,,,,sales_dw:role_project_boss,", "projects", "Unknown role in sales_dw: role_project_boss."),
        ("carol,Carol,,,,,,,,courier", "deliver", "Write one of show, seal, email, invite"),
        ("carol,Carol,,,,,,,,email", "email", "deliver=email needs the person's email address."),
        ("carol,Carol,c@example.com,no,,,,,,invite", "deliver", "An invitation is to choose a console password"),
        ("carol,Carol,c@example.com,yes,Harvest-Quartz-Beacon-3318,,,,,invite", "password", "leave password empty"),
        ("carol,Carol,,yes,,,,,,invite", "email", "An invitation goes to the user's email address"),
    ],
)
def test_each_columns_rule_names_the_line_and_the_column(owner, project, ram_user, row, column, message):
    found = errors_of(owner, f"{HEADER}\ncarol0,Fine,,,,,,,,\n{row}")
    assert [(line, col) for line, col, _ in found] == [(3, column)], found
    assert message in found[0][2]


def test_a_name_repeated_in_the_file_ignoring_case_is_an_error_on_the_second(owner):
    found = errors_of(owner, "user_name,display_name\ncarol,Carol\nCAROL,Carol again\n")
    assert found == [(3, "user_name", "This user name appears twice in the request.")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user_name,display_name,shoe_size\ncarol,Carol,42\n", "Unknown column: shoe_size."),
        ("user_name,email\ncarol,c@example.com\n", "Missing column: display_name."),
        ("user_name,display_name,user_name\ncarol,Carol,carol\n", "Repeated column: user_name."),
        ("", "The file is empty"),
        ("user_name,display_name\n", "The file has a header but no one to import."),
    ],
)
def test_a_bad_header_or_an_empty_file_is_one_clear_error(owner, text, message):
    found = errors_of(owner, text)
    assert len(found) == 1 and found[0][0] == 1 and message in found[0][2], found


def test_a_file_that_is_not_utf8_is_refused_not_guessed(owner):
    found = errors_of(owner, "user_name,display_name\nzoë,Zoë\n", encoding="latin-1")
    assert found == [(1, "", "The file is not UTF-8 text (byte 26). Save it as CSV UTF-8.")]


def test_fifty_bad_rows_among_a_thousand_good_ones(owner):
    lines = ["user_name,display_name,console_logon"]
    for index in range(1050):
        lines.append(f"user{index:04d},Person {index},{'sometimes' if index % 21 == 0 else 'yes'}")
    preview = read_import("\n".join(lines).encode(), owner.account)
    assert preview.lines_with_errors == 50
    assert {error.line for error in preview.errors} == {index + 2 for index in range(0, 1050, 21)}
    assert preview.counts()["users"] == 1000


def test_the_template_lists_every_column_and_checks_clean_but_for_its_example_project(owner):
    assert template_csv().splitlines()[0] == ",".join(COLUMNS)
    found = errors_of(owner, template_csv())
    assert found == [(2, "projects", "This account has no project named “sales_dw”.")]


def test_the_page_previews_an_upload_with_its_errors_and_writes_nothing(owner, project):
    client = signed_in(owner)
    assert client.get(reverse("projects:import-users")).status_code == 200
    template = client.get(reverse("projects:import-template"))
    assert template["Content-Disposition"] == 'attachment; filename="users-template.csv"'
    upload = SimpleUploadedFile("people.csv", f"{HEADER}\ncarol,Carol,,maybe,,,,,,\n".encode(), "text/csv")
    before = database_state()
    page = client.post(reverse("projects:import-users"), {"file": upload}).content.decode()
    assert "1 error on 1 line" in page and "Write yes or no, not “maybe”." in page
    assert "<td>2</td><td><code>console_logon</code></td>" in page
    assert database_state() == before


def test_a_reader_may_not_import(owner, ram_reader):
    assert signed_in(ram_reader).get(reverse("projects:import-users")).status_code == 403


def test_the_command_checks_a_file_and_fails_on_errors(owner, tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("user_name,display_name\ncarol,Carol\n", encoding="utf-8")
    bad.write_text("user_name,display_name,email\ncarol,Carol,nope\n", encoding="utf-8")
    call_command("import_users", "--account", owner.account.account_id, str(good), "--dry-run")
    assert "The file is valid; nothing was written (--dry-run)." in capsys.readouterr().out
    with pytest.raises(CommandError, match=r"1 errors on 1 lines: nothing written\."):
        call_command("import_users", "--account", owner.account.account_id, str(bad), "--dry-run")
    assert "bad.csv: line 2, email: Enter a valid email address." in capsys.readouterr().err


def xlsx_of(rows: list[list[object]]) -> bytes:
    """An .xlsx file as a spreadsheet program saves it (openpyxl writes the same format)."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_sheet_reads_as_its_csv_would_with_numbers_and_booleans_as_typed(owner, project):
    content = xlsx_of(
        [
            ["User_Name", "display_name", "mobile_phone", "console_logon", "projects", None],
            ["carol", "张伟（数据平台）", 8613800138000, True, "sales_dw:role_project_dev", None],
            [None, None, None, None, None, None],  # a blank row
            ["dave", "Dave", None, False, None, None],
        ]
    )
    before = database_state()
    preview = read_import(content, owner.account)
    assert preview.errors == []
    carol, dave = preview.rows
    assert (carol.line, carol.new.display_name, carol.new.mobile_phone) == (2, "张伟（数据平台）", "8613800138000")
    assert carol.new.console_logon and not dave.new.console_logon and dave.line == 4
    assert carol.projects == (("sales_dw", ("role_project_dev",)),)
    assert database_state() == before


def test_an_xlsx_sheet_gets_the_same_errors_by_line_and_column(owner):
    content = xlsx_of([["user_name", "display_name", "email"], ["carol", "Carol", "not-an-email"], ["bad name!", "X"]])
    found = [(error.line, error.column) for error in read_import(content, owner.account).errors]
    assert found == [(2, "email"), (3, "user_name")]
    unknown = read_import(xlsx_of([["user_name", "display_name", "shoe_size"]]), owner.account).errors
    assert [error.message for error in unknown] == ["Unknown column: shoe_size."]


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", b"PK\x03\x04" + bytes(range(256)) * 4])
def test_a_damaged_xlsx_file_is_a_clear_error_on_line_1(owner, content):
    [error] = read_import(content, owner.account).errors
    assert error.line == 1 and "cannot be read as an .xlsx sheet" in error.message


def test_the_page_takes_an_xlsx_upload(owner):
    client = signed_in(owner)
    upload = SimpleUploadedFile(
        "people.xlsx",
        xlsx_of([["user_name", "display_name"], ["carol", "Carol"]]),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response = client.post(reverse("projects:import-users"), {"file": upload})
    assert response.status_code == 200 and "No errors" in response.content.decode()


def test_the_groups_column_names_the_account_s_groups(owner, settings):
    settings.PORTAL_MAX_GROUPS_PER_USER = 2
    for name in ("Data-Eng", "readers", "ops"):
        create_group(actor=owner.actor, name=name)
    text = "\n".join(
        [
            "user_name,display_name,groups",
            "carol,Carol,data-eng;Readers",
            "dave,Dave,nobody;readers",
            "erin,Erin,readers;READERS",
            "frank,Frank,readers;ops;data-eng",
        ]
    )
    preview = read_import(text.encode(), owner.account)
    assert preview.rows[0].groups == ("Data-Eng", "readers")
    assert [(error.line, error.column, error.message) for error in preview.errors] == [
        (3, "groups", "This account has no group named “nobody”."),
        (4, "groups", "A group is named twice."),
        (5, "groups", "A user can be in at most 2 groups."),
    ]
    assert preview.counts()["group memberships"] == 2
