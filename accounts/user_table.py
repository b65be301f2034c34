"""The Users table: which of an account's RAM users it lists, in which order, with the facts its columns show.

One read for the page, for "select all that match" and for the bulk actions that act on such a selection (in both
apps), so that what an administrator saw filtered is exactly what an action affects.
"""

from dataclasses import dataclass

from django.db.models import (
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Lower
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    AccessKey,
    Authenticator,
    DeliveryPacket,
    Group,
    GroupMembership,
    GroupPolicyAttachment,
    IdentityLock,
    PolicyAttachment,
    PrimaryAccount,
    RamUser,
    SignInLock,
)

# Sort key → the ordering it stands for (a leading "-" in the request reverses it). The user name breaks ties, so
# that paging through a sorted table never shows a row twice or skips one.
SORTS = {
    "name": ("name",),
    "display_name": ("display_name", "name"),
    "console_logon": ("is_console_logon_enabled", "name"),
    "mfa": ("has_mfa", "name"),
    "access_keys": ("access_key_count", "name"),
    "oldest_key": ("oldest_active_key_at", "name"),
    "last_sign_in": ("user__last_login", "name"),
    "created": ("created_at", "name"),
}


@dataclass(frozen=True)
class UserFilters:
    """What the table is narrowed to; None (or empty) leaves a column unfiltered."""

    search: str = ""
    console_logon: bool | None = None
    mfa: bool | None = None
    access_keys: bool | None = None
    policy: str = ""
    project_id: int | None = None
    locked: bool | None = None
    sort: str = "name"
    descending: bool = False


def _identity_of_row(account: PrimaryAccount) -> Concat:
    # As accounts.services.guessing.ram_identity writes it: the account ID, a colon, the name in lower case.
    return Concat(Value(f"{account.account_id}:"), Lower(OuterRef("name")))


def users_table(account: PrimaryAccount, filters: UserFilters) -> QuerySet[RamUser]:
    """The account's RAM users as the table shows them: filtered, sorted, with their columns' facts annotated, in
    a fixed number of queries whatever the number of users or rows."""
    now = timezone.now()
    identity = _identity_of_row(account)
    keys = AccessKey.objects.filter(user_id=OuterRef("user_id"))
    users = (
        RamUser.objects.for_account(account)
        .search(filters.search)
        .select_related("account", "user")
        .annotate(
            has_mfa=Exists(Authenticator.objects.filter(user_id=OuterRef("user_id"), confirmed=True)),
            access_key_count=Coalesce(
                Subquery(keys.order_by().values("user_id").annotate(count=Count("pk")).values("count")), 0
            ),
            oldest_active_key_at=Subquery(
                keys.filter(status=AccessKey.Status.ACTIVE)
                .order_by()
                .values("user_id")
                .annotate(oldest=Min("created_at"))
                .values("oldest")
            ),
            # An invitation not accepted yet: console logon starts when the person chooses a password.
            is_invited=Exists(
                DeliveryPacket.objects.filter(
                    ram_user_id=OuterRef("pk"),
                    is_invitation=True,
                    state__in=(DeliveryPacket.State.SEALED, DeliveryPacket.State.SENT),
                )
            ),
            is_locked=Exists(IdentityLock.objects.filter(identity=identity, locked_until__gt=now))
            | Exists(SignInLock.objects.filter(identity=identity, locked_until__gt=now)),
        )
    )
    narrowing = {
        "is_console_logon_enabled": filters.console_logon,
        "has_mfa": filters.mfa,
        "is_locked": filters.locked,
    }
    users = users.filter(**{field: value for field, value in narrowing.items() if value is not None})
    if filters.access_keys is not None:
        users = users.filter(Q(access_key_count__gt=0) if filters.access_keys else Q(access_key_count=0))
    if filters.policy:
        users = users.filter(_holds_policy(account, filters.policy))
    if filters.project_id is not None:
        users = users.filter(_in_project(account, filters.project_id))
    first, *ties = SORTS.get(filters.sort, SORTS["name"])
    # Reversing a column reverses that column only: its ties stay in name order. Empty values go last either way.
    by = F(first).desc(nulls_last=True) if filters.descending else F(first).asc(nulls_last=True)
    return users.order_by(by, *ties, "pk")


def _holds_policy(account: PrimaryAccount, policy: str) -> Q:
    """Users who hold the policy, themselves or through a group (accounts.rights). Where no group holds it (the usual
    case), the filter starts from the policy's few holders alone, as before groups."""
    by_groups = GroupPolicyAttachment.objects.filter(group__account=account, policy_name=policy)
    if not by_groups.exists():
        return Q(policy_attachments__policy_name=policy)
    return Q(pk__in=PolicyAttachment.objects.filter(policy_name=policy).values("ram_user")) | Q(
        pk__in=GroupMembership.objects.filter(group__in=by_groups.values("group")).values("ram_user")
    )


def _in_project(account: PrimaryAccount, project_id: int) -> Q:
    """Users of the project: its members, and the members of groups that hold a role there (their roles come from
    projects.rights). The related names are the projects app's, which this module does not import."""
    group_roles = Group.objects.filter(account=account, project_roles__project_id=project_id)
    if not group_roles.exists():
        return Q(project_memberships__project_id=project_id)
    return Q(pk__in=RamUser.objects.filter(project_memberships__project_id=project_id).values("pk")) | Q(
        pk__in=GroupMembership.objects.filter(group__in=group_roles.values("pk")).values("ram_user")
    )


def users_table_url(filters: str = "") -> str:
    """The Users table as an administrator left it: its query string (filters, sort), kept by the bulk forms."""
    return reverse("accounts:user-list") + (f"?{filters}" if filters else "")
