"""The tests' "nothing changed" covers every installed model, or says why not."""

from django.apps import apps
from django.utils import timezone

from accounts.actors import operator_actor
from accounts.models import AccessKey, DeliveryPacket
from accounts.services.access_keys import issue_access_key
from tests import db_state


def test_every_model_is_in_the_state_or_left_out_with_a_reason():
    compared = {model._meta.label for model in db_state.compared_models()}
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label
        assert label in compared or db_state.LEFT_OUT.get(label), f"{label} is neither compared nor left out"
    assert {"accounts.AccessKey", "accounts.DeliveryPacket", "accounts.PacketEmail", "accounts.AliasHold"} <= compared
    assert {"portal.SeenNonce", "sessions.Session", "accounts.OneTimeReveal", "otp_totp.TOTPDevice"} <= compared
    for label in (*db_state.LEFT_OUT, *db_state.VOLATILE, *db_state.OPTIONAL):
        apps.get_model(label)  # every name in the lists is a real model: a rename must not leave a stale one


def test_the_state_sees_what_it_compares_and_only_volatile_columns_move_unseen(owner, ram_user):
    issued = issue_access_key(actor=operator_actor(owner.account), holder=ram_user.user, otp_code=None)
    before = db_state.database_state()
    DeliveryPacket.objects.filter(pk=issued.packet.pk).update(email_to="someone@example.com")
    assert db_state.database_state() != before  # packets were left out before

    before, with_use = db_state.database_state(), db_state.database_state(with_request_records=True)
    AccessKey.objects.filter(pk=issued.access_key.pk).update(last_used_at=timezone.now(), last_used_channel="api")
    assert db_state.database_state() == before  # a key's use is a record of a request, not a change
    assert db_state.database_state(with_request_records=True) != with_use
