"""RAM actions on AccessKeys ("Create AccessKey", "Enable", "Disable", "Delete").

Without UserName an action is about the caller's own keys: a RAM user's, or the primary account's for its owner.
"""

from django.core.exceptions import PermissionDenied, ValidationError

from accounts.actors import Actor
from accounts.api.registry import (
    ApiError,
    Params,
    ResponseFields,
    action,
    error_code,
    find_user,
    is_self,
    iso,
    require_reader,
    translate,
)
from accounts.models import AccessKey, User
from accounts.services.access_keys import delete_access_key, issue_access_key, set_access_key_status
from accounts.services.packets import release_shown_secrets

STATUSES = {"Active": True, "Inactive": False}


def key_holder(actor: Actor, params: Params) -> User:
    """Whose keys the request is about. One's own are always readable (the services decide about changes);
    naming someone else needs read access before any lookup."""
    name = params.get("UserName")
    if not name or is_self(actor, name):
        return actor.person
    require_reader(actor)
    return find_user(actor, params).user


def find_key(holder: User, params: Params) -> AccessKey:
    access_key_id = params.required("UserAccessKeyId")
    access_key: AccessKey | None = (
        AccessKey.objects.filter(user=holder, access_key_id=access_key_id).select_related("user").first()
    )
    if access_key is None:
        raise ApiError("EntityNotExist.User.AccessKey", f"The AccessKey does not exist: {access_key_id}.", 404)
    return access_key


@action("CreateAccessKey")
def create_access_key(actor: Actor, params: Params) -> ResponseFields:
    holder = key_holder(actor, params)
    try:
        issued = issue_access_key(actor=actor, holder=holder, otp_code=None)
    except ValidationError as error:
        if error_code(error) == "limit_exceeded":
            raise ApiError("LimitExceeded.User.AccessKey", " ".join(error.messages), 409) from None
        raise translate(error, entity="AccessKey") from None
    except PermissionDenied as error:
        raise translate(error) from None
    if issued.packet is not None:
        # The secret leaves in this answer: the copy sealed for delivery goes, as on the issuing page.
        release_shown_secrets(actor=actor, packet=issued.packet)
    access_key = issued.access_key
    return {
        "AccessKey": {
            "AccessKeyId": access_key.access_key_id,
            "AccessKeySecret": issued.secret,
            "Status": access_key.status,
            "CreateDate": iso(access_key.created_at),
        }
    }


@action("ListAccessKeys")
def list_access_keys(actor: Actor, params: Params) -> ResponseFields:
    holder = key_holder(actor, params)
    keys = [
        {"AccessKeyId": key.access_key_id, "Status": key.status, "CreateDate": iso(key.created_at)}
        for key in AccessKey.objects.of_user(holder)
    ]
    return {"AccessKeys": {"AccessKey": keys}}


@action("UpdateAccessKey")
def update_access_key(actor: Actor, params: Params) -> ResponseFields:
    holder = key_holder(actor, params)
    access_key = find_key(holder, params)
    status = params.required("Status")
    if status not in STATUSES:
        raise ApiError("InvalidParameter.Status", "The parameter Status must be Active or Inactive.")
    try:
        set_access_key_status(actor=actor, access_key=access_key, is_active=STATUSES[status])
    except (PermissionDenied, ValidationError) as error:
        raise translate(error, entity="AccessKey") from None
    return {}


@action("DeleteAccessKey")
def delete_access_key_action(actor: Actor, params: Params) -> ResponseFields:
    holder = key_holder(actor, params)
    access_key = find_key(holder, params)
    try:
        delete_access_key(actor=actor, access_key=access_key)
    except ValidationError as error:
        if error_code(error) == "delete_active_key":
            raise ApiError(
                "DeleteConflict.AccessKey.Active",
                "The AccessKey is active: set its Status to Inactive before deleting it.",
                409,
            ) from None
        raise translate(error, entity="AccessKey") from None
    except PermissionDenied as error:
        raise translate(error) from None
    return {}


@action("GetAccessKeyLastUsed")
def get_access_key_last_used(actor: Actor, params: Params) -> ResponseFields:
    access_key = find_key(key_holder(actor, params), params)
    return {"AccessKeyLastUsed": {"LastUsedDate": iso(access_key.last_used_at)}}
