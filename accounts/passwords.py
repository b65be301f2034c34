"""Password rules: the account's password policy plus checks that cannot be switched off."""

import secrets
import string

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import PasswordPolicy, PrimaryAccount, User

SYMBOLS = "!@#$%^&*()-_=+[]{};:,.?"
MAXIMUM_LENGTH = 128
# Context words shorter than this are too common to forbid (a user named "al").
MINIMUM_CONTEXT_WORD_LENGTH = 3

_common_passwords = CommonPasswordValidator()


def policy_for(account: PrimaryAccount) -> PasswordPolicy:
    """The account's password policy as it is now in the database (not as cached on an account object)."""
    return PasswordPolicy.objects.get(account=account)


def password_problems(
    password: str, *, policy: PasswordPolicy, context_words: tuple[str, ...] = (), user: User | None = None
) -> list[str]:
    """Every reason the password is refused, in words a person can act on; empty when it is fine."""
    problems = []
    if not password.strip():
        # Spaces are allowed and kept exactly as typed (ASVS 5.0 6.2.8), but a password of nothing else looks
        # blank on every sheet and screen, and is one of a handful of guesses.
        return [_("The password must not consist only of spaces.")]
    if len(password) < policy.minimum_length:
        problems.append(
            _("The password must be at least %(length)s characters long.") % {"length": policy.minimum_length}
        )
    if len(password) > MAXIMUM_LENGTH:
        problems.append(_("The password must be at most %(length)s characters long.") % {"length": MAXIMUM_LENGTH})
    classes = [
        (policy.require_lowercase, string.ascii_lowercase, _("The password must contain a lowercase letter.")),
        (policy.require_uppercase, string.ascii_uppercase, _("The password must contain an uppercase letter.")),
        (policy.require_numbers, string.digits, _("The password must contain a digit.")),
        (
            policy.require_symbols,
            SYMBOLS,
            _("The password must contain a symbol (%(symbols)s).") % {"symbols": SYMBOLS},
        ),
    ]
    for required, alphabet, problem in classes:
        if required and not any(ch in alphabet for ch in password):
            problems.append(problem)
    lowered = password.lower().strip()
    if lowered in _common_passwords.passwords:
        problems.append(_("This password is too common."))
    for word in context_words:
        if word and len(word) >= MINIMUM_CONTEXT_WORD_LENGTH and word.lower() in lowered:
            problems.append(_("The password must not contain “%(word)s”.") % {"word": word})
    if user is not None and policy.reuse_prevention:
        earlier = [user.password, *user.password_history.values_list("password", flat=True)]
        if any(check_password(password, encoded) for encoded in earlier[: policy.reuse_prevention]):
            problems.append(
                ngettext(
                    "The password must differ from the last password.",
                    "The password must differ from the last %(count)s passwords.",
                    policy.reuse_prevention,
                )
                % {"count": policy.reuse_prevention}
            )
    return problems


def validate_password(
    password: str, *, policy: PasswordPolicy, context_words: tuple[str, ...] = (), user: User | None = None
) -> None:
    problems = password_problems(password, policy=policy, context_words=context_words, user=user)
    if problems:
        raise ValidationError(problems, code="weak_password")


def generate_password(policy: PasswordPolicy) -> str:
    """A random password that meets the policy: at least 16 characters with every character class."""
    length = max(16, policy.minimum_length)
    # No characters that read alike on a printed sheet (I l 1, O 0).
    alphabet = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "Il1O0") + SYMBOLS
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            # A first character of = + - @ would make a spreadsheet that opens the CSV of new secrets run the
            # password as a formula.
            candidate[0] not in "=+-@"
            and any(ch in string.ascii_lowercase for ch in candidate)
            and any(ch in string.ascii_uppercase for ch in candidate)
            and any(ch in string.digits for ch in candidate)
            and any(ch in SYMBOLS for ch in candidate)
        ):
            return candidate


def context_words(account: PrimaryAccount, name: str) -> tuple[str, ...]:
    """Words a RAM user's password must not contain: the user's name, the alias and the account's name."""
    return tuple(word for word in (name, account.alias or "", account.name, account.account_id) if word)
