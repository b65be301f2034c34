"""What a RAM user may do in each of its projects, by the matrix: for its credential page, its user page and every
delivery sheet (print, PDF, email) — one reading, worded the same everywhere."""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from accounts.models import RamUser
from accounts.rights import source_words
from accounts.sheets import SheetSection
from projects.matrix import MATRIX, Channel, listed, role_label
from projects.models import Project
from projects.permissions import PermissionCache, check_permission
from projects.rights import project_role_sources

CHANNEL_NAMES = {
    Channel.CONSOLE: gettext_lazy("Web console (DataWorks)"),
    Channel.API: gettext_lazy("API (MaxCompute CLI and MaxCompute Studio)"),
}


def labelled(roles: list[str]) -> list[tuple[str, str]]:
    return [(role, role_label(role)) for role in sorted(roles)]


@dataclass(frozen=True)
class ProjectAbilities:
    project: Project
    roles: list[tuple[str, str, str]]  # (code, label, where it comes from: "" or "via group …")
    channels: list[tuple[str, str, list[str]]]  # (channel's name, channel, what the user may do there)


def abilities_of(ram_user: RamUser) -> list[ProjectAbilities]:
    """The user's projects by name (its own and its groups'), its roles in each with where they come from, and what
    the matrix lets it do there, per channel; worded in the active language (a page's, a sheet's)."""
    user = ram_user.user
    cache = PermissionCache()  # one lookup of roles and of the account's AccessKey per project, however many rows
    found = []
    for project, sources in project_role_sources(user):
        cache.roles[(user.pk, project.pk)] = frozenset(sources)  # already read: check_permission asks no more
        allowed = {
            channel: [
                row.shown_description
                for row in MATRIX
                if row.channel == channel and check_permission(user, project, row.operation, channel, cache=cache)
            ]
            for channel in Channel
        }
        channels = [(str(CHANNEL_NAMES[channel]), channel.value, allowed[channel]) for channel in Channel]
        roles = [(code, label, source_words(sources[code])) for code, label in labelled(list(sources))]
        found.append(ProjectAbilities(project=project, roles=roles, channels=channels))
    return found


def project_sheet_sections(ram_user: RamUser) -> list[SheetSection]:
    """The sheet's "Projects and roles": one section per project (accounts.sheets.add_sheet_sections)."""
    sections = []
    for entry in abilities_of(ram_user):
        roles = listed(
            _("%(code)s (%(label)s, %(via)s)") % {"code": code, "label": label, "via": via}
            if via
            else _("%(code)s (%(label)s)") % {"code": code, "label": label}
            for code, label, via in entry.roles
        )
        lines = [_("Roles: %(roles)s") % {"roles": roles} if roles else _("Roles: no role")]
        for name, _channel, allowed in entry.channels:
            done = pgettext("between the operations of a list", "; ").join(allowed)
            lines.append(
                _("%(channel)s: %(operations)s") % {"channel": name, "operations": done}
                if allowed
                else _("%(channel)s: nothing") % {"channel": name}
            )
        sections.append(SheetSection(title=_("Project %(name)s") % {"name": entry.project.name}, lines=tuple(lines)))
    return sections
