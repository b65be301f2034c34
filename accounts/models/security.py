"""Account-wide security settings and password policy, earlier passwords, and the locks on password guessing."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import ngettext, pgettext

from accounts.models.identities import PrimaryAccount, User


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

    def __str__(self) -> str:
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

    def __str__(self) -> str:
        return f"password policy of {self.account_id}"

    def length_and_characters(self) -> str:
        """The first rule the pages that ask for a new password show (accounts/_password_rules.html), in the active
        language: the length, and the characters the policy requires."""
        characters = [
            words
            for required, words in (
                (self.require_lowercase, pgettext("a password must contain", "a lowercase letter")),
                (self.require_uppercase, pgettext("a password must contain", "an uppercase letter")),
                (self.require_numbers, pgettext("a password must contain", "a digit")),
                (self.require_symbols, pgettext("a password must contain", "a symbol")),
            )
            if required
        ]
        length = self.minimum_length
        if not characters:
            return ngettext("At least %(length)s character.", "At least %(length)s characters.", length) % {
                "length": length
            }
        return ngettext(
            "At least %(length)s character, %(characters)s.", "At least %(length)s characters, %(characters)s.", length
        ) % {"length": length, "characters": pgettext("between the items of a list", ", ").join(characters)}


class PasswordHistoryEntry(models.Model):
    """An earlier password hash of a user, kept for the policy's reuse prevention."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"earlier password of {self.user_id}"


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

    def __str__(self) -> str:
        return f"{self.identity} from {self.source_ip}"


class IdentityLock(models.Model):
    """Failed sign-ins of one identity from every source together, where the per-source lock cannot see them:
    an attacker with many addresses (see accounts.services.logon for how this lock is passed)."""

    identity = models.CharField(max_length=255, unique=True)
    failures = models.PositiveIntegerField(default=0)  # consecutive, from browsers not known to the identity
    last_failure_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    code_failures = models.PositiveSmallIntegerField(default=0)  # wrong MFA codes sent past this lock

    # NIST SP 800-63B §5.2.2 allows at most 100 consecutive failures on one account: from there the lock lasts
    # until an administrator clears it (accounts.services.guessing).
    FAILURES_BEFORE_HELD_UNTIL_CLEARED = 100

    def __str__(self) -> str:
        return f"{self.identity} from every source"

    @property
    def is_held_until_cleared(self) -> bool:
        return self.failures >= self.FAILURES_BEFORE_HELD_UNTIL_CLEARED


class CredentialReport(models.Model):
    """The account's latest credential report (IMS GenerateCredentialReport): RAM's CSV, kept until the next one.
    It holds no secret: dates, TRUE/FALSE, N/A and principal names only."""

    account = models.OneToOneField(
        "accounts.PrimaryAccount", on_delete=models.CASCADE, related_name="credential_report"
    )
    generated_at = models.DateTimeField()
    content = models.TextField()

    def __str__(self) -> str:
        return f"credential report of {self.account_id} at {self.generated_at:%Y-%m-%d %H:%M}"
