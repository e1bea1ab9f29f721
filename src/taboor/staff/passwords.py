"""Staff passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory
profile), and the rules a new password must meet.

Only the hash is stored; its text carries the parameters it was made with, so raising
the parameters later needs no migration: ``needs_rehash`` tells a login to store a
fresh hash once it has the password in hand.

A login for a username nobody has still verifies a password, against a dummy hash made
with the same parameters, so it takes as long as a wrong password for a real user:
response time does not reveal which usernames exist.
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHasher()


class PasswordRuleError(ValueError):
    """A new password breaks the rules; the message says which, in English."""


def check_password(password: str) -> None:
    """Raise ``PasswordRuleError`` unless ``password`` is 8 to 256 characters long."""
    if len(password) < MIN_LENGTH:
        raise PasswordRuleError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRuleError(f"the password must have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (rules are the caller's: see check_password)."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches. A wrong password, or a stored hash that is not
    an argon2 hash at all, is False: never an exception."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    # Made on first use (not at import, so the CLI does not pay for it), with today's
    # parameters, of a password nobody knows.
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_dummy(password: str) -> None:
    """Spend the time a real verification takes, and learn nothing: used when the
    username is unknown, so that answer costs the same as a wrong password."""
    verify_password(_dummy_hash(), password)
