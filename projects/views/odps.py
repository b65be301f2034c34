"""The MaxCompute endpoint that pyodps reaches with `ODPS(key_id, secret, project=…, endpoint='<portal>/api')`:
security commands on `POST /api/projects/<project>/authorization`, answered and refused in MaxCompute's XML shapes.

A thin adapter, as the RAM OpenAPI is: check the signature and the key, parse the command, call the same services
as the web pages (they decide by the permission matrix, on the "api" channel, and write the audit trail), render
the answer. Which rule decides each command is data beside the parser (projects/odps_commands.py).
"""

import json
import re
from collections.abc import Callable
from xml.etree import ElementTree as ET

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from accounts.actors import Actor
from accounts.gates import signed_request_actor
from accounts.models import AccessKey, PrimaryAccount, RamUser, User
from accounts.permissions import can_read_ram
from accounts.rights import source_words
from accounts.services.access_keys import open_secret
from portal.gates import public
from portal.requests import PortalRequest
from portal.signing import SignatureError, parse_odps_authorization, verify_odps_signature
from projects.matrix import MATRIX, Channel, Role
from projects.models import PROJECT_NAME_RE, Project
from projects.odps_commands import COMMAND_RULES, Command, CommandParseError, Principal, Readers, parse_command
from projects.permissions import PermissionCache, check_permission, roles_in
from projects.rights import role_sources
from projects.services import add_member, ensure_allowed, grant_roles, remove_member, revoke_roles

ENDPOINT_PATH = "/api"  # where the portal mounts the MaxCompute endpoint; pyodps signs paths relative to it
MAX_BODY_BYTES = 64 * 1024  # a command is a line; a bigger body is refused before it is parsed
ACCESS_KEY_ID_RE = re.compile(r"[A-Za-z0-9]{1,64}")
# Characters XML 1.0 cannot carry, even escaped: an echoed input must not break the answer's XML.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

type OdpsResult = dict[str, object]  # a command's answer, sent as JSON in <Result>


class OdpsError(Exception):
    """A refusal in MaxCompute's words: pyodps raises the exception class that `code` names."""

    def __init__(self, code: str, message: str, status: int):
        self.code, self.message, self.status = code, message, status
        super().__init__(message)


def _xml(request: PortalRequest, root: ET.Element, status: int) -> HttpResponse:
    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
    response = HttpResponse(body, content_type="application/xml", status=status)
    response["x-odps-request-id"] = request.request_id
    response["Cache-Control"] = "no-store"
    return response


def _error(request: PortalRequest, code: str, message: str, status: int) -> HttpResponse:
    root = ET.Element("Error")
    for tag, text in (("Code", code), ("Message", message), ("RequestId", request.request_id)):
        ET.SubElement(root, tag).text = NOT_XML.sub("?", text)
    ET.SubElement(root, "HostId").text = request.get_host()
    return _xml(request, root, status)


@public
@csrf_exempt  # no session acts here; nothing is changed
@translation.override("en")  # (as every answer of this endpoint: MaxCompute's are English, and programs read them)
def odps_not_offered(request: PortalRequest, resource: str) -> HttpResponse:
    """Everything else under the endpoint, such as `GET /logview/host` and `GET /tenants`, which pyodps asks
    before a command and goes on without."""
    return _error(
        request,
        "NoSuchObject",
        f"This endpoint offers security commands only (POST /projects/<project>/authorization), not /{resource}.",
        404,
    )


@public
@csrf_exempt  # signed with an AccessKey instead: a browser's cookies authorise nothing here
@translation.override("en")  # whatever language the client asks for: refusals and `show grants` read as MaxCompute's
def odps_authorization(request: PortalRequest, project: str) -> HttpResponse:
    """One security command against one project, as `run_security_query` sends it."""
    try:
        if request.method != "POST":
            raise OdpsError("MethodNotAllowed", "Send security commands with POST.", 405)
        actor = authenticate(request)
        found = _project(actor.person, project)
        command = parse_command(_query(request.body))
        result = run_command(actor, found, command)
    except SignatureError as error:
        return _error(request, error.code, error.message, error.status)
    except OdpsError as error:
        return _error(request, error.code, error.message, error.status)
    except CommandParseError as error:
        return _error(request, "ParseError", f"ODPS-0130161:Parse exception - {error}", 400)
    except PermissionDenied as error:
        return _error(request, "NoPermission", str(error) or "Permission denied.", 403)
    except ValidationError as error:
        return _error(request, "InvalidParameter", " ".join(error.messages), 400)
    root = ET.Element("Authorization")
    # pyodps always asks for JSON (ResponseInJsonFormat) and parses Result with json.loads.
    ET.SubElement(root, "Result").text = json.dumps(result)
    return _xml(request, root, 200)


def authenticate(request: PortalRequest) -> Actor:
    """The actor a correctly signed request acts as; SignatureError or OdpsError otherwise."""
    signed = parse_odps_authorization(request)
    access_key = None
    if ACCESS_KEY_ID_RE.fullmatch(signed.access_key_id):
        access_key = AccessKey.objects.for_signature(signed.access_key_id)
    if access_key is None:
        raise OdpsError("InvalidParameter", "ODPS-0410051:Invalid credentials - the AccessKey ID is not found.", 401)
    if not access_key.is_active:
        raise OdpsError("InvalidParameter", "ODPS-0410051:Invalid credentials - the AccessKey is disabled.", 403)
    resource_path = request.path_info.removeprefix(ENDPOINT_PATH)
    verify_odps_signature(request, signed, open_secret(access_key), resource_path=resource_path)
    return signed_request_actor(request, access_key, service="maxcompute")


def _project(user: User, name: str) -> Project:
    # Another account's project, or one the user may not see, answers as a missing one.
    found = None
    if re.fullmatch(PROJECT_NAME_RE, name):
        found = Project.objects.visible_to(user).filter(name__iexact=name).select_related("account").first()
    if found is None:
        raise OdpsError("NoSuchProject", f"The project {name} does not exist.", 404)
    return found


def _query(body: bytes) -> str:
    """The command in `<Authorization><Query>…</Query>…</Authorization>`."""
    if len(body) > MAX_BODY_BYTES:
        raise OdpsError("InvalidParameter", f"The request body is larger than {MAX_BODY_BYTES} bytes.", 400)
    # No document type, so no entity can be declared and expanded.
    if re.search(rb"<!(DOCTYPE|ENTITY)", body, re.IGNORECASE):
        raise OdpsError("InvalidParameter", "The request body must not declare a document type.", 400)
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD gets here (above), and expat fetches no external entity
    except ET.ParseError:
        root = None
    query = root.find("Query") if root is not None and root.tag == "Authorization" else None
    if query is None:
        raise OdpsError("InvalidParameter", "The body must be <Authorization><Query>…</Query></Authorization>.", 400)
    return query.text or ""


def _is_account(account: PrimaryAccount, written: str) -> bool:
    return written == account.account_id or written.lower() == account.name.lower()


def _principal_user(account: PrimaryAccount, principal: Principal) -> User:
    """The account's owner or RAM user that `principal` names; another account's answers as a missing one."""
    user = None
    if _is_account(account, principal.account):
        if principal.is_primary_account:
            user = account.owner
        else:
            ram_user = RamUser.objects.named(account=account, name=principal.user_name)
            user = ram_user.user if ram_user else None
    if user is None:
        raise OdpsError("NoSuchObject", f"The principal {principal.text} does not exist.", 404)
    return user


def _names_actor(actor: Actor, principal: Principal) -> bool:
    if not _is_account(actor.account, principal.account):
        return False
    if actor.person.is_owner:
        return principal.is_primary_account
    return principal.user_name.lower() == actor.person.ram_user.name.lower()


def run_command(actor: Actor, project: Project, command: Command) -> OdpsResult:
    """Gates the command by its rule (as the web pages gate, before reading its input), then runs it."""
    rule = command.rule
    # Readers.PROJECT holds already: the project was found among those the actor may see.
    if rule.readers is Readers.PERMISSIONS and not (
        can_read_ram(actor.person) or _names_actor(actor, command.named_principal)
    ):
        raise PermissionDenied("Checking another user's permissions needs the owner or a RAM read policy.")
    if rule.is_change:
        ensure_allowed(actor, project, rule.operation, channel=rule.decided_on)
    return COMMANDS[command.verb](actor, project, command)


def _member_to_change(actor: Actor, command: Command) -> RamUser:
    principal = command.named_principal
    user = _principal_user(actor.account, principal)
    if user.is_owner:
        raise OdpsError(
            "InvalidParameter", f"{principal.text} owns the project: it is no member and holds no roles.", 400
        )
    return user.ram_user


def _whoami(actor: Actor, project: Project, command: Command) -> OdpsResult:
    return {"DisplayName": actor.principal, "Project": project.name, "SourceIP": actor.origin.source_ip}


def _list_users(actor: Actor, project: Project, command: Command) -> OdpsResult:
    members = project.members.select_related("ram_user__account").order_by("ram_user__name")
    return {"Users": [project.account.principal, *(member.ram_user.principal for member in members)]}


def _list_roles(actor: Actor, project: Project, command: Command) -> OdpsResult:
    return {"Roles": [role.value for role in Role]}


def _add_user(actor: Actor, project: Project, command: Command) -> OdpsResult:
    ram_user = _member_to_change(actor, command)
    add_member(actor=actor, project=project, ram_user=ram_user)
    return {"Result": "OK", "Added": ram_user.principal}


def _remove_user(actor: Actor, project: Project, command: Command) -> OdpsResult:
    ram_user = _member_to_change(actor, command)
    remove_member(actor=actor, project=project, ram_user=ram_user, decided_on=command.rule.decided_on)
    return {"Result": "OK", "Removed": ram_user.principal}


def _grant(actor: Actor, project: Project, command: Command) -> OdpsResult:
    ram_user = _member_to_change(actor, command)
    granted = grant_roles(actor=actor, project=project, ram_user=ram_user, roles=list(command.roles))
    return {"Result": "OK", "Principal": ram_user.principal, "Granted": granted}


def _revoke(actor: Actor, project: Project, command: Command) -> OdpsResult:
    ram_user = _member_to_change(actor, command)
    revoked = revoke_roles(
        actor=actor, project=project, ram_user=ram_user, roles=list(command.roles), decided_on=command.rule.decided_on
    )
    return {"Result": "OK", "Principal": ram_user.principal, "Revoked": revoked}


def _show_grants(actor: Actor, project: Project, command: Command) -> OdpsResult:
    """The user's roles, and check_permission's every decision for it here on the api channel."""
    user = _principal_user(actor.account, command.principal) if command.principal else actor.person
    cache = PermissionCache()
    decisions = [
        (row, check_permission(user, project, row.operation, Channel.API, cache=cache))
        for row in MATRIX
        if row.channel == Channel.API
    ]

    def listed(allowed: bool) -> list[dict[str, str]]:
        return [
            {"Operation": row.operation, "Description": row.description, "Reason": decision.reason}
            for row, decision in decisions
            if decision.allowed is allowed
        ]

    return {
        "Principal": user.principal,
        "Project": project.name,
        "Channel": Channel.API.value,
        "IsProjectOwner": user.is_owner,
        "Roles": sorted(roles_in(user, project, cache)),
        # Where each role comes from: the user's own grant ("direct") or its groups' ("via group data-eng").
        "RoleSources": {
            role: source_words(sources) or "direct"
            for role, sources in (role_sources(user, project) if not user.is_owner else {}).items()
        },
        "Allowed": listed(True),
        "Refused": listed(False),
        # The changing commands, by the rules beside the parser (revoke and remove user are judged apart).
        "Commands": [
            {"Command": verb, "Allowed": decision.allowed, "Reason": decision.reason}
            for verb, rule in COMMAND_RULES.items()
            if rule.is_change
            for decision in [check_permission(user, project, rule.operation, rule.decided_on, cache=cache)]
        ],
    }


COMMANDS: dict[str, Callable[[Actor, Project, Command], OdpsResult]] = {
    "whoami": _whoami,
    "list users": _list_users,
    "list roles": _list_roles,
    "show grants": _show_grants,
    "show grants for": _show_grants,
    "add user": _add_user,
    "remove user": _remove_user,
    "grant": _grant,
    "revoke": _revoke,
}
