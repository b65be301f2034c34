"""Delivery sheets as one PDF, one page per RAM user (fpdf2: pure Python, fast enough for 1,000 sheets)."""

from pathlib import Path

from django.conf import settings
from fpdf import FPDF

from accounts.sheets import DeliverySheet

LABEL_WIDTH = 55


class _SheetPdf(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        fonts = Path(settings.PORTAL_PDF_FONT_DIR)
        self.add_font("Sans", "", str(fonts / "DejaVuSans.ttf"))
        self.add_font("Sans", "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.add_font("Mono", "", str(fonts / "DejaVuSansMono.ttf"))
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title("RAM user delivery sheets")
        self.set_creator("RAM Onboarding Portal")

    def row(self, label: str, value: str, *, mono: bool = False) -> None:
        self.set_font("Sans", "B", 10)
        self.cell(LABEL_WIDTH, 7, label)
        self.set_font("Mono" if mono else "Sans", "", 10)
        self.multi_cell(0, 7, value or "-", new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Sans", "B", 12)
        self.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")

    def sheet(self, sheet: DeliverySheet) -> None:
        self.add_page()
        self.set_font("Sans", "B", 16)
        self.cell(0, 10, f"RAM user account: {sheet.ram_user.display_name}", new_x="LMARGIN", new_y="NEXT")
        self.set_font("Sans", "", 10)
        self.cell(0, 6, f"Primary account: {sheet.account_name}", new_x="LMARGIN", new_y="NEXT")
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
            self.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
        self.heading("Confirmations")
        self.row("Console logon", "Enabled" if sheet.is_console_logon_enabled else "Not enabled")
        self.row("Manage own AccessKeys", "Allowed" if sheet.can_manage_own_access_keys else "Not allowed")
        self.row("Password reset", "Required at first sign-in" if sheet.must_reset_password else "Not required")
        self.row("MFA", "Required at first sign-in" if sheet.must_bind_mfa else "Not required")
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
    pdf = _SheetPdf()
    for sheet in sheets:
        pdf.sheet(sheet)
    return bytes(pdf.output())
