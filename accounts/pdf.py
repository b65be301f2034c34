"""Delivery sheets as one PDF, one page per RAM user (fpdf2: pure Python, fast enough for 1,000 sheets).

Names are printed in whatever script they were typed in: DejaVu (Debian's fonts-dejavu-core) covers Latin, Greek,
Cyrillic and more; where a sheet holds characters it lacks, Noto Sans CJK (Debian's fonts-noto-cjk) is embedded
as its fallback for Chinese, Japanese and Korean. A character neither font has (an emoji) prints as a visible
placeholder, never as a gap that hides it.

Each sheet speaks its person's language (accounts.models.delivery.delivery_language), whatever the language of the
administrator who prints it: a document may hold sheets in English and in Chinese. The CJK font is embedded as soon
as a sheet's text (typed or translated) needs it.
"""

import functools
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from fontTools.ttLib import TTFont
from fpdf import FPDF

from accounts.models.delivery import delivery_language
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
        self.has_cjk = False
        if with_cjk:
            self.add_cjk()
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(_("RAM user delivery sheets"))
        self.set_creator("RAM Onboarding Portal")

    def add_cjk(self) -> None:
        """Noto Sans CJK as the fallback of every font, from here to the end of the document."""
        if self.has_cjk:
            return
        cjk = Path(settings.PORTAL_PDF_CJK_FONT)
        self.add_font("CJK", "", str(cjk), collection_font_number=CJK_FACE)
        self.add_font(
            "CJK", "B", str(cjk.with_name(cjk.name.replace("Regular", "Bold"))), collection_font_number=CJK_FACE
        )
        self.set_fallback_fonts(["CJK"])
        self.printable = self.printable | _characters_of(str(cjk), CJK_FACE)
        self.has_cjk = True

    def text_of(self, text: str) -> str:
        """`text` with each character that no embedded font can draw replaced by a visible placeholder. A character
        that DejaVu lacks (Chinese words of a translated sheet) brings the CJK font in first."""
        if not self.has_cjk:
            missing = {ord(character) for character in text} - self.printable
            if missing and missing & _characters_of(str(Path(settings.PORTAL_PDF_CJK_FONT)), CJK_FACE):
                self.add_cjk()
        return "".join(character if ord(character) in self.printable else PLACEHOLDER for character in text)

    def row(self, label: str, value: str, *, mono: bool = False) -> None:
        self.set_font("Sans", "B", 10)
        self.cell(LABEL_WIDTH, 7, self.text_of(label))
        self.set_font("Mono" if mono else "Sans", "", 10)
        self.multi_cell(0, 7, self.text_of(value) or "-", new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Sans", "B", 12)
        self.cell(0, 8, self.text_of(text), new_x="LMARGIN", new_y="NEXT")

    def sheet(self, sheet: DeliverySheet) -> None:
        """One page, in the language of the sheet's person."""
        # (A sheet made for a RAM user without its identity loaded, as the benchmark's, is in English.)
        with translation.override(delivery_language(getattr(sheet.ram_user, "user", None))):
            self._sheet(sheet)

    def _sheet(self, sheet: DeliverySheet) -> None:
        self.add_page()
        self.set_font("Sans", "B", 16)
        self.cell(
            0,
            10,
            self.text_of(_("RAM user account: %(name)s") % {"name": sheet.ram_user.display_name}),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.set_font("Sans", "", 10)
        self.cell(
            0,
            6,
            self.text_of(_("Primary account: %(name)s") % {"name": sheet.account_name}),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.heading(_("Sign in"))
        self.row(_("Logon link"), sheet.logon_link_with_user, mono=True)
        self.row(_("Enterprise alias"), sheet.alias_domain or _("(not set)"), mono=True)
        self.row(_("Default domain"), sheet.default_domain, mono=True)
        self.row(_("Logon name"), sheet.logon_name, mono=True)
        if sheet.password:
            self.row(_("Initial password"), sheet.password, mono=True)
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
        self.heading(_("Confirmations"))
        required, not_required = _("Required at first sign-in"), pgettext("delivery sheet", "Not required")
        enabled, not_enabled = pgettext("delivery sheet", "Enabled"), pgettext("delivery sheet", "Not enabled")
        allowed, not_allowed = pgettext("delivery sheet", "Allowed"), pgettext("delivery sheet", "Not allowed")
        self.row(_("Console logon"), enabled if sheet.is_console_logon_enabled else not_enabled)
        self.row(_("Manage own AccessKeys"), allowed if sheet.can_manage_own_access_keys else not_allowed)
        self.row(_("Password reset"), required if sheet.must_reset_password else not_required)
        self.row("MFA", required if sheet.must_bind_mfa else not_required)
        if sheet.sections:
            self.heading(_("Projects and roles"))
        for section in sheet.sections:
            self.set_font("Sans", "B", 10)
            self.multi_cell(0, 6, self.text_of(section.title), new_x="LMARGIN", new_y="NEXT")
            self.set_font("Sans", "", 9)
            for line in section.lines:
                self.multi_cell(0, 5, self.text_of(f"- {line}"), new_x="LMARGIN", new_y="NEXT")
        if sheet.issued_by:
            self.row(
                _("Issued"),
                _("by %(by)s, %(at)s UTC") % {"by": sheet.issued_by, "at": f"{sheet.issued_at:%Y-%m-%d %H:%M}"},
            )
        if sheet.has_secrets:
            self.ln(4)
            self.set_font("Sans", "", 9)
            self.multi_cell(
                0,
                5,
                self.text_of(
                    _(
                        "This sheet carries secrets that were shown only once. Keep it confidential, change the "
                        "password at first sign-in, and destroy the sheet afterwards."
                    )
                ),
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
