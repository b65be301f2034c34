"""AccessKeys: IDs with secrets sealed at rest, and the lookup every signed request starts with."""

from django.db import models

from accounts.models.identities import PrimaryAccount, RamUser, User
from portal.rows import Columns, Table, cache_relation, fetch_instances, instance_of, optional_instance_of, statement


class AccessKeyQuerySet(models.QuerySet["AccessKey"]):
    def of_user(self, user: User) -> "AccessKeyQuerySet":
        return self.filter(user=user).order_by("created_at", "pk")


@statement
def _access_key_by_id(columns: Columns, table: Table) -> str:
    return (
        f"SELECT {columns(AccessKey, 'k')}, {columns(User, 'u')},"  # noqa: S608 - names from the models' metadata; values are parameters
        f" {columns(PrimaryAccount, 'o')}, {columns(RamUser, 'r')}, {columns(PrimaryAccount, 'a')}"
        f" FROM {table(AccessKey)} k JOIN {table(User)} u ON u.id = k.user_id"
        f" LEFT JOIN {table(PrimaryAccount)} o ON o.owner_id = u.id"
        f" LEFT JOIN {table(RamUser)} r ON r.user_id = u.id"
        f" LEFT JOIN {table(PrimaryAccount)} a ON a.id = r.account_id"
        " WHERE k.access_key_id = %s"
    )


_AccessKeyManagerBase = models.Manager.from_queryset(AccessKeyQuerySet)


class AccessKeyManager(_AccessKeyManagerBase["AccessKey"]):
    def for_signature(self, access_key_id: str) -> "AccessKey | None":
        """The key with its holder and the holder's account (as owner or as RAM user), in one statement:
        every signed request starts here (plain SQL, see portal.rows)."""
        found = fetch_instances(
            _access_key_by_id(), [access_key_id], AccessKey, User, PrimaryAccount, RamUser, PrimaryAccount
        )
        if found is None:
            return None
        access_key, user = instance_of(AccessKey, found[0]), instance_of(User, found[1])
        owned_account, ram_user = (
            optional_instance_of(PrimaryAccount, found[2]),
            optional_instance_of(RamUser, found[3]),
        )
        account = optional_instance_of(PrimaryAccount, found[4])
        cache_relation(access_key, "user", user)
        cache_relation(user, "owned_account", owned_account)
        cache_relation(user, "ram_user", ram_user)
        if owned_account is not None:
            cache_relation(owned_account, "owner", user)
        if ram_user is not None:
            cache_relation(ram_user, "user", user)
            cache_relation(ram_user, "account", account)
        return access_key


class AccessKey(models.Model):
    """An (ID, secret) pair that signs API requests; the secret is sealed with the keyring, never stored in clear."""

    class Status(models.TextChoices):
        ACTIVE = "Active", "Active"
        INACTIVE = "Inactive", "Inactive"

    access_key_id = models.CharField(max_length=24, unique=True)
    # The RAM user's identity, or the owner's for the primary account's own keys. PROTECT: a user who
    # still has keys cannot disappear from under them.
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="access_keys")
    sealed_secret = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_channel = models.CharField(max_length=16, blank=True)
    last_used_service = models.CharField(max_length=64, blank=True)

    SEALED_FIELD = "sealed_secret"  # what rotate_secret_keys re-seals and the start-up check opens

    objects = AccessKeyManager()

    def __str__(self) -> str:
        return f"AccessKey {self.access_key_id}"

    @property
    def associated_data(self) -> str:
        # Binds the sealed secret to its key: copied onto another row, it does not open.
        return self.access_key_id

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
