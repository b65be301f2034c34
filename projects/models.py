import uuid
from typing import Self

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from accounts.models import Group, PrimaryAccount, RamUser, User
from accounts.permissions import can_read_ram
from projects.matrix import Role

PROJECT_NAME_RE = r"^[A-Za-z][A-Za-z0-9_]{2,27}$"


class ProjectQuerySet(models.QuerySet["Project"]):
    def for_account(self, account: PrimaryAccount) -> Self:
        return self.filter(account=account)

    def visible_to(self, user: User) -> Self:
        """The projects `user` may see: all of its account's for the owner and RAM readers, otherwise the ones it is
        a member of or one of its groups holds a role in. Anything else answers like a missing project."""
        projects = self.for_account(user.account)
        if can_read_ram(user):
            return projects
        # Subqueries, not joins: a later Count("members") must still count every member. A project where one of the
        # user's groups holds a role is the user's too.
        return projects.filter(
            Q(pk__in=ProjectMember.objects.filter(ram_user__user=user).values("project"))
            | Q(pk__in=GroupRoleGrant.objects.filter(group__memberships__ram_user__user=user).values("project"))
        )


class Project(models.Model):
    """A MaxCompute project / DataWorks workspace. Its owner is the primary account, for good."""

    account = models.ForeignKey(PrimaryAccount, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=28, validators=[RegexValidator(PROJECT_NAME_RE)])
    description = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)
    # Settings the matrix reserves to the owner.
    ip_whitelist = models.JSONField(default=list, blank=True)
    is_full_table_scan_allowed = models.BooleanField(default=False)
    is_data_protection_on = models.BooleanField(default=False)
    quota = models.CharField(max_length=64, default="Pay-as-you-go")

    objects = ProjectQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), name="unique_project_name_ignoring_case")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProjectMember(models.Model):
    """A RAM user in a project. PROTECT on the RAM user: a member can never be deleted from under a project
    (the seed's "p4_…" orphan cannot arise)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members")
    ram_user = models.ForeignKey(RamUser, on_delete=models.PROTECT, related_name="project_memberships")
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "ram_user"], name="unique_project_member")]

    def __str__(self) -> str:
        # (What deleting its RAM user says it is blocked by: worded in the active language.)
        return gettext("membership of project %(name)s") % {"name": self.project.name}


class RoleGrant(models.Model):
    """A role of a member. PROTECT on the member: a member who still holds roles cannot be removed."""

    member = models.ForeignKey(ProjectMember, on_delete=models.PROTECT, related_name="roles")
    role = models.CharField(max_length=32, choices=[(role.value, role.value) for role in Role])
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "role"], name="unique_role_per_member")]
        ordering = ["role"]

    def __str__(self) -> str:
        return f"{self.role} in {self.member}"


class GroupRoleGrant(models.Model):
    """A role a group holds in a project: every member of the group holds it there (projects.rights). PROTECT on
    both sides: deleting the group or the project revokes these first, in the same transaction, and says so."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="group_roles")
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="project_roles")
    role = models.CharField(max_length=32, choices=[(role.value, role.value) for role in Role])
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "group", "role"], name="unique_role_per_group")]
        indexes = [models.Index(fields=["group", "project"], name="group_role_by_group")]
        ordering = ["role"]

    def __str__(self) -> str:
        return f"{self.role} of group {self.group_id} in project {self.project_id}"


class CrossProjectAccess(models.Model):
    """The owner authorises the members of `source` to reach `target` (cross-project access and preview)."""

    source = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="outgoing_access")
    target = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="incoming_access")
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="unique_cross_project_access"),
            models.CheckConstraint(condition=~models.Q(source=models.F("target")), name="cross_project_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class UserImport(models.Model):
    """A CSV import being committed by the background worker: its rows are kept until they are done (typed passwords
    sealed), so that a worker that stops mid-way is resumed by another and no row is done twice."""

    class State(models.TextChoices):
        CHECKED = "checked", gettext_lazy("Checked")  # previewed, not started: deleted after an hour
        QUEUED = "queued", gettext_lazy("Queued")
        RUNNING = "running", gettext_lazy("Running")
        DONE = "done", pgettext_lazy("import state", "Done")

    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(PrimaryAccount, on_delete=models.CASCADE, related_name="user_imports")
    # The person who started it (None: an operator's command); the worker acts as them.
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="user_imports", null=True, blank=True)
    file_name = models.CharField(max_length=255)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField()
    done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # a running worker's last sign of life
    needs_code = models.BooleanField(default=False)  # a row creates an AccessKey: starting it needs a code

    def __str__(self) -> str:
        return f"import {self.uid} ({self.done}/{self.total})"

    @property
    def is_started(self) -> bool:
        return self.state != self.State.CHECKED


class UserImportRow(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", gettext_lazy("Pending")
        CREATED = "created", pgettext_lazy("import row state", "Created")
        FAILED = "failed", gettext_lazy("Failed")

    job = models.ForeignKey(UserImport, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()
    name = models.CharField(max_length=64)
    data = models.JSONField()  # the row as read, without its password
    sealed_password = models.TextField(blank=True)  # a typed password, sealed; wiped once the row is done
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    error = models.CharField(max_length=500, blank=True)
    ram_user_id = models.BigIntegerField(null=True, blank=True)  # not a foreign key: the report outlives the user
    packet_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "line"], name="unique_import_line")]
        indexes = [models.Index(fields=["job", "state", "line"], name="import_rows_to_do")]

    def __str__(self) -> str:
        return f"line {self.line} of {self.job_id}"

    @property
    def associated_data(self) -> str:
        """What the seal of its typed password is bound to: this row of this import."""
        return self.associated_data_of(self.job_id, self.line)

    @staticmethod
    def associated_data_of(job_id: int, line: int) -> str:
        return f"import:{job_id}:{line}"
