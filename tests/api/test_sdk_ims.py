"""IMS (2019-08-15) on the portal's endpoint (issue 16, item 3), through the official `alibabacloud-ims20190815` SDK
with both of its signatures: the default domain is the enterprise alias, with the same rules, hold and audit event as
RAM's SetAccountAlias and the console's "Update default domain"."""

import pytest
from alibabacloud_ims20190815 import models as ims
from alibabacloud_ims20190815.client import Client as ImsClient
from Tea.exceptions import TeaException

from accounts.models import AliasHold, PrimaryAccount
from accounts.services.alias import clear_enterprise_alias, set_enterprise_alias
from portal.models import AuditEvent
from tests.api.conftest import issue_key, ram_client
from tests.conftest import make_ram_user
from tests.db_state import database_state


@pytest.fixture(params=["acs3", "v2"])
def ims_sdk(request, live_server, owner_key) -> ImsClient:
    return ram_client(
        live_server, *owner_key, signature_algorithm=None if request.param == "acs3" else "v2", product=ImsClient
    )


def test_the_default_domain_is_the_alias_s_and_setting_it_sets_the_alias(ims_sdk, owner):
    account_id = owner.account.account_id
    assert ims_sdk.get_default_domain().body.default_domain_name == f"{account_id}.onaliyun.com"
    answer = ims_sdk.set_default_domain(ims.SetDefaultDomainRequest(default_domain_name="Acme-Data.onaliyun.com"))
    assert answer.body.default_domain_name == "acme-data.onaliyun.com"
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias == "acme-data"
    assert ims_sdk.get_default_domain().body.default_domain_name == "acme-data.onaliyun.com"
    event = AuditEvent.objects.get(action="alias.set")
    assert event.channel == "api" and event.details == {"old": None, "new": "acme-data"}


def test_default_domain_errors_change_nothing(ims_sdk, owner, other_owner):
    set_enterprise_alias(actor=other_owner.actor, otp_code=other_owner.code(), alias="taken-one")
    set_enterprise_alias(actor=other_owner.actor, otp_code=other_owner.code(), alias="second-one")  # holds taken-one
    clear_enterprise_alias(actor=other_owner.actor, otp_code=other_owner.code())  # and now second-one
    assert AliasHold.objects.filter(alias="second-one").exists()
    before = database_state()
    for domain, code in (
        ("taken-one.onaliyun.com", "EntityAlreadyExists.DefaultDomainName"),  # held 30 days for its account
        ("second-one.onaliyun.com", "EntityAlreadyExists.DefaultDomainName"),
        ("acme.example.com", "InvalidParameter.DefaultDomainName"),
        (".onaliyun.com", "InvalidParameter.DefaultDomainName"),
        ("-bad--alias.onaliyun.com", "InvalidParameter.DefaultDomainName"),
    ):
        with pytest.raises(TeaException) as refused:
            ims_sdk.set_default_domain(ims.SetDefaultDomainRequest(default_domain_name=domain))
        assert refused.value.code == code, domain
    assert database_state() == before


def test_only_the_owner_sets_the_default_domain_and_administrators_read_it(live_server, owner):
    admin = ram_client(
        live_server,
        *issue_key(make_ram_user(owner, "admin", policies=("AliyunRAMFullAccess",))),
        product=ImsClient,
    )
    before = database_state()
    with pytest.raises(TeaException) as refused:
        admin.set_default_domain(ims.SetDefaultDomainRequest(default_domain_name="acme-data.onaliyun.com"))
    assert refused.value.code == "NoPermission"
    assert database_state() == before
    assert admin.get_default_domain().body.default_domain_name.endswith(".onaliyun.com")
    nobody = ram_client(live_server, *issue_key(make_ram_user(owner, "nobody")), product=ImsClient)
    with pytest.raises(TeaException) as refused:
        nobody.get_default_domain()
    assert refused.value.code == "NoPermission"
