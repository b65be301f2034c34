"""The projects' audit events in words, registered with the trail (accounts.audit_text) when the app is ready."""

from collections.abc import Iterable

from accounts.audit_text import changes_text, describes, details_of, joined, says
from portal.models import AuditEvent
from projects.matrix import ROLE_LABELS, Role

PROJECTS = "Projects"
MEMBERS = "Project members"
PROJECT_SETTING_LABELS = {
    "ip_whitelist": "IP whitelist",
    "is_full_table_scan_allowed": "full table scan",
    "is_data_protection_on": "data protection",
    "quota": "quota group",
}


def roles_text(roles: Iterable[str]) -> str:
    """ "role_project_dev (Developer), …": the code people type in commands, and what it is."""
    return ", ".join(f"{role} ({ROLE_LABELS[Role(role)]})" if role in Role else role for role in roles)


@describes("project.create", family=PROJECTS, label="Project created")
def _created(event: AuditEvent) -> str:
    facts = details_of(event)
    roles = facts.get("creator_roles")
    return joined(
        "Created the project",
        [
            f"“{facts['description']}”" if facts.get("description") else "",
            f"its creator became {roles_text(roles)}" if roles else "",
        ],
    )


@describes("project.delete", family=PROJECTS, label="Project deleted")
def _deleted(event: AuditEvent) -> str:
    removed = details_of(event).get("removed_members") or []
    groups = details_of(event).get("removed_groups") or []
    return joined(
        "Deleted the project",
        [
            f"removed {len(removed)} member{'s' if len(removed) != 1 else ''}" if removed else "",
            f"revoked the roles of group{'s' if len(groups) > 1 else ''} {', '.join(groups)}" if groups else "",
        ],
    )


@describes("project.settings", family=PROJECTS, label="Project settings changed")
def _settings(event: AuditEvent) -> str:
    return f"Changed the project settings: {changes_text(details_of(event)['changed'], PROJECT_SETTING_LABELS)}"


says(
    "project.cross_access_grant",
    "Let the members of project {from} reach this project",
    family=PROJECTS,
    label="Cross-project access authorised",
)


says(
    "project.cross_access_revoke",
    "Stopped the members of project {from} reaching this project",
    family=PROJECTS,
    label="Cross-project access revoked",
)


@describes("project.member_add", family=MEMBERS, label="Member added")
def _member_added(event: AuditEvent) -> str:
    facts = details_of(event)
    roles = facts.get("roles") or []
    return f"Added to project {facts['project']}" + (f" as {roles_text(roles)}" if roles else " without roles")


@describes("project.role_grant", family=MEMBERS, label="Roles granted")
def _roles_granted(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"Granted {roles_text(facts['roles'])} in project {facts['project']}"


@describes("project.role_revoke", family=MEMBERS, label="Roles revoked")
def _roles_revoked(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"Revoked {roles_text(facts['roles'])} in project {facts['project']}"


says("project.member_remove", "Removed from project {project}", family=MEMBERS, label="Member removed")


@describes("project.group_role_grant", family=MEMBERS, label="Roles granted to a group")
def _group_roles_granted(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"Granted {roles_text(facts['roles'])} in project {facts['project']} to every member"


@describes("project.group_role_revoke", family=MEMBERS, label="Roles revoked from a group")
def _group_roles_revoked(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"Revoked {roles_text(facts['roles'])} in project {facts['project']} from every member"


@describes("project.member_remove_all", family=MEMBERS, label="Removed from every project")
def _removed_everywhere(event: AuditEvent) -> str:
    removed = details_of(event).get("removed") or []
    return joined("Removed from every project before deletion", removed)


IMPORTS = "Imports"


@describes("user_import.start", family=IMPORTS, label="Import started")
def _import_started(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"Started importing {facts.get('rows', '?')} users from {facts.get('file', 'a file')}"


@describes("user_import.finish", family=IMPORTS, label="Import finished")
def _import_finished(event: AuditEvent) -> str:
    facts = details_of(event)
    return f"Finished an import: {facts.get('created', 0)} users created, {facts.get('failed', 0)} rows failed"
