"""The credential report through the official IMS SDK (issue 16, item 4): GenerateCredentialReport, then
GetCredentialReport's base64 CSV in RAM's columns — `<root>` first, then each RAM user by principal name — parsed and
checked against the users made; paged by MaxItems/NextToken; no secret anywhere in it."""

import base64
import csv
import io

import pytest
from alibabacloud_ims20190815 import models as ims
from alibabacloud_ims20190815.client import Client as ImsClient
from django.utils import timezone
from Tea.exceptions import TeaException

from accounts.models import AccessKey, CredentialReport, User
from accounts.services.access_keys import set_access_key_status
from accounts.services.otp import new_authenticator
from portal.models import AuditEvent
from tests.api.conftest import issue_key, ram_client
from tests.conftest import make_ram_user


def rows_of(answer) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(base64.b64decode(answer.body.content).decode())))


@pytest.fixture(params=["acs3", "v2"])
def ims_sdk(request, live_server, owner_key) -> ImsClient:
    algorithm = None if request.param == "acs3" else "v2"
    return ram_client(live_server, *owner_key, signature_algorithm=algorithm, product=ImsClient)


def test_the_report_lists_root_then_each_user_as_made(ims_sdk, owner, owner_key):
    with pytest.raises(TeaException) as missing:
        ims_sdk.get_credential_report(ims.GetCredentialReportRequest())
    assert missing.value.code == "EntityNotExist.CredentialReport"

    alice = make_ram_user(owner, "alice")  # console logon, a password
    new_authenticator(user=alice.user, name="phone", confirmed=True)
    alice_keys = [issue_key(alice)[0], issue_key(alice)[0]]
    set_access_key_status(
        actor=owner.actor, access_key=AccessKey.objects.get(access_key_id=alice_keys[1]), is_active=False
    )
    User.objects.filter(pk=alice.user.pk).update(last_login=timezone.now())
    make_ram_user(owner, "bob", console_logon=False)  # nothing at all

    assert ims_sdk.generate_credential_report().body.state == "COMPLETE"
    answer = ims_sdk.get_credential_report(ims.GetCredentialReportRequest())
    rows = rows_of(answer)
    assert answer.body.generated_time and answer.body.is_truncated is False
    domain = f"{owner.account.account_id}.onaliyun.com"
    assert [row["user"] for row in rows] == ["<root>", f"alice@{domain}", f"bob@{domain}"]
    root, alice_row, bob_row = rows
    assert root["password_exist"] == "TRUE" and root["mfa_active"] == "TRUE"
    assert root["access_key_1_exist"] == "TRUE" and root["access_key_1_active"] == "TRUE"
    assert root["access_key_1_last_used"] != "-"  # the key that signs this very call
    assert (alice_row["password_exist"], alice_row["password_active"], alice_row["mfa_active"]) == ("TRUE",) * 3
    assert alice_row["user_last_logon"] != "-" and alice_row["password_next_rotation"] == "N/A"
    assert (alice_row["access_key_1_active"], alice_row["access_key_2_active"]) == ("TRUE", "FALSE")
    assert alice_row["access_key_1_last_used"] == "-"
    assert (bob_row["password_exist"], bob_row["password_active"], bob_row["mfa_active"]) == ("FALSE", "N/A", "FALSE")
    assert (bob_row["user_last_logon"], bob_row["access_key_1_exist"], bob_row["access_key_1_active"]) == (
        "-",
        "FALSE",
        "N/A",
    )
    content = CredentialReport.objects.get(account=owner.account).content
    assert owner_key[1] not in content and "$" not in content  # no secret, no password hash
    assert AuditEvent.objects.get(action="credential_report.generate").details == {"users": 2}


def test_the_report_is_paged_and_readers_only_get_it(live_server, ims_sdk, owner):
    for name in ("ann", "ben", "cid"):
        make_ram_user(owner, name)
    ims_sdk.generate_credential_report()
    first = ims_sdk.get_credential_report(ims.GetCredentialReportRequest(max_items=2))
    assert [row["user"].split("@")[0] for row in rows_of(first)] == ["<root>", "ann"]
    assert first.body.is_truncated and first.body.next_token == "2"
    second = ims_sdk.get_credential_report(ims.GetCredentialReportRequest(max_items=2, next_token="2"))
    assert [row["user"].split("@")[0] for row in rows_of(second)] == ["ben", "cid"]
    assert second.body.is_truncated is False
    with pytest.raises(TeaException) as bad:
        ims_sdk.get_credential_report(ims.GetCredentialReportRequest(next_token="x"))
    assert bad.value.code == "InvalidParameter.NextToken"
    reader_key = issue_key(make_ram_user(owner, "reader", policies=("AliyunRAMReadOnlyAccess",)))
    reader = ram_client(live_server, *reader_key, product=ImsClient)
    assert rows_of(reader.get_credential_report(ims.GetCredentialReportRequest()))[0]["user"] == "<root>"
    with pytest.raises(TeaException) as refused:
        reader.generate_credential_report()  # a new report is a change: RAM administrators only
    assert refused.value.data["AccessDeniedDetail"]["MissingPolicy"] == "AliyunRAMFullAccess"
    nobody = ram_client(live_server, *issue_key(make_ram_user(owner, "nobody")), product=ImsClient)
    for call in (
        nobody.generate_credential_report,
        lambda: nobody.get_credential_report(ims.GetCredentialReportRequest()),
    ):
        with pytest.raises(TeaException) as refused:
            call()
        assert refused.value.code == "NoPermission"
