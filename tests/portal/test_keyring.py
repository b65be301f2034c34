import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.keyring import Keyring, SecretUnreadable, new_key_entry, parse_keyring


def test_a_sealed_secret_opens_with_its_associated_data_only():
    ring = parse_keyring(new_key_entry(1))
    sealed = ring.seal("canary-secret-123", associated_data="LTAI0001")
    assert "canary-secret-123" not in sealed
    assert sealed.startswith("v1$")
    assert ring.open(sealed, associated_data="LTAI0001") == "canary-secret-123"
    with pytest.raises(SecretUnreadable):
        ring.open(sealed, associated_data="LTAI0002")


def test_every_seal_uses_a_fresh_nonce():
    ring = parse_keyring(new_key_entry(1))
    assert ring.seal("same", associated_data="a") != ring.seal("same", associated_data="a")


def test_older_keys_open_what_they_sealed_and_new_seals_use_the_newest():
    old = new_key_entry(1)
    sealed_under_old = parse_keyring(old).seal("s", associated_data="x")
    rotated = parse_keyring(f"{new_key_entry(2)},{old}")
    assert rotated.open(sealed_under_old, associated_data="x") == "s"
    assert Keyring.version_of(rotated.seal("s", associated_data="x")) == 2
    with pytest.raises(SecretUnreadable, match="version 1 is not in the keyring"):
        parse_keyring(new_key_entry(2)).open(sealed_under_old, associated_data="x")


def test_a_wrong_key_of_the_same_version_is_detected():
    sealed = parse_keyring(new_key_entry(1)).seal("s", associated_data="x")
    with pytest.raises(SecretUnreadable, match="does not open"):
        parse_keyring(new_key_entry(1)).open(sealed, associated_data="x")


def test_tampered_ciphertext_is_refused():
    ring = parse_keyring(new_key_entry(1))
    sealed = ring.seal("s", associated_data="x")
    raw = bytearray(base64.b64decode(sealed[3:]))
    raw[-1] ^= 1
    with pytest.raises(SecretUnreadable):
        ring.open("v1$" + base64.b64encode(bytes(raw)).decode(), associated_data="x")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("x:AAAA", "must be a number"),
        ("1:not base64!", "not valid base64"),
        ("1:" + base64.b64encode(b"short").decode(), "has 5 bytes"),
        (f"{new_key_entry(1)},{new_key_entry(1)}", "twice"),
        (f"{new_key_entry(1)},{new_key_entry(2)}", "newest key version first"),
    ],
)
def test_bad_keyrings_are_refused_with_a_clear_message(raw, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_keyring(raw)
