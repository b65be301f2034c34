"""The system policies the portal understands, as data."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SystemPolicy:
    name: str
    description: str
    can_read_ram: bool = False
    can_write_ram: bool = False
    can_create_projects: bool = False


SYSTEM_POLICIES = (
    SystemPolicy(
        "AdministratorAccess",
        "Everything a RAM user can be given: administer RAM users and create projects.",
        can_read_ram=True,
        can_write_ram=True,
        can_create_projects=True,
    ),
    SystemPolicy(
        "AliyunRAMFullAccess",
        "Administer RAM users, their logon, AccessKeys and delivery packets.",
        can_read_ram=True,
        can_write_ram=True,
    ),
    SystemPolicy("AliyunRAMReadOnlyAccess", "View RAM users and their settings.", can_read_ram=True),
    SystemPolicy(
        "AliyunDataWorksFullAccess",
        "Create projects and administer the projects one creates.",
        can_create_projects=True,
    ),
)
SYSTEM_POLICIES_BY_NAME = {policy.name: policy for policy in SYSTEM_POLICIES}
SYSTEM_POLICY_CHOICES = [(policy.name, policy.name) for policy in SYSTEM_POLICIES]
