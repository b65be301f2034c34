"""MFA devices: TOTP authenticators (their seeds sealed) and backup codes (stored as hashes)."""

import hashlib
import hmac
from typing import Any

from django.db import models
from django_otp.models import Device, DeviceManager, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models.identities import User
from portal.keyring import SEALED_RE, keyring


def authenticator_associated_data(user_id: int) -> str:
    # Binds a sealed seed to its user: copied onto another user's device row, it does not open.
    return f"totp:{user_id}"


class AuthenticatorManager(DeviceManager):
    def create(self, **kwargs: Any) -> "Authenticator":
        # django-otp's default seed is hex in clear, which `bin_key` would refuse to open at the first code.
        if not SEALED_RE.match(kwargs.get("key") or ""):
            raise ValueError("An authenticator's seed must be sealed: create it with services.otp.new_authenticator.")
        device: Authenticator = super().create(**kwargs)
        return device


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

    def __str__(self) -> str:
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

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: object) -> bool:
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

    def __str__(self) -> str:
        return f"backup code of device {self.device_id}"


class PasskeyProof(models.Model):
    """A passkey's answer to "confirm it is you", as a one-time code: made when the person's passkey signs a fresh
    challenge, good once, for a couple of minutes, for that person only, wherever a code from an authenticator is
    accepted (accounts.services.otp.verify_otp). Stored only as a hash."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkey_proofs")
    device = models.ForeignKey("django_otp_webauthn.WebAuthnCredential", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"passkey proof of user {self.user_id}"
