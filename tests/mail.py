"""A real SMTP server in the test process (aiosmtpd), for the mail the portal sends: packets, claim links,
invitations."""

import email
import re
import socket
from email import policy
from email.message import EmailMessage


class Inbox:
    """An aiosmtpd handler keeping every message it accepts: as sent (`raw`) and parsed (`messages`)."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
        self.raw.append(envelope.content)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def body_of(message: EmailMessage) -> str:
    """Every text part of the message (plain and HTML), as one string."""
    return "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")


def link_token(message: EmailMessage, page: str) -> str:
    """The one-time token of the message's link to `page` ("claim", "invitation"), from the fragment."""
    tokens = set(re.findall(rf"/{page}/#([A-Za-z0-9_-]+)", body_of(message)))
    assert len(tokens) == 1, f"one {page} link expected, found {len(tokens)}"
    return tokens.pop()
