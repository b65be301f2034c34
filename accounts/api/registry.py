"""The OpenAPI's actions: each a function of (actor, params) → response fields, registered by product version and
name. One endpoint serves every product (RAM 2015-05-01, IMS 2019-08-15, STS 2015-04-01): the same signature check,
authorisation, services and audit events; only the table of actions differs."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import overload

from django.core.exceptions import PermissionDenied, ValidationError

from accounts.actors import Actor
from accounts.models import RamUser
from accounts.permissions import can_read_ram, ensure_can_write_ram

DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
NO_PERMISSION = "You are not authorized to do this action. You should be authorized by RAM."

# What an action answers: RAM's response fields (the endpoint adds the RequestId), all of them JSON.
type JsonValue = str | int | float | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None
type ResponseFields = dict[str, JsonValue]
type Handler = Callable[[Actor, Params], ResponseFields]

RAM_VERSION = "2015-05-01"
STS_VERSION = "2015-04-01"
IMS_VERSION = "2019-08-15"
# Version → (the service a key's use is recorded under, the product's actions by name).
PRODUCTS: dict[str, tuple[str, dict[str, Handler]]] = {
    RAM_VERSION: ("ram", {}),
    STS_VERSION: ("sts", {}),
    IMS_VERSION: ("ims", {}),
}
ACTIONS = PRODUCTS[RAM_VERSION][1]  # the RAM API's


class ApiError(Exception):
    """An answer in RAM's error shape: Code, Message and the HTTP status; for NoPermission, the system policy that
    would have allowed the action where one would (the endpoint adds it to the answer's AccessDeniedDetail); for
    Throttling, when to try again (in the headers the SDKs read)."""

    def __init__(
        self, code: str, message: str, status: int = 400, *, missing_policy: str = "", retry_after_ms: int = 0
    ) -> None:
        self.code, self.message, self.status = code, message, status
        self.missing_policy = missing_policy
        self.retry_after_ms = retry_after_ms
        super().__init__(message)


def action(name: str, *, version: str = RAM_VERSION) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        PRODUCTS[version][1][name] = function
        return function

    return register


@dataclass(frozen=True)
class Params:
    """The request's parameters, with RAM's errors for missing or malformed ones."""

    values: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.values

    def required(self, name: str) -> str:
        value = self.values.get(name, "")
        if value == "":
            raise ApiError(
                f"MissingParameter.{name}",
                f"The input parameter {name} that is mandatory for processing this request is not supplied.",
            )
        return value

    @overload
    def boolean(self, name: str, default: bool) -> bool: ...
    @overload
    def boolean(self, name: str, default: None = None) -> bool | None: ...
    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ApiError(f"InvalidParameter.{name}", f"The parameter {name} must be true or false.")

    @overload
    def integer(self, name: str, default: int, *, low: int | None = None, high: int | None = None) -> int: ...
    @overload
    def integer(
        self, name: str, default: None = None, *, low: int | None = None, high: int | None = None
    ) -> int | None: ...
    def integer(
        self, name: str, default: int | None = None, *, low: int | None = None, high: int | None = None
    ) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ApiError(f"InvalidParameter.{name}", f"The parameter {name} must be a whole number.") from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise ApiError(f"InvalidParameter.{name}", f"The parameter {name} must be between {low} and {high}.")
        return number


def iso(value: datetime | None) -> str | None:
    return value.strftime(DATE_FORMAT) if value else None


def require_reader(actor: Actor) -> None:
    """Reading RAM needs the owner's key or AliyunRAMReadOnlyAccess (or more)."""
    if actor.user is not None and not can_read_ram(actor.user):
        raise ApiError("NoPermission", NO_PERMISSION, 403, missing_policy="AliyunRAMReadOnlyAccess")


def require_writer(actor: Actor) -> None:
    """The services' own check, made before any lookup so that a caller without rights learns nothing
    about which names exist."""
    try:
        ensure_can_write_ram(actor)
    except PermissionDenied as error:
        refused = translate(error)
        refused.missing_policy = "AliyunRAMFullAccess"
        raise refused from None


def is_self(actor: Actor, name: str) -> bool:
    """Whether `name` is the calling RAM user's own."""
    user = actor.user
    return user is not None and not user.is_owner and user.ram_user.name.lower() == name.lower()


def find_user(actor: Actor, params: Params, field: str = "UserName") -> RamUser:
    name = params.required(field)
    ram_user = RamUser.objects.named(account=actor.account, name=name)
    if ram_user is None:
        raise ApiError("EntityNotExist.User", f"The user does not exist: {name}.", 404)
    return ram_user


def readable_user(actor: Actor, params: Params) -> RamUser:
    """The named RAM user, for reading: one's own entry always, anyone's with read access."""
    if not is_self(actor, params.required("UserName")):
        require_reader(actor)
    return find_user(actor, params)


def error_code(error: ValidationError) -> str | None:
    """A service's code for a single-message refusal (errors by field carry none)."""
    return getattr(error, "code", None)


def translate(error: Exception, *, entity: str = "User", fields: dict[str, str] | None = None) -> ApiError:
    """A service's refusal in RAM's words; `fields` names the request parameter behind a service's field."""
    if isinstance(error, PermissionDenied):
        return ApiError("NoPermission", f"You are not authorized to do this action. {error}", 403)
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            field, messages = next(iter(error.message_dict.items()))
            name = (fields or {}).get(field) or _param_name(field)
            return ApiError(f"InvalidParameter.{name}", " ".join(messages))
        return ApiError(f"InvalidParameter.{entity}", " ".join(error.messages))
    raise error


def _param_name(field: str) -> str:
    return "".join(part.capitalize() for part in field.split("_"))
