"""RAM actions on policies ("Authorize a RAM account"): the system policies and their attachment to RAM users.

The portal has system policies only; a custom policy is one that does not exist.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count

from accounts.actors import Actor
from accounts.api.registry import (
    ApiError,
    Params,
    ResponseFields,
    action,
    find_user,
    iso,
    readable_user,
    require_reader,
    require_writer,
    translate,
)
from accounts.models import PolicyAttachment
from accounts.policies import SYSTEM_POLICIES, SYSTEM_POLICIES_BY_NAME, SystemPolicy
from accounts.services import has_code
from accounts.services.policies import attach_policy, detach_policy

POLICY_TYPES = ("System", "Custom")
DEFAULT_VERSION = "v1"


def policy_type(params: Params, *, required: bool) -> str:
    value = params.required("PolicyType") if required else params.get("PolicyType")
    if value and value not in POLICY_TYPES:
        raise ApiError("InvalidParameter.PolicyType", "The parameter PolicyType must be System or Custom.")
    return value


def find_policy(params: Params) -> SystemPolicy:
    kind = policy_type(params, required=True)
    name = params.required("PolicyName")
    policy = SYSTEM_POLICIES_BY_NAME.get(name) if kind == "System" else None
    if policy is None:
        raise ApiError("EntityNotExist.Policy", f"The policy does not exist: {name}.", 404)
    return policy


@action("ListPolicies")
def list_policies(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    kind = policy_type(params, required=False)
    max_items = params.integer("MaxItems", 100, low=1, high=1000)
    marker = params.get("Marker")
    policies: list[SystemPolicy] = [] if kind == "Custom" else sorted(SYSTEM_POLICIES, key=lambda policy: policy.name)
    policies = [policy for policy in policies if policy.name > marker] if marker else policies
    page, truncated = policies[:max_items], len(policies) > max_items
    counts: dict[str, int] = dict(
        PolicyAttachment.objects.filter(ram_user__account=actor.account)
        .values_list("policy_name")
        .annotate(count=Count("pk"))
        .values_list("policy_name", "count")
    )
    body: ResponseFields = {
        "IsTruncated": truncated,
        "Policies": {
            "Policy": [
                {
                    "PolicyName": policy.name,
                    "PolicyType": "System",
                    "Description": policy.description,
                    "DefaultVersion": DEFAULT_VERSION,
                    "AttachmentCount": counts.get(policy.name, 0),
                }
                for policy in page
            ]
        },
    }
    if truncated:
        body["Marker"] = page[-1].name
    return body


@action("AttachPolicyToUser")
def attach_policy_to_user(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    policy = find_policy(params)
    ram_user = find_user(actor, params)
    try:
        attach_policy(actor=actor, ram_user=ram_user, policy_name=policy.name)
    except ValidationError as error:
        if has_code(error, "attached"):
            raise ApiError(
                "EntityAlreadyExists.User.Policy", f"{policy.name} is already attached to {ram_user.name}.", 409
            ) from None
        raise translate(error, fields={"policy_name": "PolicyName"}) from None
    except PermissionDenied as error:
        raise translate(error) from None
    return {}


@action("DetachPolicyFromUser")
def detach_policy_from_user(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    policy = find_policy(params)
    ram_user = find_user(actor, params)
    try:
        detach_policy(actor=actor, ram_user=ram_user, policy_name=policy.name)
    except ValidationError as error:
        if has_code(error, "not_attached"):
            raise ApiError(
                "EntityNotExist.User.Policy", f"{policy.name} is not attached to {ram_user.name}.", 404
            ) from None
        raise translate(error, fields={"policy_name": "PolicyName"}) from None
    except PermissionDenied as error:
        raise translate(error) from None
    return {}


@action("ListPoliciesForUser")
def list_policies_for_user(actor: Actor, params: Params) -> ResponseFields:
    ram_user = readable_user(actor, params)
    return {
        "Policies": {
            "Policy": [
                {
                    "PolicyName": attachment.policy_name,
                    "PolicyType": "System",
                    "Description": SYSTEM_POLICIES_BY_NAME[attachment.policy_name].description,
                    "DefaultVersion": DEFAULT_VERSION,
                    "AttachDate": iso(attachment.attached_at),
                }
                for attachment in ram_user.policy_attachments.all()
            ]
        }
    }
