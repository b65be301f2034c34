"""IMS (2019-08-15), the RAM console's own API generation, on the same endpoint: the default domain so far
("Update default domain" is the enterprise alias: `<alias>.<PORTAL_DOMAIN_SUFFIX>`)."""

from django.conf import settings

from accounts.actors import Actor
from accounts.api.registry import IMS_VERSION, ApiError, Params, ResponseFields, action, require_reader
from accounts.api.settings import set_alias


@action("GetDefaultDomain", version=IMS_VERSION)
def get_default_domain(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    return {"DefaultDomainName": actor.account.logon_domain}


@action("SetDefaultDomain", version=IMS_VERSION)
def set_default_domain(actor: Actor, params: Params) -> ResponseFields:
    domain = params.required("DefaultDomainName")
    suffix = f".{settings.PORTAL_DOMAIN_SUFFIX}"
    alias = domain[: -len(suffix)] if domain.lower().endswith(suffix.lower()) else ""
    if not alias:
        raise ApiError(
            "InvalidParameter.DefaultDomainName",
            f"The default domain name must be <alias>{suffix}, the alias being 3 to 32 letters, digits or hyphens.",
        )
    return {"DefaultDomainName": set_alias(actor, alias, parameter="DefaultDomainName").logon_domain}
