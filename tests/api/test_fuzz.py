"""Random parameters, correctly signed with real keys: never a 500, always RAM's JSON shape with a RequestId."""

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.api import endpoint  # noqa: F401 - every action module registered
from accounts.api.registry import ACTIONS
from accounts.services.mfa import create_virtual_mfa_device, serial_number
from tests.api.conftest import issue_key, signed_query
from tests.conftest import make_ram_user

PARAMETERS = (
    "UserName",
    "GroupName",
    "NewGroupName",
    "NewComments",
    "NewUserName",
    "DisplayName",
    "NewDisplayName",
    "Email",
    "NewEmail",
    "MobilePhone",
    "Comments",
    "Marker",
    "MaxItems",
    "Password",
    "PasswordResetRequired",
    "MFABindRequired",
    "OldPassword",
    "NewPassword",
    "UserAccessKeyId",
    "Status",
    "AccountAlias",
    "AllowUserToChangePassword",
    "AllowUserToManageAccessKeys",
    "AllowUserToManageMFADevices",
    "AllowUserToManagePublicKeys",
    "EnableSaveMFATicket",
    "LoginSessionDuration",
    "LoginNetworkMasks",
    "MinimumPasswordLength",
    "RequireLowercaseCharacters",
    "RequireNumbers",
    "MaxPasswordAge",
    "PasswordReusePrevention",
    "MaxLoginAttemps",
    "HardExpiry",
    "PolicyType",
    "PolicyName",
    "VirtualMFADeviceName",
    "SerialNumber",
    "AuthenticationCode1",
    "AuthenticationCode2",
)
TYPICAL = (
    "",
    "true",
    "False",
    "Active",
    "Inactive",
    "System",
    "Custom",
    "alice",
    "ALICE",
    "bob",
    "0",
    "-1",
    "25",
    "1e3",
    "99999999999999999999999",
    "10.0.0.0/8;;300.1.1.1",
    "AdministratorAccess",
    "acme-data",
    "x" * 300,
    "a@" + "b" * 260 + ".com",
    "Granite-Meadow-Orbit-8841",
    "123456",
    "<serial>",  # the account's virtual MFA device
    "<alice's key>",  # her second key, not the one she signs with
)


ACTION_NAMES = (*sorted(ACTIONS), "NoSuchAction")
VALUES = st.one_of(st.sampled_from(TYPICAL), st.text(max_size=40), st.integers().map(str))
PARAMS = st.fixed_dictionaries({}, optional=dict.fromkeys(PARAMETERS, VALUES))


def post_signed(client: Client, key: tuple[str, str], action: str, params: dict):
    return client.post(f"/?{signed_query(*key, {'Action': action, **params})}")


def test_random_parameters_never_get_a_500(owner, owner_key):
    alice = make_ram_user(owner, "alice")
    keys = {"owner": owner_key, "plain RAM user": issue_key(alice)}
    make_ram_user(owner, "bob", policies=("AliyunRAMReadOnlyAccess",))
    device = create_virtual_mfa_device(actor=owner.actor, name="spare")
    spare_key_id, _ = issue_key(alice)
    stand_ins = {"<serial>": serial_number(owner.account, device), "<alice's key>": spare_key_id}
    client = Client()

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(action=st.sampled_from(ACTION_NAMES), params=PARAMS, signer=st.sampled_from(sorted(keys)))
    def one_request(action, params, signer):
        params = {name: stand_ins.get(value, value) for name, value in params.items()}
        # The callers' keys stay usable, so that every example reaches an action.
        if params.get("UserAccessKeyId") in {key_id for key_id, _ in keys.values()}:
            del params["UserAccessKeyId"]
        response = post_signed(client, keys[signer], action, params)
        assert response.status_code < 500, response.content
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["RequestId"]
        if response.status_code >= 400:
            assert isinstance(body["Code"], str) and body["Code"] and isinstance(body["Message"], str)
            assert body["Code"] not in ("SignatureDoesNotMatch", "SignatureNonceUsed", "InvalidTimeStamp.Expired")
        else:
            assert response.status_code == 200 and "Code" not in body

    one_request()
