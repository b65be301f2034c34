"""The system policies the portal understands, as data."""

from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop


@dataclass(frozen=True)
class SystemPolicy:
    name: str
    english_description: str  # as the API answers it (in English, as RAM's)
    can_read_ram: bool = False
    can_write_ram: bool = False
    can_create_projects: bool = False

    @property
    def description(self) -> str:
        """What the policy allows, in the language of the page being answered (English in the API, which answers in
        English)."""
        return gettext(self.english_description)


SYSTEM_POLICIES = (
    SystemPolicy(
        "AdministratorAccess",
        gettext_noop("Everything a RAM user can be given: administer RAM users and create projects."),
        can_read_ram=True,
        can_write_ram=True,
        can_create_projects=True,
    ),
    SystemPolicy(
        "AliyunRAMFullAccess",
        gettext_noop("Administer RAM users, their logon, AccessKeys and delivery packets."),
        can_read_ram=True,
        can_write_ram=True,
    ),
    SystemPolicy("AliyunRAMReadOnlyAccess", gettext_noop("View RAM users and their settings."), can_read_ram=True),
    SystemPolicy(
        "AliyunDataWorksFullAccess",
        gettext_noop("Create projects and administer the projects one creates."),
        can_create_projects=True,
    ),
)
SYSTEM_POLICIES_BY_NAME = {policy.name: policy for policy in SYSTEM_POLICIES}
SYSTEM_POLICY_CHOICES = [(policy.name, policy.name) for policy in SYSTEM_POLICIES]
