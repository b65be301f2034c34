"""User groups ("Create Group"): grant system policies (and, in the projects app, project roles) once per team. A
member's effective rights are its own and its groups' (accounts.rights)."""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

from accounts.models.identities import PrimaryAccount, RamUser
from accounts.policies import SYSTEM_POLICY_CHOICES

GROUP_NAME_RE = r"^[A-Za-z0-9._-]{1,64}$"  # as RAM's GroupName


class Group(models.Model):
    account = models.ForeignKey(PrimaryAccount, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(max_length=64, validators=[RegexValidator(GROUP_NAME_RE)])
    display_name = models.CharField(max_length=128, blank=True)
    comments = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="unique_group_name_per_account_ignoring_case"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"group {self.name}"


class GroupMembership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    # CASCADE: a member's deletion takes its memberships with it (its group-given rights were never its own rows).
    ram_user = models.ForeignKey(RamUser, on_delete=models.CASCADE, related_name="group_memberships")
    added_by = models.CharField(max_length=200)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "ram_user"], name="unique_group_member")]
        # A user's groups (its effective rights, ListGroupsForUser) from the user's side.
        indexes = [models.Index(fields=["ram_user", "group"], name="group_membership_by_user")]

    def __str__(self) -> str:
        return f"{self.ram_user_id} in {self.group_id}"


class GroupPolicyAttachment(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="policy_attachments")
    policy_name = models.CharField(max_length=64, choices=SYSTEM_POLICY_CHOICES)
    attached_by = models.CharField(max_length=200)
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "policy_name"], name="unique_policy_per_group")]
        indexes = [models.Index(fields=["policy_name", "group"], name="group_policy_holders")]
        ordering = ["policy_name"]

    def __str__(self) -> str:
        return f"{self.policy_name} → group {self.group_id}"
