"""STS (2015-04-01) on the same endpoint: GetCallerIdentity, which any valid AccessKey may call — a RAM user's without
a single policy too, since it tells the caller only who the caller is."""

from accounts.actors import Actor
from accounts.api.registry import STS_VERSION, Params, ResponseFields, action


@action("GetCallerIdentity", version=STS_VERSION)
def get_caller_identity(actor: Actor, params: Params) -> ResponseFields:
    account_id = actor.account.account_id
    user = actor.user
    assert user is not None, "a signed request acts as its key's holder"
    if user.is_owner:
        return {
            "IdentityType": "Account",
            "AccountId": account_id,
            "UserId": account_id,
            "PrincipalId": account_id,
            "Arn": f"acs:ram::{account_id}:root",
        }
    ram_user = user.ram_user
    return {
        "IdentityType": "RAMUser",
        "AccountId": account_id,
        "UserId": str(ram_user.pk),  # as GetUser gives it
        "PrincipalId": str(ram_user.pk),
        "Arn": f"acs:ram::{account_id}:user/{ram_user.name}",
    }
