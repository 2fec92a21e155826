"""Personal data at rest: Fernet encryption with key rotation, and keyed hashes for exact lookups.

`FIELD_ENCRYPTION_KEYS` lists Fernet keys; the first encrypts, all decrypt (MultiFernet). A blind index is an
HMAC-SHA256 of the normalised value under a key derived from an encryption key: writes use the first key,
lookups try every key, so a freshly added key does not hide rows until `rotate_encryption_keys` has run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


_configured: tuple[str, ...] | None = None


def _keys() -> tuple[str, ...]:
    """The configured keys (read from settings once: every encrypted field read and write asks)."""
    global _configured
    if _configured is None:
        _configured = tuple(settings.FIELD_ENCRYPTION_KEYS)
    return _configured


@receiver(setting_changed)
def _keys_changed(setting: str, **_kwargs) -> None:
    global _configured
    if setting == "FIELD_ENCRYPTION_KEYS":
        _configured = None


def encrypt(value: str) -> str:
    return _fernet(_keys()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _decrypted(token, _keys())


@lru_cache(maxsize=16384)
def _decrypted(token: str, keys: tuple[str, ...]) -> str:
    """The same ciphertext is read again and again (a chat's contact, on every message): each distinct token is
    verified and decrypted once per process while it stays among the recently used. Keyed by the configured
    keys too, so a key removed from the settings stops decrypting at once. Sized for a few thousand contacts
    in conversation at once (a contact has about five encrypted values; 4,096 entries thrashed at 1,000 live
    chats), a few MB."""
    try:
        return _fernet(keys).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("encrypted field cannot be decrypted with FIELD_ENCRYPTION_KEYS") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the first key."""
    return _fernet(_keys()).rotate(token.encode()).decode()


@lru_cache(maxsize=8)
def _hash_key(key: str) -> bytes:
    return hashlib.sha256(b"blind-index:" + base64.urlsafe_b64decode(key)).digest()


def blind_index(value: str, *, key: str | None = None) -> str:
    key = key or _keys()[0]
    return hmac.new(_hash_key(key), normalize(value).encode(), hashlib.sha256).hexdigest()


def blind_indexes(value: str) -> list[str]:
    """The value's hash under every configured key (for lookups during a rotation)."""
    return [blind_index(value, key=k) for k in _keys()]


def normalize(value: str) -> str:
    return value.strip().lower()


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python sees the plain string. Empty stays empty."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        # Ciphertexts are randomised: only isnull/exact-empty make sense. Use the blind index for lookups.
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)
