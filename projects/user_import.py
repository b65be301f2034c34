"""Reading a CSV file (or an .xlsx sheet) of people to onboard, and checking every row with Create User's rules:
nothing is written.

The file is read in memory and not kept. A row says who the person is (`user_name`, `display_name`, …), how they
sign in (`console_logon`, `password`, the requirements), what they get (`access_key`, `policies`, `projects` with
roles), how their secrets reach them (`deliver`) and the language the portal speaks to them (`language`). It lives in
the projects app because a row may put its person into projects with roles, and accounts does not know projects.

The errors are worded in the active language (the administrator's page; English for the operator's command).
"""

import csv
import io
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

import openpyxl
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy
from openpyxl.utils.exceptions import InvalidFileException

from accounts.models import PrimaryAccount
from accounts.policies import SYSTEM_POLICIES_BY_NAME
from accounts.services.ram_users import NewRamUser, new_user_problems
from projects.matrix import Role, listed

COLUMNS = (
    "user_name",
    "display_name",
    "email",
    "mobile_phone",
    "comments",
    "console_logon",
    "password",
    "require_password_reset",
    "require_mfa",
    "access_key",
    "policies",
    "groups",
    "projects",
    "deliver",
    "language",
)
REQUIRED_COLUMNS = ("user_name", "display_name")
XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx file is a ZIP archive; CSV text never starts so
DELIVERY = ("show", "seal", "email", "invite")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}
# The `language` column's values (any case) and the portal language each names; empty: the importer's own.
LANGUAGE_VALUES = {
    "en": "en",
    "zh-hans": "zh-hans",
    "zh_hans": "zh-hans",
    "zh": "zh-hans",
    "zh-cn": "zh-hans",
}
# What a field of Create User is called in the file, for the errors its rules give.
FIELD_COLUMNS = {"name": "user_name", "password": "password"}
TEMPLATE_ROWS = (
    COLUMNS,
    (
        "zhang.wei",
        "张伟（数据平台）",
        "zhang.wei@example.com",
        "86-13800138000",
        "Data platform",
        "yes",
        "",
        "yes",
        "yes",
        "no",
        "AliyunRAMReadOnlyAccess",
        "",
        "sales_dw:role_project_dev|role_project_guest",
        "email",
        "zh-hans",
    ),
)


# The import file's `deliver` values as the counts name them (the values themselves in English: the file's words).
DELIVERY_WAYS = {
    "seal": pgettext_lazy("an import's deliver column", "seal"),
    "email": pgettext_lazy("an import's deliver column", "email"),
    "invite": pgettext_lazy("an import's deliver column", "invite"),
    "show": pgettext_lazy("an import's deliver column", "show"),
}


@dataclass(frozen=True)
class RowError:
    line: int  # in the file, the header being line 1
    column: str  # the column's header, or "" for the row as a whole
    message: str


@dataclass(frozen=True)
class ImportRow:
    line: int
    new: NewRamUser = field(repr=False)  # may carry a typed password
    policies: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # the account's groups, by their own names
    projects: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (project name, roles)
    deliver: str = "seal"


@dataclass
class ImportPreview:
    """What the file would do: its rows, every error by line and column, and the counts of what would be made."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def lines_with_errors(self) -> int:
        return len({error.line for error in self.errors if error.line > 1})

    @property
    def creatable(self) -> list[ImportRow]:
        bad = {error.line for error in self.errors}
        return [row for row in self.rows if row.line not in bad and 1 not in bad]

    def counts(self) -> dict[str, int]:
        """What would be made, by what it is (in the active language)."""
        good = self.creatable
        return {
            _("users"): len(good),
            _("with console logon"): sum(1 for row in good if row.new.console_logon),
            _("with an AccessKey"): sum(1 for row in good if row.new.create_access_key),
            _("policy attachments"): sum(len(row.policies) for row in good),
            _("group memberships"): sum(len(row.groups) for row in good),
            _("project memberships"): sum(len(row.projects) for row in good),
            **{
                _("deliver: %(way)s") % {"way": DELIVERY_WAYS.get(way, way)}: count
                for way, count in sorted(Counter(row.deliver for row in good).items())
            },
        }


def template_csv() -> str:
    """The header and one example row, for "Download CSV template"."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(TEMPLATE_ROWS)
    return out.getvalue()


def decode(content: bytes) -> str:
    """UTF-8 with or without a byte order mark; anything else is refused rather than guessed."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            _("The file is not UTF-8 text (byte %(byte)s). Save it as CSV UTF-8.") % {"byte": error.start + 1}
        ) from None


def _delimiter(header_line: str) -> str:
    # Spreadsheets in locales with a decimal comma save CSV with semicolons.
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _yes_no(value: str, line: int, column: str, errors: list[RowError], *, default: bool | None) -> bool | None:
    text = value.strip().lower()
    if not text:
        return default
    if text in YES:
        return True
    if text in NO:
        return False
    errors.append(RowError(line, column, _("Write yes or no, not “%(value)s”.") % {"value": value.strip()}))
    return default


class _Unreadable(Exception):
    def __init__(self, line: int, message: str):
        self.line, self.message = line, message
        super().__init__(message)


def _csv_lines(content: bytes) -> Iterator[tuple[int, list[str]]]:
    """The file's lines as cells, with their line numbers; the header first."""
    try:
        text = decode(content)
    except ValueError as error:
        raise _Unreadable(1, str(error)) from None
    header_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(header_line))
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as error:
        if reader.line_num <= 1:
            message = _("The header line cannot be read as CSV here: %(error)s.") % {"error": error}
        else:
            message = _("The file cannot be read as CSV here: %(error)s.") % {"error": error}
        raise _Unreadable(reader.line_num, message) from None


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the CSV file would have it: numbers without a trailing .0 (a phone number typed as a
    number), booleans as yes/no, dates in ISO form, empty cells empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _xlsx_lines(content: bytes) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows as cells, numbered as the spreadsheet numbers them. (Formulas give their saved values;
    defusedxml, installed beside openpyxl, guards its XML parsing.)"""
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as error:
        name = type(error).__name__
        raise _Unreadable(
            1, _("The file cannot be read as an .xlsx sheet (%(error)s). Save it again.") % {"error": name}
        ) from None
    try:
        for number, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            yield number, [_cell_text(value) for value in row]
    finally:
        book.close()


def is_xlsx(content: bytes) -> bool:
    return content.startswith(XLSX_MAGIC)


def importer_language() -> str:
    """The language of the person importing: the one their page is in (their own choice, else their browser's);
    the portal's default for the operator's command."""
    try:
        return translation.get_supported_language_variant(translation.get_language() or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


def read_import(content: bytes, account: PrimaryAccount) -> ImportPreview:
    """Every row of the file (CSV, or an .xlsx sheet's first sheet) checked against Create User's rules, the policies
    and the account's projects and roles; errors by line and column. Nothing is written. A row without a language
    gives its person the importer's (`importer_language`)."""
    preview = ImportPreview()
    default_language = importer_language()
    lines = _xlsx_lines(content) if is_xlsx(content) else _csv_lines(content)
    try:
        first = next(lines, None)
        if first is None:
            preview.errors.append(RowError(1, "", _("The file is empty: it needs a header line and a row per person.")))
            return preview
        header = [name.strip().lower() for name in first[1]]
        while header and not header[-1]:
            header.pop()  # a sheet's empty columns at the right
        unknown = [name for name in header if name not in COLUMNS]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        repeated = sorted(name for name, count in Counter(header).items() if count > 1)
        for names, problem in (
            (unknown, ngettext("Unknown column: %(names)s.", "Unknown columns: %(names)s.", len(unknown))),
            (missing, ngettext("Missing column: %(names)s.", "Missing columns: %(names)s.", len(missing))),
            (repeated, ngettext("Repeated column: %(names)s.", "Repeated columns: %(names)s.", len(repeated))),
        ):
            if names:
                preview.errors.append(RowError(1, "", problem % {"names": listed(names)}))
        if preview.errors:
            return preview
        projects = {name.lower(): name for name in account.projects.values_list("name", flat=True)}
        groups = {name.lower(): name for name in account.groups.values_list("name", flat=True)}
        limit = settings.PORTAL_MAX_IMPORT_ROWS
        for line, cells in lines:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(preview.rows) >= limit:
                preview.errors.append(
                    RowError(
                        line, "", _("A file may hold at most %(limit)s people: split it.") % {"limit": f"{limit:,}"}
                    )
                )
                break
            if any(cell.strip() for cell in cells[len(header) :]):
                preview.errors.append(
                    RowError(
                        line,
                        "",
                        _("%(cells)s cells where the header has %(columns)s.")
                        % {"cells": len(cells), "columns": len(header)},
                    )
                )
            values = dict(zip(header, (cell.strip() for cell in cells), strict=False))
            preview.rows.append(_row(values, line, projects, groups, preview.errors, default_language=default_language))
    except _Unreadable as unreadable:
        preview.errors.append(RowError(unreadable.line, "", unreadable.message))
    if not preview.rows and not preview.errors:
        preview.errors.append(RowError(1, "", _("The file has a header but no one to import.")))
    problems, _taken = new_user_problems(account, [row.new for row in preview.rows])
    for index, fields in sorted(problems.items()):
        for name, messages in fields.items():
            for message in messages:
                preview.errors.append(RowError(preview.rows[index].line, FIELD_COLUMNS.get(name, name), message))
    preview.errors.sort(key=lambda error: (error.line, COLUMNS.index(error.column) if error.column in COLUMNS else -1))
    return preview


def _row(
    values: dict[str, str],
    line: int,
    projects: dict[str, str],
    groups: dict[str, str],
    errors: list[RowError],
    *,
    default_language: str,
) -> ImportRow:
    console_logon = bool(_yes_no(values.get("console_logon", ""), line, "console_logon", errors, default=False))
    password = values.get("password") or None
    deliver = (values.get("deliver") or "seal").lower()
    if deliver not in DELIVERY:
        errors.append(
            RowError(
                line,
                "deliver",
                _("Write one of %(values)s, not “%(value)s”.")
                % {"values": listed(DELIVERY), "value": values["deliver"]},
            )
        )
        deliver = "seal"
    if password is not None and not console_logon:
        errors.append(RowError(line, "password", _("A password needs console_logon=yes.")))
    if deliver == "invite" and not console_logon:
        errors.append(RowError(line, "deliver", _("An invitation is to choose a console password: console_logon=yes.")))
    if deliver == "invite" and password is not None:
        errors.append(RowError(line, "password", _("With deliver=invite the person chooses it: leave password empty.")))
    if deliver == "email" and not values.get("email"):  # (invite: Create User's own rule says it)
        errors.append(
            RowError(line, "email", _("deliver=%(deliver)s needs the person's email address.") % {"deliver": deliver})
        )
    policies = tuple(name.strip() for name in values.get("policies", "").split(";") if name.strip())
    unknown = [name for name in policies if name not in SYSTEM_POLICIES_BY_NAME]
    if unknown:
        errors.append(
            RowError(
                line,
                "policies",
                ngettext("Unknown policy: %(names)s.", "Unknown policies: %(names)s.", len(unknown))
                % {"names": listed(unknown)},
            )
        )
    if len(set(policies)) < len(policies):
        errors.append(RowError(line, "policies", _("A policy is named twice.")))
    return ImportRow(
        line=line,
        new=NewRamUser(
            name=values.get("user_name", ""),
            display_name=values.get("display_name", ""),
            email=values.get("email", ""),
            mobile_phone=values.get("mobile_phone", ""),
            comments=values.get("comments", ""),
            console_logon=console_logon,
            password=password,
            must_reset_password=_yes_no(
                values.get("require_password_reset", ""), line, "require_password_reset", errors, default=None
            ),
            must_bind_mfa=bool(_yes_no(values.get("require_mfa", ""), line, "require_mfa", errors, default=False)),
            create_access_key=bool(_yes_no(values.get("access_key", ""), line, "access_key", errors, default=False)),
            invite=deliver == "invite" and console_logon and password is None,
            language=_language(values.get("language", ""), line, errors, default=default_language),
        ),
        policies=policies,
        groups=_groups(values.get("groups", ""), line, groups, errors),
        projects=_projects(values.get("projects", ""), line, projects, errors),
        deliver=deliver,
    )


def _language(value: str, line: int, errors: list[RowError], *, default: str) -> str:
    """`en` or `zh-hans` (any case; zh, zh-cn and zh_hans also name Simplified Chinese); empty: `default`."""
    text = value.strip()
    if not text:
        return default
    language = LANGUAGE_VALUES.get(text.lower())
    if language is None:
        errors.append(
            RowError(
                line,
                "language",
                _("Write en or zh-hans (or leave it empty for your own language), not “%(value)s”.") % {"value": text},
            )
        )
        return default
    return language


def _groups(text: str, line: int, groups: dict[str, str], errors: list[RowError]) -> tuple[str, ...]:
    """`group;group2`: groups of the account (any case), each once, no more than a user may join."""
    named = [name.strip() for name in text.split(";") if name.strip()]
    found = [groups[name.lower()] for name in named if name.lower() in groups]
    unknown = [name for name in named if name.lower() not in groups]
    if unknown:
        errors.append(
            RowError(
                line,
                "groups",
                _("This account has no group named %(names)s.")
                % {"names": listed(_("“%(name)s”") % {"name": name} for name in unknown)},
            )
        )
    if len(set(found)) < len(found):
        errors.append(RowError(line, "groups", _("A group is named twice.")))
    limit = settings.PORTAL_MAX_GROUPS_PER_USER
    if len(set(found)) > limit:
        errors.append(RowError(line, "groups", _("A user can be in at most %(limit)s groups.") % {"limit": limit}))
    return tuple(dict.fromkeys(found))


def _projects(
    text: str, line: int, projects: dict[str, str], errors: list[RowError]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`project:role|role;project2:role`: each project of the account (any case) and known roles."""
    found: list[tuple[str, tuple[str, ...]]] = []
    roles_known = {role.value for role in Role}
    for item in (part.strip() for part in text.split(";")):
        if not item:
            continue
        name, _colon, roles_text = item.partition(":")
        project = projects.get(name.strip().lower())
        if project is None:
            errors.append(
                RowError(line, "projects", _("This account has no project named “%(name)s”.") % {"name": name.strip()})
            )
            continue
        roles = tuple(role.strip() for role in roles_text.split("|") if role.strip())
        unknown = [role for role in roles if role not in roles_known]
        if unknown:
            errors.append(
                RowError(
                    line,
                    "projects",
                    _("Unknown role in %(project)s: %(roles)s.") % {"project": project, "roles": listed(unknown)},
                )
            )
            continue
        if any(existing == project for existing, _roles in found):
            errors.append(RowError(line, "projects", _("The project %(name)s is named twice.") % {"name": project}))
            continue
        found.append((project, roles))
    return tuple(found)
