import hashlib
import hmac
import re
from datetime import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django_otp.models import Device, DeviceManager, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.policies import SYSTEM_POLICY_CHOICES
from portal.keyring import SEALED_RE, keyring
from portal.rows import cache_relation, fetch_instances, statement

USER_NAME_RE = r"^[A-Za-z0-9._-]{1,64}$"


class PrimaryAccountQuerySet(models.QuerySet):
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

    def __str__(self):
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


class UserManager(BaseUserManager):
    def get_by_natural_key(self, email):
        return self.get(email=email.lower())


class User(AbstractBaseUser):
    """A sign-in identity: the owner of a primary account (by email) or a RAM user (via `ram_user`)."""

    email = models.EmailField(unique=True, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Bumped to end every session of this user (logon disabled, password changed, sign-out everywhere).
    session_generation = models.PositiveIntegerField(default=0)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "email"
    objects = UserManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="unique_owner_email_ignoring_case")]

    def __str__(self):
        return self.email or f"user {self.pk}"

    def get_session_auth_hash(self):
        # The password hash alone would keep sessions alive when console logon is disabled without a
        # password change; the generation counter ends them too.
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_generation}",
            secret=settings.SECRET_KEY,
            algorithm="sha256",
        ).hexdigest()

    def get_username(self):
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
        return self.email if self.is_owner else self.ram_user.logon_name


class RamUserQuerySet(models.QuerySet):
    def for_account(self, account: PrimaryAccount):
        return self.filter(account=account)


@statement
def _ram_user_by_name(columns, table) -> str:
    # The expression of the unique constraint in the WHERE clause, so that its index answers.
    return (
        f"SELECT {columns(RamUser, 'r')}, {columns(User, 'u')} FROM {table(RamUser)} r"  # noqa: S608 - names from the models' metadata; values are parameters
        f" JOIN {table(User)} u ON u.id = r.user_id WHERE r.account_id = %s AND LOWER(r.name) = %s"
    )


class RamUserManager(models.Manager.from_queryset(RamUserQuerySet)):
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
        ram_user, user = found
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
        indexes = [models.Index(fields=["account", "name"], name="ram_user_account_name")]
        ordering = ["name"]

    def __str__(self):
        return self.logon_name

    @property
    def logon_name(self) -> str:
        return f"{self.name}@{self.account.logon_domain}"

    @property
    def principal(self) -> str:
        return f"RAM${self.account.account_id}:{self.name}"


class SecuritySettings(models.Model):
    """What RAM users may manage themselves, how long their sessions last and where they sign in from."""

    account = models.OneToOneField(PrimaryAccount, on_delete=models.CASCADE, related_name="security_settings")
    allow_change_password = models.BooleanField(default=True)
    allow_manage_access_keys = models.BooleanField(default=False)
    allow_manage_mfa = models.BooleanField(default=True)
    remember_mfa_for_7_days = models.BooleanField(default=False)
    session_hours = models.PositiveSmallIntegerField(
        default=6, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    logon_ip_masks = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"security settings of {self.account_id}"


class PasswordPolicy(models.Model):
    """Account-wide password rules for RAM users."""

    account = models.OneToOneField(PrimaryAccount, on_delete=models.CASCADE, related_name="password_policy")
    minimum_length = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(8), MaxValueValidator(32)]
    )
    require_lowercase = models.BooleanField(default=False)
    require_uppercase = models.BooleanField(default=False)
    require_numbers = models.BooleanField(default=False)
    require_symbols = models.BooleanField(default=False)
    max_age_days = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(1095)])
    reuse_prevention = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(24)])
    max_failed_attempts = models.PositiveSmallIntegerField(default=5, validators=[MaxValueValidator(32)])
    hard_expiry = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"password policy of {self.account_id}"


class PasswordHistoryEntry(models.Model):
    """An earlier password hash of a user, kept for the policy's reuse prevention."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"earlier password of {self.user_id}"


class PolicyAttachment(models.Model):
    ram_user = models.ForeignKey(RamUser, on_delete=models.CASCADE, related_name="policy_attachments")
    policy_name = models.CharField(max_length=64, choices=SYSTEM_POLICY_CHOICES)
    attached_by = models.CharField(max_length=200)
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ram_user", "policy_name"], name="unique_policy_per_ram_user"),
        ]
        ordering = ["policy_name"]

    def __str__(self):
        return f"{self.policy_name} → {self.ram_user_id}"


class SignInLock(models.Model):
    """Failed sign-in attempts for one identity from one source address.

    Counting per (identity, source) means an attacker elsewhere cannot lock the real person out.
    The identity is a normalised string, so unknown names are counted exactly like real ones.
    """

    identity = models.CharField(max_length=255)
    source_ip = models.GenericIPAddressField()
    failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["identity", "source_ip"], name="unique_sign_in_lock"),
        ]

    def __str__(self):
        return f"{self.identity} from {self.source_ip}"


class IdentityLock(models.Model):
    """Failed sign-ins of one identity from every source together, where the per-source lock cannot see them:
    an attacker with many addresses (see accounts.services.logon for how this lock is passed)."""

    identity = models.CharField(max_length=255, unique=True)
    failures = models.PositiveIntegerField(default=0)  # consecutive, from browsers not known to the identity
    last_failure_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    code_failures = models.PositiveSmallIntegerField(default=0)  # wrong MFA codes sent past this lock

    def __str__(self):
        return f"{self.identity} from every source"


def authenticator_associated_data(user_id: int) -> str:
    # Binds a sealed seed to its user: copied onto another user's device row, it does not open.
    return f"totp:{user_id}"


class AuthenticatorManager(DeviceManager):
    def create(self, **kwargs):
        # django-otp's default seed is hex in clear, which `bin_key` would refuse to open at the first code.
        if not SEALED_RE.match(kwargs.get("key") or ""):
            raise ValueError("An authenticator's seed must be sealed: create it with services.otp.new_authenticator.")
        return super().create(**kwargs)


class Authenticator(TOTPDevice):
    """A TOTP authenticator whose seed is sealed with the keyring: django-otp's own model keeps it in clear,
    and a copy of the database would then hand out everyone's second factor.

    The `key` column holds the sealed seed (see `accounts.services.otp.new_authenticator`); django-otp reads
    the seed only through `bin_key`, which opens it here. Use this model, never `TOTPDevice`, for these rows.
    """

    SEALED_FIELD = "key"  # what rotate_secret_keys re-seals and the start-up check opens

    objects = AuthenticatorManager()

    class Meta:
        proxy = True

    def __str__(self):
        return f"authenticator {self.pk}"

    @property
    def associated_data(self) -> str:
        return authenticator_associated_data(self.user_id)

    @property
    def bin_key(self) -> bytes:
        return keyring().open_bytes(self.key, associated_data=self.associated_data)

    def hand_to(self, user: User) -> None:
        """Gives the device to another user (not saved), its seed re-sealed for that user."""
        seed = self.bin_key
        self.key = keyring().seal_bytes(seed, associated_data=authenticator_associated_data(user.pk))
        self.user = user


def hash_backup_code(code: str) -> str:
    # Backup codes carry 50 random bits, so a keyed fast hash is enough; what matters is that the
    # database never holds them in clear.
    normalised = code.replace("-", "").replace(" ", "").lower()
    return hmac.new(b"portal-backup-code", normalised.encode(), hashlib.sha256).hexdigest()


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """Ten single-use backup codes, stored only as hashes."""

    def get_throttle_factor(self):
        return 1

    def verify_token(self, token):
        is_allowed, _ = self.verify_is_allowed()
        if not is_allowed:
            return False
        match = self.codes.filter(code_hash=hash_backup_code(str(token))).first()
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)

    def __str__(self):
        return f"backup code of device {self.device_id}"


class AccessKeyQuerySet(models.QuerySet):
    def of_user(self, user: User):
        return self.filter(user=user).order_by("created_at", "pk")


@statement
def _access_key_by_id(columns, table) -> str:
    return (
        f"SELECT {columns(AccessKey, 'k')}, {columns(User, 'u')},"  # noqa: S608 - names from the models' metadata; values are parameters
        f" {columns(PrimaryAccount, 'o')}, {columns(RamUser, 'r')}, {columns(PrimaryAccount, 'a')}"
        f" FROM {table(AccessKey)} k JOIN {table(User)} u ON u.id = k.user_id"
        f" LEFT JOIN {table(PrimaryAccount)} o ON o.owner_id = u.id"
        f" LEFT JOIN {table(RamUser)} r ON r.user_id = u.id"
        f" LEFT JOIN {table(PrimaryAccount)} a ON a.id = r.account_id"
        " WHERE k.access_key_id = %s"
    )


class AccessKeyManager(models.Manager.from_queryset(AccessKeyQuerySet)):
    def for_signature(self, access_key_id: str) -> "AccessKey | None":
        """The key with its holder and the holder's account (as owner or as RAM user), in one statement:
        every signed request starts here (plain SQL, see portal.rows)."""
        found = fetch_instances(
            _access_key_by_id(), [access_key_id], AccessKey, User, PrimaryAccount, RamUser, PrimaryAccount
        )
        if found is None:
            return None
        access_key, user, owned_account, ram_user, account = found
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

    def __str__(self):
        return f"AccessKey {self.access_key_id}"

    @property
    def associated_data(self) -> str:
        # Binds the sealed secret to its key: copied onto another row, it does not open.
        return self.access_key_id

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class AliasHold(models.Model):
    """A released enterprise alias, held so that nobody else can take it and catch its users' sign-ins."""

    alias = models.CharField(max_length=50)
    account = models.ForeignKey(PrimaryAccount, on_delete=models.CASCADE, related_name="alias_holds")
    released_at = models.DateTimeField()
    held_until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("alias"), name="unique_alias_hold_ignoring_case")]

    def __str__(self):
        return f"{self.alias} held until {self.held_until:%Y-%m-%d}"


class DeliveryPacketQuerySet(models.QuerySet):
    def for_account(self, account: PrimaryAccount):
        return self.filter(account=account)


# What each line of a packet's history says (DeliveryPacket.history_lines).
PACKET_HISTORY_SENTENCES = {
    "password_replaced": "The password was replaced; the one in this packet no longer works and was removed.",
    "console_logon_disabled": "Console logon was disabled; the password in this packet was removed.",
    "access_key_deleted": "AccessKey {access_key_id} was deleted; its secret was removed from this packet.",
}


class DeliveryPacket(models.Model):
    """What hands a RAM user's account to its person. Secrets in it stay sealed until they leave through
    exactly one channel (shown, printed, emailed and claimed), and are wiped then."""

    class State(models.TextChoices):
        SEALED = "sealed", "Sealed"
        PRINTED = "printed", "Printed"
        SENT = "sent", "Sent"
        CLAIMED = "claimed", "Claimed"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"
        WIPED = "wiped", "Wiped"
        SUPERSEDED = "superseded", "Superseded"

    class Channel(models.TextChoices):
        SHOWN = "shown", "Shown on the issuing page"
        PRINTED = "printed", "Printed"
        PDF = "pdf", "PDF"
        EMAIL = "email", "Email and claim link"

    uid = models.UUIDField(unique=True, editable=False)  # associated data of its sealed secrets
    account = models.ForeignKey(PrimaryAccount, on_delete=models.CASCADE, related_name="delivery_packets")
    ram_user = models.ForeignKey(RamUser, on_delete=models.CASCADE, related_name="delivery_packets")
    state = models.CharField(max_length=10, choices=State.choices, default=State.SEALED)
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    has_password = models.BooleanField(default=False)
    access_key_id = models.CharField(max_length=24, blank=True)  # not a secret; the key's secret is sealed below
    sealed_password = models.TextField(blank=True)
    sealed_access_key_secret = models.TextField(blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    email_to = models.EmailField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The claim link's token is stored only as a SHA-256 hash: the link itself leaves once, in the email.
    claim_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.CharField(max_length=200, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    wiped_at = models.DateTimeField(null=True, blank=True)
    # Lines about what happened to the packet's secrets after it was made ({"at", "by", "text"}), such as a
    # password replaced meanwhile; the fields above say how it was delivered.
    history = models.JSONField(default=list, blank=True)

    objects = DeliveryPacketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "-created_at"], name="packet_account_time")]

    def __str__(self):
        return f"delivery packet {self.pk} for {self.ram_user_id}"

    @property
    def has_secrets(self) -> bool:
        return bool(self.sealed_password or self.sealed_access_key_secret)

    def history_lines(self) -> list[str]:
        lines = []
        for entry in self.history:
            sentence = PACKET_HISTORY_SENTENCES.get(entry.get("event"), "{event}").format_map(entry)
            at = datetime.fromisoformat(entry["at"])
            lines.append(f"{sentence} ({at:%Y-%m-%d %H:%M} UTC, by {entry.get('by', '')})")
        return lines

    @property
    def is_instructions(self) -> bool:
        """Sign-in instructions only: made without secrets, so it can be printed or sent any number of times."""
        return not (self.has_password or self.access_key_id)

    # What may be done with the packet now: the one home of these rules, read by the services (on the locked row)
    # and by the pages that offer the actions. `email_to` is set with the outbox row, in one transaction.

    @property
    def is_printable(self) -> bool:
        """Printed or downloaded as PDF: sign-in instructions unless revoked; secrets only while sealed and not on
        their way by email (the claim link must stay their one exit)."""
        if self.is_instructions:
            return self.state != self.State.REVOKED
        return self.state == self.State.SEALED and not self.email_to

    @property
    def is_emailable(self) -> bool:
        return self.state == self.State.SEALED and not self.email_to

    @property
    def is_revocable(self) -> bool:
        return self.state in (self.State.SEALED, self.State.SENT)

    @property
    def is_claimable(self) -> bool:
        return self.state == self.State.SENT


class PacketEmail(models.Model):
    """The durable outbox: one row per packet to be emailed. It holds no secret; the claim link is made
    when the message is actually handed to the mail server."""

    packet = models.OneToOneField(DeliveryPacket, on_delete=models.CASCADE, related_name="email")
    to = models.EmailField()
    requested_by = models.CharField(max_length=200)
    requested_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)

    def __str__(self):
        return f"email of packet {self.packet_id} to {self.to}"


class OneTimeReveal(models.Model):
    """One submission of a form that issues secrets, and the one-time page that shows them.

    The form carries a random token; the first submission with it claims this row (committed before the work),
    does the work and fills the row in the work's own transaction, then redirects here. A repeated submission of
    the same form (a second click, a reload, back and resubmit) finds the row, does nothing and is sent to the
    same page, which shows the secrets to their issuer once and afterwards says that they were shown.
    Secrets kept in delivery packets stay there (the page opens them as their "shown" channel); the others
    (the primary account's or a user's own AccessKey, backup codes) are sealed here until the page opens.
    """

    class Kind(models.TextChoices):
        USERS_CREATED = "users_created", "Users created"
        PASSWORD_SET = "password_set", "Logon settings saved"
        ACCESS_KEY_CREATED = "access_key_created", "AccessKey created"
        BACKUP_CODES = "backup_codes", "Backup codes"
        CLAIMED = "claimed", "Packet claimed"  # "Reveal" on a claim page: no user, the claiming browser

    class State(models.TextChoices):
        WORKING = "working", "Working"
        READY = "ready", "Ready to show"
        SHOWN = "shown", "Shown"
        EXPIRED = "expired", "Expired unseen"

    uid = models.UUIDField(unique=True, editable=False)  # its page's address, and associated data of its seal
    # Known once the work is done (a claim finds its account with its packet).
    account = models.ForeignKey(PrimaryAccount, on_delete=models.CASCADE, null=True, related_name="+")
    # Who sent the form and alone may open the page; none for a claim, whose page only the claiming browser opens.
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, related_name="one_time_reveals")
    browser_key_hash = models.CharField(max_length=64, blank=True)
    form_token_hash = models.CharField(max_length=64)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.WORKING)
    shows_packets = models.BooleanField(default=True)  # False: "Seal them in a delivery packet" was chosen
    # What the page tells besides secrets (users created, the key's ID, the packets): never a secret.
    facts = models.JSONField(default=dict, blank=True)
    sealed_secrets = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shown_at = models.DateTimeField(null=True, blank=True)

    SEALED_FIELD = "sealed_secrets"  # what rotate_secret_keys re-seals and the start-up check opens

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "form_token_hash"], name="one_submission_per_form_token"),
            # (NULLs are distinct in the one above: claims need their own.)
            models.UniqueConstraint(
                fields=["form_token_hash"], condition=models.Q(user__isnull=True), name="one_claim_per_form_token"
            ),
        ]

    def __str__(self):
        return f"one-time reveal {self.uid}"

    def get_absolute_url(self) -> str:
        return reverse("accounts:one-time-reveal", args=[self.uid])

    @property
    def associated_data(self) -> str:
        return f"reveal:{self.uid}"
