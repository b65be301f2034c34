"""The projects' audit events in words, registered with the trail (accounts.audit_text) when the app is ready.

The sentences are worded when the trail is read, in its reader's language; what is stored (actions, details) stays
as it was written."""

from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from accounts.audit_text import changes_text, describes, details_of, joined
from portal.models import AuditEvent
from projects.matrix import Role, listed, role_label

PROJECTS = gettext_lazy("Projects")
MEMBERS = gettext_lazy("Project members")
PROJECT_SETTING_LABELS = {
    "ip_whitelist": gettext_noop("IP whitelist"),
    "is_full_table_scan_allowed": gettext_noop("full table scan"),
    "is_data_protection_on": gettext_noop("data protection"),
    "quota": gettext_noop("quota group"),
}


def roles_text(roles: Iterable[str]) -> str:
    """ "role_project_dev (Developer), …": the code people type in commands, and what it is."""
    return listed(
        _("%(code)s (%(label)s)") % {"code": role, "label": role_label(role)} if role in Role else role
        for role in roles
    )


@describes("project.create", family=PROJECTS, label=gettext_lazy("Project created"))
def _created(event: AuditEvent) -> str:
    facts = details_of(event)
    roles = facts.get("creator_roles")
    return joined(
        _("Created the project"),
        [
            _("“%(description)s”") % {"description": facts["description"]} if facts.get("description") else "",
            _("its creator became %(roles)s") % {"roles": roles_text(roles)} if roles else "",
        ],
    )


@describes("project.delete", family=PROJECTS, label=gettext_lazy("Project deleted"))
def _deleted(event: AuditEvent) -> str:
    removed = details_of(event).get("removed_members") or []
    groups = details_of(event).get("removed_groups") or []
    return joined(
        _("Deleted the project"),
        [
            ngettext("removed %(count)s member", "removed %(count)s members", len(removed)) % {"count": len(removed)}
            if removed
            else "",
            ngettext("revoked the roles of group %(groups)s", "revoked the roles of groups %(groups)s", len(groups))
            % {"groups": listed(groups)}
            if groups
            else "",
        ],
    )


@describes("project.settings", family=PROJECTS, label=gettext_lazy("Project settings changed"))
def _settings(event: AuditEvent) -> str:
    labels = {field: _(label) for field, label in PROJECT_SETTING_LABELS.items()}
    return _("Changed the project settings: %(changes)s") % {
        "changes": changes_text(details_of(event)["changed"], labels)
    }


@describes("project.cross_access_grant", family=PROJECTS, label=gettext_lazy("Cross-project access authorised"))
def _cross_access_granted(event: AuditEvent) -> str:
    return _("Let the members of project %(from)s reach this project") % {"from": details_of(event)["from"]}


@describes("project.cross_access_revoke", family=PROJECTS, label=gettext_lazy("Cross-project access revoked"))
def _cross_access_revoked(event: AuditEvent) -> str:
    return _("Stopped the members of project %(from)s reaching this project") % {"from": details_of(event)["from"]}


@describes("project.member_add", family=MEMBERS, label=gettext_lazy("Member added"))
def _member_added(event: AuditEvent) -> str:
    facts = details_of(event)
    roles = facts.get("roles") or []
    if roles:
        return _("Added to project %(project)s as %(roles)s") % {
            "project": facts["project"],
            "roles": roles_text(roles),
        }
    return _("Added to project %(project)s without roles") % {"project": facts["project"]}


@describes("project.role_grant", family=MEMBERS, label=gettext_lazy("Roles granted"))
def _roles_granted(event: AuditEvent) -> str:
    facts = details_of(event)
    return _("Granted %(roles)s in project %(project)s") % {
        "roles": roles_text(facts["roles"]),
        "project": facts["project"],
    }


@describes("project.role_revoke", family=MEMBERS, label=gettext_lazy("Roles revoked"))
def _roles_revoked(event: AuditEvent) -> str:
    facts = details_of(event)
    return _("Revoked %(roles)s in project %(project)s") % {
        "roles": roles_text(facts["roles"]),
        "project": facts["project"],
    }


@describes("project.member_remove", family=MEMBERS, label=gettext_lazy("Member removed"))
def _member_removed(event: AuditEvent) -> str:
    return _("Removed from project %(project)s") % {"project": details_of(event)["project"]}


@describes("project.group_role_grant", family=MEMBERS, label=gettext_lazy("Roles granted to a group"))
def _group_roles_granted(event: AuditEvent) -> str:
    facts = details_of(event)
    return _("Granted %(roles)s in project %(project)s to every member") % {
        "roles": roles_text(facts["roles"]),
        "project": facts["project"],
    }


@describes("project.group_role_revoke", family=MEMBERS, label=gettext_lazy("Roles revoked from a group"))
def _group_roles_revoked(event: AuditEvent) -> str:
    facts = details_of(event)
    return _("Revoked %(roles)s in project %(project)s from every member") % {
        "roles": roles_text(facts["roles"]),
        "project": facts["project"],
    }


@describes("project.member_remove_all", family=MEMBERS, label=gettext_lazy("Removed from every project"))
def _removed_everywhere(event: AuditEvent) -> str:
    # (Each item is "project: roles" as stored, in the words of the day it was written.)
    removed = details_of(event).get("removed") or []
    return joined(_("Removed from every project before deletion"), removed)


IMPORTS = gettext_lazy("Imports")


@describes("user_import.start", family=IMPORTS, label=gettext_lazy("Import started"))
def _import_started(event: AuditEvent) -> str:
    facts = details_of(event)
    return _("Started importing %(rows)s users from %(file)s") % {
        "rows": facts.get("rows", "?"),
        "file": facts["file"] if "file" in facts else _("a file"),
    }


@describes("user_import.finish", family=IMPORTS, label=gettext_lazy("Import finished"))
def _import_finished(event: AuditEvent) -> str:
    facts = details_of(event)
    return _("Finished an import: %(created)s users created, %(failed)s rows failed") % {
        "created": facts.get("created", 0),
        "failed": facts.get("failed", 0),
    }
