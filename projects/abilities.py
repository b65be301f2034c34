"""What a RAM user may do in each of its projects, by the matrix: for its credential page, its user page and every
delivery sheet (print, PDF, email) — one reading, worded the same everywhere."""

from dataclasses import dataclass

from accounts.models import RamUser
from accounts.rights import source_words
from accounts.sheets import SheetSection
from projects.matrix import MATRIX, ROLE_LABELS, Channel, Role
from projects.models import Project
from projects.permissions import PermissionCache, check_permission
from projects.rights import project_role_sources

CHANNEL_NAMES = {
    Channel.CONSOLE: "Web console (DataWorks)",
    Channel.API: "API (MaxCompute CLI and MaxCompute Studio)",
}


def labelled(roles: list[str]) -> list[tuple[str, str]]:
    return [(role, ROLE_LABELS[Role(role)]) for role in sorted(roles)]


@dataclass(frozen=True)
class ProjectAbilities:
    project: Project
    roles: list[tuple[str, str, str]]  # (code, label, where it comes from: "" or "via group …")
    channels: list[tuple[str, str, list[str]]]  # (channel's name, channel, what the user may do there)


def abilities_of(ram_user: RamUser) -> list[ProjectAbilities]:
    """The user's projects by name (its own and its groups'), its roles in each with where they come from, and what
    the matrix lets it do there, per channel."""
    user = ram_user.user
    cache = PermissionCache()  # one lookup of roles and of the account's AccessKey per project, however many rows
    found = []
    for project, sources in project_role_sources(user):
        cache.roles[(user.pk, project.pk)] = frozenset(sources)  # already read: check_permission asks no more
        allowed = {
            channel: [
                row.description
                for row in MATRIX
                if row.channel == channel and check_permission(user, project, row.operation, channel, cache=cache)
            ]
            for channel in Channel
        }
        channels = [(CHANNEL_NAMES[channel], channel.value, allowed[channel]) for channel in Channel]
        roles = [(code, label, source_words(sources[code])) for code, label in labelled(list(sources))]
        found.append(ProjectAbilities(project=project, roles=roles, channels=channels))
    return found


def project_sheet_sections(ram_user: RamUser) -> list[SheetSection]:
    """The sheet's "Projects and roles": one section per project (accounts.sheets.add_sheet_sections)."""
    sections = []
    for entry in abilities_of(ram_user):
        roles = ", ".join(f"{code} ({label}{', ' + via if via else ''})" for code, label, via in entry.roles)
        roles = roles or "no role"
        lines = [f"Roles: {roles}"]
        for name, _, allowed in entry.channels:
            lines.append(f"{name}: {'; '.join(allowed) if allowed else 'nothing'}")
        sections.append(SheetSection(title=f"Project {entry.project.name}", lines=tuple(lines)))
    return sections
