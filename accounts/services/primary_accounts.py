"""Creating primary accounts and their owners."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import PasswordPolicy, PrimaryAccount, SecuritySettings, User
from accounts.passwords import validate_password
from portal.audit import Origin, record_event

ACCOUNT_NAME_MAX = 128


def new_account_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


def create_primary_account(
    *, email: str, password: str, name: str, origin: Origin, language: str = ""
) -> PrimaryAccount:
    """A new tenant with its owner, default security settings and password policy, or nothing at all. `language`:
    the owner's (User.language; one of settings.LANGUAGES, else not chosen)."""
    email = (email or "").strip().lower()
    name = (name or "").strip()
    errors = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid email address.")]
    if not name:
        errors["name"] = [_("Enter a name for the account.")]
    elif len(name) > ACCOUNT_NAME_MAX:
        errors["name"] = [_("The account name must be at most %(max)s characters.") % {"max": ACCOUNT_NAME_MAX}]
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        errors["name"] = [_("The account name must not contain line breaks or control characters.")]
    try:
        validate_password(password, policy=PasswordPolicy(), context_words=(email.split("@")[0], name))
    except ValidationError as error:
        errors["password"] = error.messages
    if "email" not in errors and User.objects.filter(email__iexact=email).exists():
        errors["email"] = [_("An account with this email address already exists.")]
    if errors:
        raise ValidationError(errors)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                owner = User(email=email, language=language if language in dict(settings.LANGUAGES) else "")
                owner.set_password(password)
                owner.save()
                account = PrimaryAccount.objects.create(account_id=new_account_id(), name=name, owner=owner)
                SecuritySettings.objects.create(account=account)
                PasswordPolicy.objects.create(account=account)
                record_event(
                    actor=Actor(account=account, origin=origin, user=owner),
                    action="account.create",
                    target=account.principal,
                    details={"name": name, "email": email},
                )
                return account
        except IntegrityError:
            if User.objects.filter(email__iexact=email).exists():
                raise ValidationError({"email": [_("An account with this email address already exists.")]}) from None
            # Otherwise two accounts drew the same random ID: draw again.
    raise RuntimeError("Could not allocate a unique account ID.")
