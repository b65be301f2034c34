"""The audit trail: every state change writes one event in the same transaction."""

import re
from dataclasses import dataclass
from typing import Any, Protocol

from portal.models import AuditEvent

# Detail keys that could only hold a secret. Refusing them here stops a careless caller from ever
# writing a password, key secret or code into the trail.
FORBIDDEN_DETAIL_KEY = re.compile(
    r"^(.*_)?(password|passwords|secret|access_key_secret|otp_code|code|codes|token|seed|key)$", re.IGNORECASE
)


@dataclass(frozen=True)
class Origin:
    """Where a change comes from: the channel, the source address and the request that carried it."""

    channel: str
    source_ip: str | None = None
    request_id: str = ""


class AuditActor(Protocol):
    @property
    def principal(self) -> str: ...

    @property
    def account_id(self) -> str: ...

    @property
    def origin(self) -> Origin: ...


def record_event(
    *, actor: AuditActor, action: str, target: str = "", details: dict[str, Any] | None = None
) -> AuditEvent:
    details = details or {}
    for key in details:
        if FORBIDDEN_DETAIL_KEY.search(key):
            raise ValueError(f"Audit details must not carry {key!r}.")
    return AuditEvent.objects.create(
        account_id=actor.account_id,
        actor=actor.principal,
        channel=actor.origin.channel,
        source_ip=actor.origin.source_ip,
        action=action,
        target=target,
        details=details,
        request_id=actor.origin.request_id,
    )
