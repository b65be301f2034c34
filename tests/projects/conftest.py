import pytest

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key
from projects.services import create_project


@pytest.fixture
def project(owner):
    """The account's project sales_dw (made through the owner's AccessKey, as the console's operator makes it)."""
    operator = operator_actor(owner.account)
    issue_access_key(actor=operator, holder=owner.user, otp_code=None)
    return create_project(actor=operator, name="sales_dw")
