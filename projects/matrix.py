"""The permission matrix of seed 002 ("Permissions of Alibaba Cloud accounts and RAM users in MaxCompute and
DataWorks"), as data: one row per operation and channel. `projects.permissions.check_permission` is the only
reader that decides; the Permissions page renders these rows; nothing else hard-codes who may do what.

Channels: `console` is the seed's "DataWorks" (and the other web consoles of the table); `api` is "MaxCompute
CLI and MaxCompute Studio" (signed requests). An operation with no row for a channel is not offered there.
"""

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    CONSOLE = "console"
    API = "api"


class Role(StrEnum):
    ADMIN = "role_project_admin"
    DEV = "role_project_dev"
    PE = "role_project_pe"
    DEPLOY = "role_project_deploy"
    GUEST = "role_project_guest"
    SECURITY = "role_project_security"


ROLE_LABELS = {
    Role.ADMIN: "Project administrator",
    Role.DEV: "Developer",
    Role.PE: "O&M",
    Role.DEPLOY: "Deployment",
    Role.GUEST: "Guest",
    Role.SECURITY: "Security administrator",
}
ALL_ROLES = frozenset(Role)
ADMIN = frozenset({Role.ADMIN})
ADMIN_DEV = frozenset({Role.ADMIN, Role.DEV})
ADMIN_DEV_PE_DEPLOY = frozenset({Role.ADMIN, Role.DEV, Role.PE, Role.DEPLOY})
NOBODY: frozenset[Role] = frozenset()


class Dependency(StrEnum):
    NONE = ""
    ACCESS_KEY = "The AccessKey pair is enabled for the Alibaba Cloud account."
    OWNER_AUTHORIZES = "The Alibaba Cloud account authorizes this operation."
    TICKET = "Submit a ticket to apply for the Python UDF function."


@dataclass(frozen=True)
class MatrixRow:
    operation: str  # a stable key, used in code and URLs
    category: str  # the seed's first column
    description: str  # the seed's operation text
    channel: Channel
    channel_label: str  # as the seed names where it is operated
    owner: bool  # "Supported" for the Alibaba Cloud account (as project owner)
    ram_roles: frozenset[Role]  # the RAM user roles that may; empty means "Not supported"
    ram_roles_label: str  # as the seed words them
    dependency: Dependency = Dependency.NONE

    @property
    def is_supported(self) -> bool:
        return self.owner or bool(self.ram_roles)


DW = "DataWorks"
CLI = "MaxCompute CLI and MaxCompute Studio"
BOTH = "DataWorks, MaxCompute CLI, and MaxCompute Studio"


def _rows(  # noqa: PLR0917 - the seed table's columns, in order
    operation: str,
    category: str,
    description: str,
    where: str,
    owner: bool,
    roles: frozenset[Role],
    roles_label: str,
    dependency: Dependency = Dependency.NONE,
) -> list[MatrixRow]:
    """The seed's one line, as one row per channel it names."""
    channels: dict[str, list[tuple[Channel, str]]] = {
        DW: [(Channel.CONSOLE, DW)],
        CLI: [(Channel.API, CLI)],
        BOTH: [(Channel.CONSOLE, DW), (Channel.API, CLI)],
    }
    if where not in channels:  # the sales and billing consoles
        channels[where] = [(Channel.CONSOLE, where)]
    return [
        MatrixRow(operation, category, description, channel, label, owner, roles, roles_label, dependency)
        for channel, label in channels[where]
    ]


_N = "Not supported"
MATRIX: tuple[MatrixRow, ...] = tuple(
    row
    for rows in (
        _rows(
            "project_create_delete",
            "Project management",
            "Project creation and deletion",
            DW,
            True,
            ADMIN,
            "Project administrator",
            Dependency.ACCESS_KEY,
        ),
        _rows("project_create_delete", "Project management", "Project creation and deletion", CLI, False, NOBODY, _N),
        _rows(
            "cross_project_access",
            "Project management",
            "Cross-project access",
            BOTH,
            True,
            ALL_ROLES,
            "All roles",
            Dependency.OWNER_AUTHORIZES,
        ),
        _rows("project_update", "Project management", "Project update", BOTH, False, NOBODY, _N),
        _rows(
            "ip_whitelist",
            "Project management",
            "Configuration of an IP address whitelist",
            BOTH,
            True,
            NOBODY,
            _N,
            Dependency.ACCESS_KEY,
        ),
        _rows(
            "full_table_scan", "Project management", "Full table scan", BOTH, True, NOBODY, _N, Dependency.ACCESS_KEY
        ),
        _rows(
            "data_protection", "Project management", "Data protection", BOTH, True, NOBODY, _N, Dependency.ACCESS_KEY
        ),
        _rows(
            "member_management",
            "Project management",
            "Addition and authorization of project members",
            DW,
            True,
            ADMIN,
            "Project administrator",
            Dependency.ACCESS_KEY,
        ),
        _rows(
            "member_management",
            "Project management",
            "Addition and authorization of project members",
            CLI,
            False,
            NOBODY,
            _N,
        ),
        _rows(
            "data_source_edit",
            "Data integration",
            "Data source creation and modification",
            DW,
            True,
            ADMIN,
            "Project administrator",
        ),
        _rows(
            "sync_task_edit",
            "Data integration",
            "Creation and modification of synchronization tasks",
            DW,
            True,
            ADMIN_DEV,
            "Project administrator and developer",
        ),
        _rows(
            "sync_task_release",
            "Data integration",
            "Release of synchronization tasks",
            DW,
            True,
            ADMIN_DEV_PE_DEPLOY,
            "Project administrator, developer, O&M and deployment personnel",
        ),
        _rows("quota_change", "MaxCompute Management", "Quota change", DW, True, NOBODY, _N, Dependency.ACCESS_KEY),
        _rows("access_monitoring", "MaxCompute Management", "Access and monitoring", DW, True, ALL_ROLES, "All roles"),
        _rows("ram_user_authorization", "MaxCompute Management", "RAM user authorization", DW, False, NOBODY, _N),
        _rows(
            "code_view", "Code development", "Viewing of the code list and content", DW, True, ALL_ROLES, "All roles"
        ),
        _rows(
            "code_edit_run",
            "Code development",
            "Code building, deletion, update, or running",
            DW,
            True,
            ADMIN_DEV,
            "Project administrator and developer",
        ),
        _rows(
            "java_udf",
            "Code development",
            "Java UDF",
            BOTH,
            True,
            ADMIN_DEV_PE_DEPLOY,
            "Project administrator, developer, O&M and deployment personnel",
        ),
        _rows(
            "python_udf",
            "Code development",
            "Python UDF",
            BOTH,
            True,
            ADMIN_DEV_PE_DEPLOY,
            "Project administrator, developer, O&M and deployment personnel",
            Dependency.TICKET,
        ),
        _rows(
            "scheduling_tasks",
            "Operation Center",
            "Viewing and management of scheduling tasks",
            DW,
            True,
            ADMIN_DEV_PE_DEPLOY,
            "Project administrator, developer, O&M and deployment personnel",
        ),
        _rows(
            "table_create",
            "Data management",
            "Table creation",
            BOTH,
            True,
            ADMIN_DEV,
            "Project administrator and developer",
        ),
        _rows(
            "table_update",
            "Data management",
            "Table update",
            BOTH,
            True,
            ADMIN_DEV_PE_DEPLOY,
            "Project administrator, developer, O&M and deployment personnel",
        ),
        _rows(
            "table_delete",
            "Data management",
            "Table deletion",
            BOTH,
            True,
            ADMIN_DEV,
            "Project administrator and developer",
        ),
        _rows(
            "table_acl",
            "Data management",
            "Authorization of access to a single table (by configuring the ACL)",
            BOTH,
            True,
            ADMIN_DEV,
            "Project administrator and developer",
        ),
        _rows(
            "metadata_preview",
            "Data management",
            "Metadata preview by using the table query function",
            BOTH,
            True,
            ALL_ROLES,
            "All roles",
        ),
        _rows(
            "cross_project_preview",
            "Data management",
            "Cross-project table preview by using the table query function",
            BOTH,
            True,
            ALL_ROLES,
            "All",
            Dependency.OWNER_AUTHORIZES,
        ),
        _rows(
            "resource_view", "Resource management", "Viewing of the resource list", BOTH, True, ALL_ROLES, "All roles"
        ),
        _rows(
            "resource_create_delete",
            "Resource management",
            "Resource creation and deletion",
            BOTH,
            True,
            ADMIN_DEV,
            "Project administrator and developer",
        ),
        _rows(
            "resource_upload",
            "Resource management",
            "Uploading of JAR, TEXT, or ARCHIVE resources",
            BOTH,
            True,
            ADMIN_DEV,
            "Project administrator and developer",
        ),
        _rows(
            "workflow_view",
            "Workflow development",
            "Viewing of the workflow list and content",
            DW,
            True,
            ALL_ROLES,
            "All roles",
        ),
        _rows(
            "workflow_edit",
            "Workflow development",
            "Workflow creation, deletion, and update",
            DW,
            True,
            ADMIN_DEV,
            "Project administrator and developer",
        ),
        _rows(
            "folder_edit",
            "Workflow development",
            "Folder creation, deletion, and update",
            DW,
            True,
            ADMIN_DEV,
            "Project administrator and developer",
        ),
        _rows(
            "function_view",
            "Function development",
            "Viewing of the function list and details",
            BOTH,
            True,
            ALL_ROLES,
            "All roles",
        ),
        _rows(
            "function_create_delete",
            "Function development",
            "Function creation and deletion",
            BOTH,
            True,
            ADMIN_DEV,
            "Project administrator and developer",
        ),
        _rows(
            "purchase",
            "Sales",
            "Purchase, recharge, renewal, upgrade, and downgrade",
            "DTplus console and MaxCompute buy page",
            True,
            NOBODY,
            _N,
        ),
        _rows(
            "billing_view",
            "Sales",
            "Viewing of bills, billing details, and usage records",
            "Billing Management of the Alibaba Cloud console",
            True,
            NOBODY,
            _N,
        ),
    )
    for row in rows
)

OPERATIONS: dict[str, str] = {row.operation: row.description for row in MATRIX}
MATRIX_INDEX: dict[tuple[str, Channel], MatrixRow] = {(row.operation, row.channel): row for row in MATRIX}
