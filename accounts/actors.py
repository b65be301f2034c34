"""Who performs a change: a signed-in person, a signed request's key holder, or an operator."""

from dataclasses import dataclass

from accounts.models import PrimaryAccount, User
from portal.audit import Origin

# Who acts in a failed sign-in: nobody known yet (the event's target is the identity that was tried).
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Actor:
    account: PrimaryAccount
    origin: Origin
    user: User | None = None
    label: str = "operator"  # who acts when no user does: an operator, the mail worker, a claim link

    @property
    def principal(self) -> str:
        return self.user.principal if self.user is not None else self.label

    @property
    def person(self) -> User:
        """The signed-in person acting. For changes only a person can make (their own password, their own
        sessions); an actor without one reaching such a change is a programming error, refused loudly."""
        if self.user is None:
            raise PermissionError(f"{self.label} is not a person and cannot make this change.")
        return self.user

    @property
    def account_id(self) -> str:
        return self.account.account_id

    @property
    def is_owner(self) -> bool:
        return self.user is not None and self.user.is_owner


def operator_actor(account: PrimaryAccount) -> Actor:
    """An operator running a management command on the server."""
    return Actor(account=account, origin=Origin(channel="command"))
