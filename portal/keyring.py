"""Secrets at rest: AES-256-GCM under a versioned keyring that comes from the environment.

The keyring is `PORTAL_KEYRING="<version>:<base64 of 32 bytes>,…"`, newest first. New secrets are sealed
with the newest key; older keys only open what they sealed until `rotate_secret_keys` re-seals it. The
keys never come from the database or SECRET_KEY, so a copy of the database alone opens nothing.

A sealed value is text: `v<version>$<base64 of nonce ‖ ciphertext ‖ tag>`. The associated data (for an
AccessKey, its ID) binds the ciphertext to its row: a sealed secret copied onto another row won't open.
"""

import base64
import binascii
import os
import re
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12
SEALED_RE = re.compile(r"^v(\d{1,6})\$([A-Za-z0-9+/=]+)$")


class SecretUnreadable(Exception):
    """A sealed value could not be opened: unknown key version, wrong key, or tampering."""


@dataclass(frozen=True)
class Keyring:
    keys: tuple[tuple[int, bytes], ...]  # (version, 32-byte key), newest first

    @property
    def newest_version(self) -> int:
        return self.keys[0][0]

    def seal(self, plaintext: str, *, associated_data: str) -> str:
        return self.seal_bytes(plaintext.encode(), associated_data=associated_data)

    def open(self, sealed: str, *, associated_data: str) -> str:
        return self.open_bytes(sealed, associated_data=associated_data).decode()

    def seal_bytes(self, plaintext: bytes, *, associated_data: str) -> str:
        version, key = self.keys[0]
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, associated_data.encode())
        return f"v{version}${base64.b64encode(nonce + ciphertext).decode()}"

    def open_bytes(self, sealed: str, *, associated_data: str) -> bytes:
        match = SEALED_RE.match(sealed or "")
        if match is None:
            raise SecretUnreadable("The value is not a sealed secret.")
        version = int(match.group(1))
        key = dict(self.keys).get(version)
        if key is None:
            raise SecretUnreadable(f"Key version {version} is not in the keyring.")
        raw = base64.b64decode(match.group(2))
        try:
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data.encode())
        except InvalidTag:
            raise SecretUnreadable(f"Key version {version} does not open this value.") from None

    @staticmethod
    def version_of(sealed: str) -> int | None:
        match = SEALED_RE.match(sealed or "")
        return int(match.group(1)) if match else None


def parse_keyring(raw: str) -> Keyring:
    """The keyring of a PORTAL_KEYRING value, or ImproperlyConfigured saying exactly what is wrong."""
    entries = [entry.strip() for entry in (raw or "").split(",") if entry.strip()]
    if not entries:
        raise ImproperlyConfigured(
            "PORTAL_KEYRING is empty: set it to '<version>:<base64 of 32 random bytes>' "
            "(make one with: python -c 'import os,base64;print(\"1:\"+base64.b64encode(os.urandom(32)).decode())')."
        )
    keys = []
    for entry in entries:
        version_text, _, key_text = entry.partition(":")
        if not version_text.isdigit():
            raise ImproperlyConfigured(f"PORTAL_KEYRING entry {version_text!r}…: the version must be a number.")
        try:
            key = base64.b64decode(key_text, validate=True)
        except binascii.Error:
            raise ImproperlyConfigured(f"PORTAL_KEYRING key version {version_text} is not valid base64.") from None
        if len(key) != 32:
            raise ImproperlyConfigured(
                f"PORTAL_KEYRING key version {version_text} has {len(key)} bytes; AES-256 needs 32."
            )
        keys.append((int(version_text), key))
    versions = [version for version, _ in keys]
    if len(set(versions)) != len(versions):
        raise ImproperlyConfigured("PORTAL_KEYRING names a key version twice.")
    if versions != sorted(versions, reverse=True):
        raise ImproperlyConfigured("PORTAL_KEYRING must list the newest key version first.")
    return Keyring(tuple(keys))


@cache
def _parsed(raw: str) -> Keyring:
    return parse_keyring(raw)


def keyring() -> Keyring:
    """The configured keyring (parsed once per distinct setting value)."""
    return _parsed(settings.PORTAL_KEYRING)


def new_key_entry(version: int) -> str:
    return f"{version}:{base64.b64encode(os.urandom(32)).decode()}"
