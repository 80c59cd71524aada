"""Making, checking and revoking personal API keys.

A key is `djc_<id>_<secret>`: the id (8 characters) is the visible prefix stored in
clear to find the row; the secret holds 40 random characters (about 238 bits).
Only SHA-256 of the whole key is stored. A slow password hash (PBKDF2, Argon2)
exists to make guessing low-entropy passwords expensive; a random 238-bit secret
cannot be guessed either way, so a slow hash would only add tens of milliseconds to
every request. A keyed hash (HMAC with SECRET_KEY) would add nothing against
guessing and would invalidate every key when SECRET_KEY is rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from datetime import datetime, timedelta

from django.utils import timezone

from api.errors import AccountBlocked, InvalidApiKey
from api.models import ApiKey

PREFIX = "djc_"
_ALPHABET = string.ascii_letters + string.digits
_ID_CHARS = 8
_SECRET_CHARS = 40
_SHAPE = re.compile(
    rf"^{PREFIX}([A-Za-z0-9]{{{_ID_CHARS}}})_[A-Za-z0-9]{{{_SECRET_CHARS}}}$"
)
# last_used is written at most this often per key: one write per request would
# turn every call into a database write.
LAST_USED_EVERY = timedelta(minutes=1)


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_create(
    *, user, name: str, expires: datetime | None = None
) -> tuple[ApiKey, str]:
    """Make a key for `user`; returns its row and the key itself, which is never
    stored and cannot be shown again."""
    while True:
        ident = _random(_ID_CHARS)
        if not ApiKey.objects.filter(prefix=PREFIX + ident).exists():
            break
    key = f"{PREFIX}{ident}_{_random(_SECRET_CHARS)}"
    row = ApiKey.objects.create(
        user=user,
        name=name.strip() or "API key",
        prefix=PREFIX + ident,
        hashed=digest(key),
        expires=expires,
    )
    return row, key


def key_revoke(*, key: ApiKey) -> None:
    """Stop a key from working, at once; the row stays for the record."""
    if key.revoked is None:
        key.revoked = timezone.now()
        key.save(update_fields=["revoked"])


async def key_authenticate(raw: str) -> ApiKey:
    """The live key for a presented secret, with its user. InvalidApiKey for a
    malformed or unknown key (a deleted user's keys are gone with it) and, to the
    holder of the right secret only, for a revoked or expired one; AccountBlocked
    for a blocked user's. Read afresh on every request, so each stops at once."""
    match = _SHAPE.match(raw or "")
    if match is None:
        raise InvalidApiKey()
    row = (
        await ApiKey.objects.select_related("user")
        .filter(prefix=PREFIX + match.group(1))
        .afirst()
    )
    if row is None or not hmac.compare_digest(row.hashed, digest(raw)):
        raise InvalidApiKey()
    if row.revoked is not None:
        raise InvalidApiKey("This API key has been revoked.")
    if row.is_expired:
        raise InvalidApiKey("This API key has expired.")
    if not row.user.is_active:
        raise AccountBlocked()
    now = timezone.now()
    if row.last_used is None or now - row.last_used >= LAST_USED_EVERY:
        row.last_used = now
        await ApiKey.objects.filter(pk=row.pk).aupdate(last_used=now)
    return row
