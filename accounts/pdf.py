"""Delivery sheets as one PDF, one page per RAM user (fpdf2: pure Python, fast enough for 1,000 sheets).

Names are printed in whatever script they were typed in: DejaVu (Debian's fonts-dejavu-core) covers Latin, Greek,
Cyrillic and more; where a sheet holds characters it lacks, Noto Sans CJK (Debian's fonts-noto-cjk) is embedded
as its fallback for Chinese, Japanese and Korean. A character neither font has (an emoji) prints as a visible
placeholder, never as a gap that hides it.
"""

import functools
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from fontTools.ttLib import TTFont
from fpdf import FPDF

from accounts.sheets import DeliverySheet

LABEL_WIDTH = 55
# The face of Debian's Noto Sans CJK collection to embed: Simplified Chinese shapes (the names most often typed in
# CJK here); every face of the collection covers the same Chinese, Japanese and Korean characters.
CJK_FACE = 2
PLACEHOLDER = "\ufffd"


def _sans_font() -> Path:
    return Path(settings.PORTAL_PDF_FONT_DIR) / "DejaVuSans.ttf"


@functools.cache
def _characters_of(path: str, face: int = 0) -> frozenset[int]:
    """The code points a font file (one face of a collection) has glyphs for; read once per process."""
    cmap: dict[int, str] = TTFont(path, fontNumber=face, lazy=True).getBestCmap()
    return frozenset(cmap)


def _needs_cjk(texts: Iterable[str]) -> bool:
    covered = _characters_of(str(_sans_font()))
    return any(ord(character) not in covered for text in texts for character in text)


class _SheetPdf(FPDF):
    def __init__(self, *, with_cjk: bool) -> None:
        super().__init__(format="A4")
        fonts = Path(settings.PORTAL_PDF_FONT_DIR)
        self.add_font("Sans", "", str(fonts / "DejaVuSans.ttf"))
        self.add_font("Sans", "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.add_font("Mono", "", str(fonts / "DejaVuSansMono.ttf"))
        # Only for sheets that need it: embedding the CJK font costs about a quarter of a second per document.
        self.printable = _characters_of(str(_sans_font()))
        if with_cjk:
            cjk = Path(settings.PORTAL_PDF_CJK_FONT)
            self.add_font("CJK", "", str(cjk), collection_font_number=CJK_FACE)
            self.add_font(
                "CJK", "B", str(cjk.with_name(cjk.name.replace("Regular", "Bold"))), collection_font_number=CJK_FACE
            )
            self.set_fallback_fonts(["CJK"])
            self.printable = self.printable | _characters_of(str(cjk), CJK_FACE)

    def text_of(self, text: str) -> str:
        """`text` with each character that no embedded font can draw replaced by a visible placeholder."""
        return "".join(character if ord(character) in self.printable else PLACEHOLDER for character in text)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title("RAM user delivery sheets")
        self.set_creator("RAM Onboarding Portal")

    def row(self, label: str, value: str, *, mono: bool = False) -> None:
        self.set_font("Sans", "B", 10)
        self.cell(LABEL_WIDTH, 7, label)
        self.set_font("Mono" if mono else "Sans", "", 10)
        self.multi_cell(0, 7, self.text_of(value) or "-", new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Sans", "B", 12)
        self.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")

    def sheet(self, sheet: DeliverySheet) -> None:
        self.add_page()
        self.set_font("Sans", "B", 16)
        self.cell(
            0, 10, self.text_of(f"RAM user account: {sheet.ram_user.display_name}"), new_x="LMARGIN", new_y="NEXT"
        )
        self.set_font("Sans", "", 10)
        self.cell(0, 6, self.text_of(f"Primary account: {sheet.account_name}"), new_x="LMARGIN", new_y="NEXT")
        self.heading("Sign in")
        self.row("Logon link", sheet.logon_link_with_user, mono=True)
        self.row("Enterprise alias", sheet.alias_domain or "(not set)", mono=True)
        self.row("Default domain", sheet.default_domain, mono=True)
        self.row("Logon name", sheet.logon_name, mono=True)
        if sheet.password:
            self.row("Initial password", sheet.password, mono=True)
            if sheet.password_spaces_note:
                self.row("", sheet.password_spaces_note)
        if sheet.access_key_id:
            self.heading("AccessKey")
            self.row("AccessKey ID", sheet.access_key_id, mono=True)
            if sheet.access_key_secret:
                self.row("AccessKey Secret", sheet.access_key_secret, mono=True)
        for note in sheet.notes:
            self.set_font("Sans", "", 9)
            self.multi_cell(0, 5, self.text_of(note), new_x="LMARGIN", new_y="NEXT")
        self.heading("Confirmations")
        self.row("Console logon", "Enabled" if sheet.is_console_logon_enabled else "Not enabled")
        self.row("Manage own AccessKeys", "Allowed" if sheet.can_manage_own_access_keys else "Not allowed")
        self.row("Password reset", "Required at first sign-in" if sheet.must_reset_password else "Not required")
        self.row("MFA", "Required at first sign-in" if sheet.must_bind_mfa else "Not required")
        if sheet.sections:
            self.heading("Projects and roles")
        for section in sheet.sections:
            self.set_font("Sans", "B", 10)
            self.multi_cell(0, 6, self.text_of(section.title), new_x="LMARGIN", new_y="NEXT")
            self.set_font("Sans", "", 9)
            for line in section.lines:
                self.multi_cell(0, 5, self.text_of(f"- {line}"), new_x="LMARGIN", new_y="NEXT")
        if sheet.issued_by:
            self.row("Issued", f"by {sheet.issued_by}, {sheet.issued_at:%Y-%m-%d %H:%M} UTC")
        if sheet.has_secrets:
            self.ln(4)
            self.set_font("Sans", "", 9)
            self.multi_cell(
                0,
                5,
                "This sheet carries secrets that were shown only once. Keep it confidential, change the password "
                "at first sign-in, and destroy the sheet afterwards.",
            )


def delivery_sheets_pdf(sheets: list[DeliverySheet]) -> bytes:
    # What may come in any script: the names, the notes and a password someone typed. The rest is ASCII.
    typed = [
        text
        for sheet in sheets
        for text in (
            sheet.ram_user.display_name,
            sheet.account_name,
            sheet.password or "",
            *sheet.notes,
            *(line for section in sheet.sections for line in (section.title, *section.lines)),
        )
    ]
    pdf = _SheetPdf(with_cjk=_needs_cjk(typed))
    for sheet in sheets:
        pdf.sheet(sheet)
    return bytes(pdf.output())
