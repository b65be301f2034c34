"""The permission matrix of seed 002 ("Permissions of Alibaba Cloud accounts and RAM users in MaxCompute and
DataWorks"), as data: one row per operation and channel. `projects.permissions.check_permission` is the only
reader that decides; the Permissions page renders these rows; nothing else hard-codes who may do what.

Channels: `console` is the seed's "DataWorks" (and the other web consoles of the table); `api` is "MaxCompute
CLI and MaxCompute Studio" (signed requests). An operation with no row for a channel is not offered there.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext, gettext_noop, pgettext


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


# The texts of the matrix stay in English here (the MaxCompute endpoint answers with them, and code compares them);
# a page or a sheet shows them in its reader's language through `role_label` and MatrixRow's `shown_…` properties.
ROLE_LABELS = {
    Role.ADMIN: gettext_noop("Project administrator"),
    Role.DEV: gettext_noop("Developer"),
    Role.PE: gettext_noop("O&M"),
    Role.DEPLOY: gettext_noop("Deployment"),
    Role.GUEST: gettext_noop("Guest"),
    Role.SECURITY: gettext_noop("Security administrator"),
}
ALL_ROLES = frozenset(Role)
ADMIN = frozenset({Role.ADMIN})
ADMIN_DEV = frozenset({Role.ADMIN, Role.DEV})
ADMIN_DEV_PE_DEPLOY = frozenset({Role.ADMIN, Role.DEV, Role.PE, Role.DEPLOY})
NOBODY: frozenset[Role] = frozenset()


def role_label(role: str) -> str:
    """What a role is, in the active language: "Developer" for role_project_dev."""
    return gettext(ROLE_LABELS[Role(role)])


def listed(items: Iterable[str]) -> str:
    """Items (role codes, names) as the active language lists them: "a, b" in English, "a、b" in Chinese."""
    return pgettext("between the items of a list", ", ").join(items)


class Dependency(StrEnum):
    NONE = ""
    ACCESS_KEY = gettext_noop("The AccessKey pair is enabled for the Alibaba Cloud account.")
    OWNER_AUTHORIZES = gettext_noop("The Alibaba Cloud account authorizes this operation.")
    TICKET = gettext_noop("Submit a ticket to apply for the Python UDF function.")


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

    # The row's words in the active language, for pages and sheets.
    @property
    def shown_category(self) -> str:
        return gettext(self.category)

    @property
    def shown_description(self) -> str:
        return gettext(self.description)

    @property
    def shown_channel(self) -> str:
        return gettext(self.channel_label)

    @property
    def shown_roles(self) -> str:
        return gettext(self.ram_roles_label)

    @property
    def shown_dependency(self) -> str:
        return gettext(self.dependency.value) if self.dependency else ""


DW = "DataWorks"
CLI = gettext_noop("MaxCompute CLI and MaxCompute Studio")
BOTH = gettext_noop("DataWorks, MaxCompute CLI, and MaxCompute Studio")


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


_N = gettext_noop("Not supported")
# The seed's categories and its words for who may, each written once.
PROJECT_MANAGEMENT = gettext_noop("Project management")
DATA_INTEGRATION = gettext_noop("Data integration")
MAXCOMPUTE_MANAGEMENT = gettext_noop("MaxCompute Management")
CODE_DEVELOPMENT = gettext_noop("Code development")
OPERATION_CENTER = gettext_noop("Operation Center")
DATA_MANAGEMENT = gettext_noop("Data management")
RESOURCE_MANAGEMENT = gettext_noop("Resource management")
WORKFLOW_DEVELOPMENT = gettext_noop("Workflow development")
FUNCTION_DEVELOPMENT = gettext_noop("Function development")
SALES = gettext_noop("Sales")
ADMIN_WORDS = gettext_noop("Project administrator")
ADMIN_DEV_WORDS = gettext_noop("Project administrator and developer")
ADMIN_DEV_PE_DEPLOY_WORDS = gettext_noop("Project administrator, developer, O&M and deployment personnel")
ALL_ROLES_WORDS = gettext_noop("All roles")

MATRIX: tuple[MatrixRow, ...] = tuple(
    row
    for rows in (
        _rows(
            "project_create_delete",
            PROJECT_MANAGEMENT,
            gettext_noop("Project creation and deletion"),
            DW,
            True,
            ADMIN,
            ADMIN_WORDS,
            Dependency.ACCESS_KEY,
        ),
        _rows(
            "project_create_delete",
            PROJECT_MANAGEMENT,
            gettext_noop("Project creation and deletion"),
            CLI,
            False,
            NOBODY,
            _N,
        ),
        _rows(
            "cross_project_access",
            PROJECT_MANAGEMENT,
            gettext_noop("Cross-project access"),
            BOTH,
            True,
            ALL_ROLES,
            ALL_ROLES_WORDS,
            Dependency.OWNER_AUTHORIZES,
        ),
        _rows("project_update", PROJECT_MANAGEMENT, gettext_noop("Project update"), BOTH, False, NOBODY, _N),
        _rows(
            "ip_whitelist",
            PROJECT_MANAGEMENT,
            gettext_noop("Configuration of an IP address whitelist"),
            BOTH,
            True,
            NOBODY,
            _N,
            Dependency.ACCESS_KEY,
        ),
        _rows(
            "full_table_scan",
            PROJECT_MANAGEMENT,
            gettext_noop("Full table scan"),
            BOTH,
            True,
            NOBODY,
            _N,
            Dependency.ACCESS_KEY,
        ),
        _rows(
            "data_protection",
            PROJECT_MANAGEMENT,
            gettext_noop("Data protection"),
            BOTH,
            True,
            NOBODY,
            _N,
            Dependency.ACCESS_KEY,
        ),
        _rows(
            "member_management",
            PROJECT_MANAGEMENT,
            gettext_noop("Addition and authorization of project members"),
            DW,
            True,
            ADMIN,
            ADMIN_WORDS,
            Dependency.ACCESS_KEY,
        ),
        _rows(
            "member_management",
            PROJECT_MANAGEMENT,
            gettext_noop("Addition and authorization of project members"),
            CLI,
            False,
            NOBODY,
            _N,
        ),
        _rows(
            "data_source_edit",
            DATA_INTEGRATION,
            gettext_noop("Data source creation and modification"),
            DW,
            True,
            ADMIN,
            ADMIN_WORDS,
        ),
        _rows(
            "sync_task_edit",
            DATA_INTEGRATION,
            gettext_noop("Creation and modification of synchronization tasks"),
            DW,
            True,
            ADMIN_DEV,
            ADMIN_DEV_WORDS,
        ),
        _rows(
            "sync_task_release",
            DATA_INTEGRATION,
            gettext_noop("Release of synchronization tasks"),
            DW,
            True,
            ADMIN_DEV_PE_DEPLOY,
            ADMIN_DEV_PE_DEPLOY_WORDS,
        ),
        _rows(
            "quota_change",
            MAXCOMPUTE_MANAGEMENT,
            gettext_noop("Quota change"),
            DW,
            True,
            NOBODY,
            _N,
            Dependency.ACCESS_KEY,
        ),
        _rows(
            "access_monitoring",
            MAXCOMPUTE_MANAGEMENT,
            gettext_noop("Access and monitoring"),
            DW,
            True,
            ALL_ROLES,
            ALL_ROLES_WORDS,
        ),
        _rows(
            "ram_user_authorization",
            MAXCOMPUTE_MANAGEMENT,
            gettext_noop("RAM user authorization"),
            DW,
            False,
            NOBODY,
            _N,
        ),
        _rows(
            "code_view",
            CODE_DEVELOPMENT,
            gettext_noop("Viewing of the code list and content"),
            DW,
            True,
            ALL_ROLES,
            ALL_ROLES_WORDS,
        ),
        _rows(
            "code_edit_run",
            CODE_DEVELOPMENT,
            gettext_noop("Code building, deletion, update, or running"),
            DW,
            True,
            ADMIN_DEV,
            ADMIN_DEV_WORDS,
        ),
        _rows(
            "java_udf",
            CODE_DEVELOPMENT,
            "Java UDF",
            BOTH,
            True,
            ADMIN_DEV_PE_DEPLOY,
            ADMIN_DEV_PE_DEPLOY_WORDS,
        ),
        _rows(
            "python_udf",
            CODE_DEVELOPMENT,
            "Python UDF",
            BOTH,
            True,
            ADMIN_DEV_PE_DEPLOY,
            ADMIN_DEV_PE_DEPLOY_WORDS,
            Dependency.TICKET,
        ),
        _rows(
            "scheduling_tasks",
            OPERATION_CENTER,
            gettext_noop("Viewing and management of scheduling tasks"),
            DW,
            True,
            ADMIN_DEV_PE_DEPLOY,
            ADMIN_DEV_PE_DEPLOY_WORDS,
        ),
        _rows(
            "table_create",
            DATA_MANAGEMENT,
            gettext_noop("Table creation"),
            BOTH,
            True,
            ADMIN_DEV,
            ADMIN_DEV_WORDS,
        ),
        _rows(
            "table_update",
            DATA_MANAGEMENT,
            gettext_noop("Table update"),
            BOTH,
            True,
            ADMIN_DEV_PE_DEPLOY,
            ADMIN_DEV_PE_DEPLOY_WORDS,
        ),
        _rows(
            "table_delete",
            DATA_MANAGEMENT,
            gettext_noop("Table deletion"),
            BOTH,
            True,
            ADMIN_DEV,
            ADMIN_DEV_WORDS,
        ),
        _rows(
            "table_acl",
            DATA_MANAGEMENT,
            gettext_noop("Authorization of access to a single table (by configuring the ACL)"),
            BOTH,
            True,
            ADMIN_DEV,
            ADMIN_DEV_WORDS,
        ),
        _rows(
            "metadata_preview",
            DATA_MANAGEMENT,
            gettext_noop("Metadata preview by using the table query function"),
            BOTH,
            True,
            ALL_ROLES,
            ALL_ROLES_WORDS,
        ),
        _rows(
            "cross_project_preview",
            DATA_MANAGEMENT,
            gettext_noop("Cross-project table preview by using the table query function"),
            BOTH,
            True,
            ALL_ROLES,
            gettext_noop("All"),
            Dependency.OWNER_AUTHORIZES,
        ),
        _rows(
            "resource_view",
            RESOURCE_MANAGEMENT,
            gettext_noop("Viewing of the resource list"),
            BOTH,
            True,
            ALL_ROLES,
            ALL_ROLES_WORDS,
        ),
        _rows(
            "resource_create_delete",
            RESOURCE_MANAGEMENT,
            gettext_noop("Resource creation and deletion"),
            BOTH,
            True,
            ADMIN_DEV,
            ADMIN_DEV_WORDS,
        ),
        _rows(
            "resource_upload",
            RESOURCE_MANAGEMENT,
            gettext_noop("Uploading of JAR, TEXT, or ARCHIVE resources"),
            BOTH,
            True,
            ADMIN_DEV,
            ADMIN_DEV_WORDS,
        ),
        _rows(
            "workflow_view",
            WORKFLOW_DEVELOPMENT,
            gettext_noop("Viewing of the workflow list and content"),
            DW,
            True,
            ALL_ROLES,
            ALL_ROLES_WORDS,
        ),
        _rows(
            "workflow_edit",
            WORKFLOW_DEVELOPMENT,
            gettext_noop("Workflow creation, deletion, and update"),
            DW,
            True,
            ADMIN_DEV,
            ADMIN_DEV_WORDS,
        ),
        _rows(
            "folder_edit",
            WORKFLOW_DEVELOPMENT,
            gettext_noop("Folder creation, deletion, and update"),
            DW,
            True,
            ADMIN_DEV,
            ADMIN_DEV_WORDS,
        ),
        _rows(
            "function_view",
            FUNCTION_DEVELOPMENT,
            gettext_noop("Viewing of the function list and details"),
            BOTH,
            True,
            ALL_ROLES,
            ALL_ROLES_WORDS,
        ),
        _rows(
            "function_create_delete",
            FUNCTION_DEVELOPMENT,
            gettext_noop("Function creation and deletion"),
            BOTH,
            True,
            ADMIN_DEV,
            ADMIN_DEV_WORDS,
        ),
        _rows(
            "purchase",
            SALES,
            gettext_noop("Purchase, recharge, renewal, upgrade, and downgrade"),
            gettext_noop("DTplus console and MaxCompute buy page"),
            True,
            NOBODY,
            _N,
        ),
        _rows(
            "billing_view",
            SALES,
            gettext_noop("Viewing of bills, billing details, and usage records"),
            gettext_noop("Billing Management of the Alibaba Cloud console"),
            True,
            NOBODY,
            _N,
        ),
    )
    for row in rows
)

OPERATIONS: dict[str, str] = {row.operation: row.description for row in MATRIX}
MATRIX_INDEX: dict[tuple[str, Channel], MatrixRow] = {(row.operation, row.channel): row for row in MATRIX}
