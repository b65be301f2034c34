"""What a delivery sheet (print, PDF, email, claim page) says about a RAM user, from live data.

Other apps add sections about the user (the projects app: each project, its roles and what they allow) through
`add_sheet_sections`, registered when they start: accounts does not import them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.utils.translation import gettext as _

from accounts.models import DeliveryPacket, RamUser
from accounts.models.delivery import delivery_language


@dataclass(frozen=True)
class SheetSection:
    """A titled list of plain lines on a sheet (one project: its roles, then what they allow, per channel)."""

    title: str
    lines: tuple[str, ...] = ()


SheetSections = Callable[[RamUser], list[SheetSection]]
_section_makers: list[SheetSections] = []


def add_sheet_sections(make: SheetSections) -> None:
    """Registers what another app says on every sheet, in the order registered (once per process)."""
    if make not in _section_makers:
        _section_makers.append(make)


@dataclass(frozen=True)
class DeliverySheet:
    ram_user: RamUser
    account_name: str
    logon_link: str
    logon_link_with_user: str
    default_domain: str
    alias_domain: str | None
    logon_name: str
    is_console_logon_enabled: bool
    can_manage_own_access_keys: bool
    must_reset_password: bool
    must_bind_mfa: bool
    issued_by: str
    issued_at: datetime | None
    access_key_id: str
    # Never in a repr: a sheet may end up in a log record or an error report.
    password: str | None = field(default=None, repr=False)
    access_key_secret: str | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()  # what happened to the packet's secrets since it was made
    sections: tuple[SheetSection, ...] = ()  # what other apps say of the user (projects and roles)

    @property
    def has_secrets(self) -> bool:
        return bool(self.password or self.access_key_secret)

    @property
    def language(self) -> str:
        """The language the sheet speaks: its person's (accounts.models.delivery.delivery_language)."""
        return delivery_language(self.ram_user.user)

    @property
    def password_spaces_note(self) -> str:
        """A typed password keeps its spaces exactly; at its ends they are invisible on a screen or on paper."""
        if not self.password:
            return ""
        begins, ends = self.password[:1].isspace(), self.password[-1:].isspace()
        if begins and ends:
            return _("Note: the password begins and ends with a space.")
        if begins:
            return _("Note: the password begins with a space.")
        return _("Note: the password ends with a space.") if ends else ""


def delivery_sheet(
    ram_user: RamUser,
    packet: DeliveryPacket | None = None,
    *,
    password: str | None = None,
    access_key_secret: str | None = None,
    access_key_id: str = "",
) -> DeliverySheet:
    account = ram_user.account
    return DeliverySheet(
        ram_user=ram_user,
        account_name=account.name,
        logon_link=account.logon_link,
        logon_link_with_user=f"{account.logon_link}?{urlencode({'username': ram_user.name})}",
        default_domain=account.default_domain,
        alias_domain=account.alias_domain,
        logon_name=ram_user.logon_name,
        is_console_logon_enabled=ram_user.is_console_logon_enabled,
        can_manage_own_access_keys=account.security_settings.allow_manage_access_keys,
        must_reset_password=ram_user.must_reset_password,
        must_bind_mfa=ram_user.must_bind_mfa,
        issued_by=packet.created_by if packet else "",
        issued_at=packet.created_at if packet else None,
        access_key_id=access_key_id or (packet.access_key_id if packet else ""),
        password=password,
        access_key_secret=access_key_secret,
        notes=tuple(packet.history_lines()) if packet else (),
        sections=tuple(section for make in _section_makers for section in make(ram_user)),
    )
