"""Who is who: primary accounts, sign-in identities, RAM users, their policies, and held enterprise aliases."""

import re
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac

from accounts.policies import SYSTEM_POLICY_CHOICES
from portal.rows import Columns, Table, cache_relation, fetch_instances, instance_of, statement

USER_NAME_RE = r"^[A-Za-z0-9._-]{1,64}$"


class PrimaryAccountQuerySet(models.QuerySet["PrimaryAccount"]):
    def by_logon_domain(self, domain: str) -> "PrimaryAccount | None":
        """The account whose default domain or current alias is `domain` (any case), else None."""
        domain = (domain or "").lower()
        suffix = f".{settings.PORTAL_DOMAIN_SUFFIX.lower()}"
        if not domain.endswith(suffix):
            return None
        label = domain.removesuffix(suffix)
        lookup = models.Q(account_id=label) if label.isdigit() and len(label) == 16 else models.Q(alias__iexact=label)
        return self.filter(lookup).select_related("security_settings", "password_policy").first()


class PrimaryAccount(models.Model):
    """The tenant: every other object belongs to exactly one primary account."""

    account_id = models.CharField(max_length=16, unique=True, validators=[RegexValidator(r"^\d{16}$")])
    name = models.CharField(max_length=128)
    owner = models.OneToOneField("accounts.User", on_delete=models.PROTECT, related_name="owned_account")
    # NULL, not "", when unset: the unique constraint must allow many accounts without an alias.
    alias = models.CharField(max_length=50, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PrimaryAccountQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("alias"), name="unique_enterprise_alias_ignoring_case"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"

    @property
    def default_domain(self) -> str:
        return f"{self.account_id}.{settings.PORTAL_DOMAIN_SUFFIX}"

    @property
    def alias_domain(self) -> str | None:
        return f"{self.alias}.{settings.PORTAL_DOMAIN_SUFFIX}" if self.alias else None

    @property
    def logon_domain(self) -> str:
        """The domain RAM users are told to use: the alias when there is one."""
        return self.alias_domain or self.default_domain

    @property
    def logon_link(self) -> str:
        return f"{settings.PORTAL_BASE_URL}/signin/{self.logon_domain}/"

    @property
    def principal(self) -> str:
        return f"ALIYUN${self.account_id}"


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, email: str | None) -> "User":
        return self.get(email=(email or "").lower())


# django-otp ships no types, so the plugin cannot see its devices' reverse managers (backupcodedevice_set).
class User(AbstractBaseUser):  # type: ignore[django-manager-missing]
    """A sign-in identity: the owner of a primary account (by email) or a RAM user (via `ram_user`)."""

    email = models.EmailField(unique=True, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Bumped to end every session of this user (logon disabled, password changed, sign-out everywhere).
    session_generation = models.PositiveIntegerField(default=0)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The person's language (settings.LANGUAGES) for pages, emails and delivery packets; empty: not chosen (their
    # browser's then, and English for what is sent to them).
    language = models.CharField(max_length=16, blank=True, default="", choices=settings.LANGUAGES)

    USERNAME_FIELD = "email"
    objects = UserManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="unique_owner_email_ignoring_case")]

    def __str__(self) -> str:
        return self.email or f"user {self.pk}"

    def get_session_auth_hash(self) -> str:
        # The password hash alone would keep sessions alive when console logon is disabled without a
        # password change; the generation counter ends them too.
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_generation}",
            secret=settings.SECRET_KEY,
            algorithm="sha256",
        ).hexdigest()

    def get_username(self) -> str:
        return self.display

    @property
    def is_owner(self) -> bool:
        return hasattr(self, "owned_account")

    @property
    def account(self) -> PrimaryAccount:
        return self.owned_account if self.is_owner else self.ram_user.account

    @property
    def principal(self) -> str:
        return self.owned_account.principal if self.is_owner else self.ram_user.principal

    @property
    def display(self) -> str:
        if self.is_owner:
            assert self.email is not None, "an owner signs in by email (accounts.services.primary_accounts)"
            return self.email
        return self.ram_user.logon_name


class ByCodePoint(models.Func):
    """A text expression compared code point by code point (PostgreSQL's "C" collation, SQLite's BINARY), whatever
    the database's own collation: a prefix is then a range that a B-tree index answers (see RamUserQuerySet.search)."""

    template = '%(expressions)s COLLATE "C"'
    output_field = models.CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, template="%(expressions)s COLLATE BINARY", **extra_context)


# Above every character: `prefix + PAST_EVERY_CHARACTER` bounds the strings that start with `prefix`.
PAST_EVERY_CHARACTER = "\U0010ffff"


class RamUserQuerySet(models.QuerySet["RamUser"]):
    def for_account(self, account: PrimaryAccount) -> "RamUserQuerySet":
        return self.filter(account=account)

    def search(self, text: str) -> "RamUserQuerySet":
        """Users whose user name, display name or email starts with `text` (any case): index range scans, as fast
        at 100,000 users as at 100, where a match anywhere in the text would read every row."""
        text = text.strip()
        if not text:
            return self
        # PostgreSQL lowers every letter; SQLite's LOWER() only ASCII ones ("É" stays): both forms of the prefix are
        # looked for, so that "émile" and "Émile" find "Émile" on either.
        prefixes = {text.lower(), "".join(c.lower() if c.isascii() else c for c in text)}
        matches = models.Q()
        for field in SEARCHED_FIELDS:
            for prefix in prefixes:
                matches |= models.Q(**{f"{field}_key__gte": prefix, f"{field}_key__lt": prefix + PAST_EVERY_CHARACTER})
        keys = {f"{field}_key": ByCodePoint(Lower(field)) for field in SEARCHED_FIELDS}
        return self.alias(**keys).filter(matches)


SEARCHED_FIELDS = ("name", "display_name", "email")


@statement
def _ram_user_by_name(columns: Columns, table: Table) -> str:
    # The expression of the unique constraint in the WHERE clause, so that its index answers.
    return (
        f"SELECT {columns(RamUser, 'r')}, {columns(User, 'u')} FROM {table(RamUser)} r"  # noqa: S608 - names from the models' metadata; values are parameters
        f" JOIN {table(User)} u ON u.id = r.user_id WHERE r.account_id = %s AND LOWER(r.name) = %s"
    )


_RamUserManagerBase = models.Manager.from_queryset(RamUserQuerySet)


class RamUserManager(_RamUserManagerBase["RamUser"]):
    def named(self, *, account: PrimaryAccount, name: str) -> "RamUser | None":
        """The account's RAM user of this name (any case) with its identity, in one statement: every API
        action that names a user starts here (plain SQL, see portal.rows)."""
        if not re.fullmatch(USER_NAME_RE, name):
            # No such name can exist, and only ASCII names may reach LOWER(): Python's lower() and the
            # database's differ beyond it (the Kelvin sign lowers to "k" in Python).
            return None
        found = fetch_instances(_ram_user_by_name(), [account.pk, name.lower()], RamUser, User)
        if found is None:
            return None
        ram_user, user = instance_of(RamUser, found[0]), instance_of(User, found[1])
        cache_relation(ram_user, "account", account)
        cache_relation(ram_user, "user", user)
        cache_relation(user, "ram_user", ram_user)
        cache_relation(user, "owned_account", None)
        return ram_user


class RamUser(models.Model):
    """A person or program under one primary account; signs in through its `user` identity."""

    account = models.ForeignKey(PrimaryAccount, on_delete=models.PROTECT, related_name="ram_users")
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="ram_user")
    name = models.CharField(max_length=64, validators=[RegexValidator(USER_NAME_RE)])
    display_name = models.CharField(max_length=128)
    email = models.EmailField(blank=True)
    mobile_phone = models.CharField(max_length=32, blank=True)
    comments = models.CharField(max_length=128, blank=True)
    is_console_logon_enabled = models.BooleanField(default=False)
    must_reset_password = models.BooleanField(default=False)
    must_bind_mfa = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RamUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="unique_ram_user_name_per_account_ignoring_case"),
        ]
        indexes = [
            models.Index(fields=["account", "name"], name="ram_user_account_name"),
            # The search's three prefixes (RamUserQuerySet.search).
            *(
                models.Index(models.F("account"), ByCodePoint(Lower(field)), name=f"ram_user_{field}_prefix")
                for field in SEARCHED_FIELDS
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.logon_name

    @property
    def logon_name(self) -> str:
        return f"{self.name}@{self.account.logon_domain}"

    @property
    def principal(self) -> str:
        return f"RAM${self.account.account_id}:{self.name}"


class PolicyAttachment(models.Model):
    ram_user = models.ForeignKey(RamUser, on_delete=models.CASCADE, related_name="policy_attachments")
    policy_name = models.CharField(max_length=64, choices=SYSTEM_POLICY_CHOICES)
    attached_by = models.CharField(max_length=200)
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ram_user", "policy_name"], name="unique_policy_per_ram_user"),
        ]
        # The Users table's policy filter starts from the few holders of a policy, not from every user.
        indexes = [models.Index(fields=["policy_name", "ram_user"], name="policy_holders")]
        ordering = ["policy_name"]

    def __str__(self) -> str:
        return f"{self.policy_name} → {self.ram_user_id}"


class AliasHold(models.Model):
    """A released enterprise alias, held so that nobody else can take it and catch its users' sign-ins."""

    alias = models.CharField(max_length=50)
    account = models.ForeignKey(PrimaryAccount, on_delete=models.CASCADE, related_name="alias_holds")
    released_at = models.DateTimeField()
    held_until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("alias"), name="unique_alias_hold_ignoring_case")]

    def __str__(self) -> str:
        return f"{self.alias} held until {self.held_until:%Y-%m-%d}"
