"""MaxCompute security commands, as pyodps sends them (`ODPS(...).run_security_query(...)`): the parser, and the
rules that say who may run each one.

    whoami
    list users | list roles
    add user <principal> | remove user <principal>
    grant <role>[, <role>…] to <principal>
    revoke <role>[, <role>…] from <principal>
    show grants [for <principal>]

    principal: ALIYUN$<account> (the primary account) or RAM$<account>:<user name> (a RAM user), where <account> is
    the account ID or the account's name as the seed writes it (RAM$MainCount:hanmeimei)

Keywords and role names in any case; one command per request; a trailing ";" is optional. A parse error says
where, as "[line,column]", and what was expected there.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

from projects.matrix import Channel


class Readers(StrEnum):
    """Who may run a command that changes nothing; the same people as on the matching web page."""

    PROJECT = "whoever sees the project: the owner, RAM users with a RAM read policy, and its members"
    PERMISSIONS = "the owner and RAM users with a RAM read policy (the Check permissions page); anyone about itself"


@dataclass(frozen=True)
class CommandRule:
    """What decides one command: a reading gate, or the permission matrix's row `operation` on `decided_on`."""

    why: str
    readers: Readers | None = None
    operation: str = ""
    decided_on: Channel = Channel.API

    @property
    def is_change(self) -> bool:
        return self.readers is None


_NOT_SUPPORTED = (
    "'Addition and authorization of project members' is Not supported through the MaxCompute CLI and "
    "MaxCompute Studio: refused for the owner and every role alike (use the web console)."
)
_TAKING_AWAY = (
    "Revoking and removing take permissions away, which the Permissions table's row for the CLI ('addition and "
    "authorization') does not cover and which MaxCompute itself does in the CLI (revoke the roles, then remove "
    "user). They are judged by the DataWorks row of member management: the owner, or a RAM user holding "
    "role_project_admin, with its dependency (the primary account's AccessKey enabled; an owner signing with its "
    "own key has one)."
)

# The one place that maps commands onto the permission matrix (projects/matrix.py). The request is always on the
# "api" channel and the audit trail says so; `decided_on` only names whose row of the matrix decides.
COMMAND_RULES: dict[str, CommandRule] = {
    "whoami": CommandRule("Who signed the request.", readers=Readers.PROJECT),
    "list users": CommandRule("The owner and the members, as the project page lists them.", readers=Readers.PROJECT),
    "list roles": CommandRule("The six project roles.", readers=Readers.PROJECT),
    "show grants": CommandRule(
        "Your own roles, and what check_permission lets you do here on the api channel.", readers=Readers.PROJECT
    ),
    "show grants for": CommandRule(
        "Another user's roles and what check_permission lets it do here on the api channel.",
        readers=Readers.PERMISSIONS,
    ),
    "add user": CommandRule(_NOT_SUPPORTED, operation="member_management", decided_on=Channel.API),
    "grant": CommandRule(_NOT_SUPPORTED, operation="member_management", decided_on=Channel.API),
    "revoke": CommandRule(_TAKING_AWAY, operation="member_management", decided_on=Channel.CONSOLE),
    "remove user": CommandRule(
        _TAKING_AWAY + " A user who still holds roles is refused: revoke the roles first.",
        operation="member_management",
        decided_on=Channel.CONSOLE,
    ),
}


class CommandParseError(Exception):
    """The command is not one of the grammar's; the message says where and what was expected."""

    def __init__(self, message: str, line: int, column: int):
        self.line, self.column = line, column
        super().__init__(f"[{line},{column}] {message}")


@dataclass(frozen=True)
class Principal:
    text: str  # as written
    account: str  # the account ID or name, as written
    user_name: str = ""  # empty for ALIYUN$…: the primary account itself

    @property
    def is_primary_account(self) -> bool:
        return not self.user_name


@dataclass(frozen=True)
class Command:
    verb: str  # a key of COMMAND_RULES
    roles: tuple[str, ...] = ()
    principal: Principal | None = None

    @property
    def rule(self) -> CommandRule:
        return COMMAND_RULES[self.verb]

    @property
    def named_principal(self) -> Principal:
        """The principal of a command whose grammar requires one (add user, remove user, grant, revoke, show grants
        for); asking any other command for it is a programming error, refused loudly."""
        if self.principal is None:
            raise ValueError(f"The command {self.verb!r} names no principal.")
        return self.principal


@dataclass(frozen=True)
class _Token:
    text: str
    line: int
    column: int

    @property
    def word(self) -> str:
        return self.text.lower()


_TOKEN = re.compile(r"(?P<space>\s+)|(?P<mark>[,;])|(?P<word>[^\s,;]+)")
# Tabs and line breaks are spacing; any other control character is refused before it can reach a lookup.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ROLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ACCOUNT_PRINCIPAL = re.compile(r"(?i:ALIYUN)\$(?P<account>[^:$]+)")
_RAM_PRINCIPAL = re.compile(r"(?i:RAM)\$(?P<account>[^$]+):(?P<user>[^:$]+)")
PRINCIPAL_FORMS = "ALIYUN$<account> or RAM$<account>:<user>"


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _tokens(text: str) -> list[_Token]:
    control = _CONTROL.search(text)
    if control:
        raise CommandParseError(
            f"unexpected control character U+{ord(control.group()):04X}", *_position(text, control.start())
        )
    return [
        _Token(match.group(), *_position(text, match.start()))
        for match in _TOKEN.finditer(text)
        if match.lastgroup != "space"
    ]


class _Cursor:
    def __init__(self, text: str, tokens: list[_Token]):
        self.tokens, self.index = tokens, 0
        self.end = _position(text, len(text.rstrip()))

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def fail(self, expected: str) -> NoReturn:
        token = self.peek()
        found = f'found "{token.text}"' if token else "found the end of the command"
        raise CommandParseError(f"expected {expected}, {found}", *((token.line, token.column) if token else self.end))

    def take(self, expected: str) -> _Token:
        """The next token, which must be a word (not "," or ";")."""
        token = self.peek()
        if token is None or token.text in {",", ";"}:
            self.fail(expected)
        self.index += 1
        return token

    def keyword(self, *words: str) -> str:
        token = self.peek()
        if token is None or token.word not in words:
            quoted = [f'"{word}"' for word in words]
            self.fail(" or ".join(quoted) if len(quoted) <= 2 else f"one of {', '.join(quoted)}")
        self.index += 1
        return token.word

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token.word == text:
            self.index += 1
            return True
        return False


def _principal(cursor: _Cursor) -> Principal:
    expected = f"a principal ({PRINCIPAL_FORMS})"
    token = cursor.peek()
    if token is None or token.text in {",", ";"}:
        cursor.fail(expected)
    text = token.text
    for pattern in (_RAM_PRINCIPAL, _ACCOUNT_PRINCIPAL):
        match = pattern.fullmatch(text)
        if match:
            cursor.index += 1
            return Principal(text=text, account=match.group("account"), user_name=match.groupdict().get("user") or "")
    return cursor.fail(expected)


def _roles(cursor: _Cursor, preposition: str) -> tuple[str, ...]:
    roles = []
    while True:
        token = cursor.peek()
        # The preposition is no role name: "revoke a, from …" is missing a role, not granting one called "from".
        if token is None or not _ROLE.fullmatch(token.text) or token.word == preposition:
            cursor.fail("a role name (e.g. role_project_dev)")
        cursor.index += 1
        roles.append(token.word)
        if not cursor.accept(","):
            return tuple(dict.fromkeys(roles))


def _command(cursor: _Cursor) -> Command:
    verb = cursor.keyword("whoami", "list", "add", "remove", "grant", "revoke", "show")
    if verb == "whoami":
        return Command("whoami")
    if verb == "list":
        return Command(f"list {cursor.keyword('users', 'roles')}")
    if verb in {"add", "remove"}:
        cursor.keyword("user")
        return Command(f"{verb} user", principal=_principal(cursor))
    if verb in {"grant", "revoke"}:
        preposition = "to" if verb == "grant" else "from"
        roles = _roles(cursor, preposition)
        if not cursor.accept(preposition):
            cursor.fail(f'"," or "{preposition}"')
        return Command(verb, roles=roles, principal=_principal(cursor))
    cursor.keyword("grants")
    if cursor.accept("for"):
        return Command("show grants for", principal=_principal(cursor))
    return Command("show grants")


def parse_command(text: str) -> Command:
    """The one command in `text`; CommandParseError saying where it goes wrong otherwise."""
    cursor = _Cursor(text, _tokens(text))
    command = _command(cursor)
    cursor.accept(";")
    if cursor.peek() is not None:
        cursor.fail('the end of the command (one command per request; ";" is optional)')
    return command
