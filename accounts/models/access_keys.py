"""AccessKeys: IDs with secrets sealed at rest, and the lookup every signed request starts with."""

from datetime import UTC, datetime

from django.db import models
from django.utils.translation import pgettext_lazy

from accounts.models.identities import PrimaryAccount, RamUser, User
from portal.models import SeenNonce
from portal.rows import (
    Columns,
    Table,
    adapt_datetime,
    cache_relation,
    fetch_instances_and_rest,
    instance_of,
    optional_instance_of,
    statement,
)


class AccessKeyQuerySet(models.QuerySet["AccessKey"]):
    def of_user(self, user: User) -> "AccessKeyQuerySet":
        return self.filter(user=user).order_by("created_at", "pk")


def _key_columns(columns: Columns) -> str:
    return (
        f"{columns(AccessKey, 'k')}, {columns(User, 'u')},"
        f" {columns(PrimaryAccount, 'o')}, {columns(RamUser, 'r')}, {columns(PrimaryAccount, 'a')}"
    )


def _key_tables(table: Table) -> str:
    return (
        f" FROM {table(AccessKey)} k JOIN {table(User)} u ON u.id = k.user_id"
        f" LEFT JOIN {table(PrimaryAccount)} o ON o.owner_id = u.id"
        f" LEFT JOIN {table(RamUser)} r ON r.user_id = u.id"
        f" LEFT JOIN {table(PrimaryAccount)} a ON a.id = r.account_id"
        " WHERE k.access_key_id = %s"
    )


def _recent_calls(table: Table) -> str:
    # The key's calls since a moment, counted up to a limit (no more rows read than the limit needs; LIMIT 0: none).
    return (
        f"(SELECT count(*) FROM (SELECT 1 FROM {table(SeenNonce)} WHERE access_key_id = %s AND seen_at > %s"  # noqa: S608 - names from the models' metadata; values are parameters
        " LIMIT %s) recent)"
    )


@statement
def _access_key_by_id(columns: Columns, table: Table) -> str:
    return f"SELECT {_key_columns(columns)}, {_recent_calls(table)}{_key_tables(table)}"


@statement
def _access_key_by_id_noting_nonce(columns: Columns, table: Table) -> str:
    # PostgreSQL (a data-modifying WITH): the same lookup, and the request's nonce stored in the same statement when
    # the key is there and active, its commit not waiting for the disk (portal.signing explains both). The count of
    # recent calls does not see the nonce stored here (one statement, one snapshot): it counts the calls before.
    return (
        f"WITH noted AS (INSERT INTO {table(SeenNonce)} (access_key_id, nonce, seen_at)"  # noqa: S608 - as above
        f" SELECT access_key_id, %s, %s FROM {table(AccessKey)} WHERE access_key_id = %s AND status = %s"
        " AND set_config('synchronous_commit', 'off', true) IS NOT NULL ON CONFLICT DO NOTHING RETURNING 1)"
        f" SELECT {_key_columns(columns)}, {_recent_calls(table)}, EXISTS (SELECT FROM noted){_key_tables(table)}"
    )


def _key_with_holder(found: "list[models.Model | None]", recent_calls: int) -> "AccessKey":
    access_key, user = instance_of(AccessKey, found[0]), instance_of(User, found[1])
    access_key.recent_calls = recent_calls
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


_AccessKeyManagerBase = models.Manager.from_queryset(AccessKeyQuerySet)


class AccessKeyManager(_AccessKeyManagerBase["AccessKey"]):
    def for_signature(
        self, access_key_id: str, *, calls_since: datetime | None = None, calls_limit: int = 0
    ) -> "AccessKey | None":
        """The key with its holder and the holder's account (as owner or as RAM user), in one statement:
        every signed request starts here (plain SQL, see portal.rows). With `calls_limit`, the key's `recent_calls`:
        its calls (the nonces of its signed requests) after `calls_since`, counted up to `calls_limit`."""
        found = fetch_instances_and_rest(
            _access_key_by_id(),
            [access_key_id, adapt_datetime(calls_since or _EPOCH), calls_limit, access_key_id],
            *_models(),
        )
        if found is None:
            return None
        instances, (recent_calls,) = found
        return _key_with_holder(instances, recent_calls)

    def for_signature_noting_nonce(
        self, access_key_id: str, nonce: str, seen_at: datetime, *, calls_since: datetime, calls_limit: int
    ) -> "tuple[AccessKey | None, bool]":
        """PostgreSQL: as `for_signature`, and in the same statement the request's nonce stored if the key is there
        and active; whether the nonce was new (False: seen already, or the key missing or disabled)."""
        found = fetch_instances_and_rest(
            _access_key_by_id_noting_nonce(),
            [
                nonce,
                adapt_datetime(seen_at),
                access_key_id,
                AccessKey.Status.ACTIVE.value,
                access_key_id,
                adapt_datetime(calls_since),
                calls_limit,
                access_key_id,
            ],
            *_models(),
        )
        if found is None:
            return None, False
        instances, (recent_calls, noted) = found
        return _key_with_holder(instances, recent_calls), bool(noted)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _models() -> "tuple[type[models.Model], ...]":
    """What the key's statements return, in their columns' order: the key, its holder, the holder's own account,
    RAM user and that user's account."""
    return (AccessKey, User, PrimaryAccount, RamUser, PrimaryAccount)


class AccessKey(models.Model):
    """An (ID, secret) pair that signs API requests; the secret is sealed with the keyring, never stored in clear."""

    class Status(models.TextChoices):
        ACTIVE = "Active", pgettext_lazy("access key status", "Active")
        INACTIVE = "Inactive", pgettext_lazy("access key status", "Inactive")

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

    # Set by the signed-request lookups (AccessKeyManager.for_signature): the key's calls in the rate limit's
    # window, counted up to the limit.
    recent_calls: int = 0

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
