"""The enterprise alias ("Update default domain"): format, OTP, the logon link, holds, uniqueness and races."""

import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.actors import operator_actor
from accounts.models import AliasHold, DeliveryPacket, PrimaryAccount
from accounts.services.alias import (
    RESERVED_ALIASES,
    alias_change_impact,
    alias_problems,
    clear_enterprise_alias,
    set_enterprise_alias,
)
from portal.audit import record_event
from portal.models import AuditEvent
from tests.accounts.test_concurrency import run_concurrently
from tests.accounts.test_forms_reject_bad_input import assert_rejected, code_unspent, wrong_code
from tests.conftest import RAM_PASSWORD, make_owner, make_ram_user, signed_in
from tests.db_state import actions_since, database_state, last_event_id

PAGE = "accounts:update-default-domain"
CLEAR = "accounts:clear-enterprise-alias"


def set_alias(person, alias: str) -> PrimaryAccount:
    """An operator sets the alias (no code needed), as `manage.py` would."""
    account = set_enterprise_alias(actor=operator_actor(person.account), otp_code=None, alias=alias)
    person.account.refresh_from_db()
    return account


def sign_in_at(domain: str, login: str):
    return Client().post(reverse("accounts:ram-sign-in", args=[domain]), {"login": login, "password": RAM_PASSWORD})


def travel(**delta):
    return time_machine.travel(timezone.now() + timedelta(**delta))


# --- Format --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alias", ["abc", "acme", "acme-corp", "a-b-c", "a1b", "123abc", "abc123", "9-9", "x" * 50])
def test_well_formed_aliases_have_no_problems(alias):
    assert alias_problems(alias) == []


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("", "Use 3–50 characters."),
        ("ab", "Use 3–50 characters."),
        ("x" * 51, "Use 3–50 characters."),
        ("-acme", "cannot start or end with a hyphen"),
        ("acme-", "cannot start or end with a hyphen"),
        ("ac--me", "Use single hyphens"),
        ("12345", "digits only"),
        ("1234567890123456", "digits only"),
        ("ac_me", "Use only lowercase letters, digits and hyphens"),
        ("ac.me", "Use only lowercase letters, digits and hyphens"),
        ("ac me", "Use only lowercase letters, digits and hyphens"),
        ("äcme", "Use only lowercase letters, digits and hyphens"),
        ("Acme", "Use only lowercase letters, digits and hyphens"),  # the service lowercases before it asks
        ("admin", "is a reserved word"),
        ("www", "is a reserved word"),
        ("aliyun", "is a reserved word"),
        ("signin", "is a reserved word"),
    ],
)
def test_malformed_aliases_are_named(alias, message):
    assert any(message in problem for problem in alias_problems(alias)), alias_problems(alias)


def test_the_reserved_words_include_the_obvious_ones():
    assert {"www", "admin", "administrator", "root", "api", "signin", "signup", "login", "logon", "console"} <= (
        RESERVED_ALIASES
    )
    assert {"ram", "aliyun", "alibaba", "alibabacloud", "help", "support", "static", "mail"} <= RESERVED_ALIASES
    assert {"account", "accounts", "security", "portal", "test"} <= RESERVED_ALIASES
    assert all(alias == alias.lower() and len(alias) >= 3 for alias in RESERVED_ALIASES)


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("ab", "Use 3–50 characters."),
        ("x" * 51, "Use 3–50 characters."),
        ("-acme", "cannot start or end with a hyphen"),
        ("acme-", "cannot start or end with a hyphen"),
        ("ac--me", "Use single hyphens"),
        ("2024", "digits only"),
        ("ac_me", "Use only lowercase letters, digits and hyphens"),
        ("ADMIN", "is a reserved word"),
        ("", "This field is required."),
    ],
)
def test_the_page_rejects_a_bad_alias_beside_the_field_without_spending_the_code(owner, alias, message):
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse(PAGE), {"alias": alias, "otp_code": owner.code()})
    assert_rejected(response, message, field="alias")
    assert database_state() == before
    assert code_unspent(owner)


def test_uppercase_is_normalised_to_lowercase(owner, ram_user):
    response = signed_in(owner).post(reverse(PAGE), {"alias": "  Acme-Corp ", "otp_code": owner.code()})
    assert response.status_code == 302
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias == "acme-corp"
    assert set_alias(owner, "ACME").alias == "acme"
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias == "acme"


def test_the_service_checks_the_format_too(owner):
    before = database_state()
    for alias in ("ab", "admin", "-acme", "1234"):
        with pytest.raises(ValidationError) as refused:
            set_alias(owner, alias)
        assert "alias" in refused.value.message_dict
    assert database_state() == before


def test_an_alias_that_would_make_a_logon_name_too_long_is_refused(owner, settings):
    make_ram_user(owner, "n" * 64)
    settings.PORTAL_DOMAIN_SUFFIX = "onboarding.example-cloud-provider.example.com"
    before = database_state()
    with pytest.raises(ValidationError, match="would exceed 128 characters"):
        set_alias(owner, "a" * 30)
    assert database_state() == before


# --- Who may, and the code ----------------------------------------------------------------------------------


def test_the_alias_needs_a_code(owner):
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state()
    response = client.post(reverse(PAGE), {"alias": "acme"})
    assert_rejected(response, "This field is required.", field="otp_code")
    with pytest.raises(ValidationError) as refused:
        set_enterprise_alias(actor=owner.actor, otp_code=None, alias="acme")
    assert "otp_code" in refused.value.message_dict
    assert database_state() == before


def test_a_wrong_code_changes_nothing(owner):
    set_alias(owner, "acme")
    event_id = last_event_id()
    client = signed_in(owner)  # signed in first: its session and last login are no change
    before = database_state(with_audit=False)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        response = client.post(reverse(PAGE), {"alias": "acme-corp", "otp_code": wrong_code(owner.device)})
        assert_rejected(response, "The verification code is wrong or has already been used.", field="otp_code")
        clock.shift(timedelta(seconds=2))  # past the device's throttle after one wrong code
        response = client.post(reverse(CLEAR), {"clear-otp_code": wrong_code(owner.device)})
        assert_rejected(response, "wrong or has already been used", field="otp_code", form="clear_form")
    assert database_state(with_audit=False) == before
    assert AliasHold.objects.count() == 0
    assert actions_since(event_id) == ["otp.failed", "otp.failed"]


def test_a_used_code_is_not_accepted_twice(owner):
    code = owner.code()
    set_enterprise_alias(actor=owner.actor, otp_code=code, alias="acme")
    with pytest.raises(ValidationError):
        set_enterprise_alias(actor=owner.actor, otp_code=code, alias="acme-corp")
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias == "acme"


def test_ram_administrators_see_the_page_but_only_the_owner_changes_it(owner, ram_admin, ram_reader):
    set_alias(owner, "acme")
    for person in (ram_admin, ram_reader):
        client = signed_in(person)
        page = client.get(reverse(PAGE))
        assert page.status_code == 200
        assert not page.context["is_owner"]
        html = page.content.decode()
        assert "acme.onaliyun.com" in html
        assert 'name="otp_code"' not in html and 'name="clear-otp_code"' not in html
        before = database_state()
        assert client.post(reverse(PAGE), {"alias": "evil", "otp_code": owner.code()}).status_code == 403
        assert client.post(reverse(CLEAR), {"clear-otp_code": owner.code()}).status_code == 403
        assert database_state() == before
    with pytest.raises(PermissionDenied):
        set_enterprise_alias(actor=ram_admin.actor, otp_code="123456", alias="evil")
    with pytest.raises(PermissionDenied):
        clear_enterprise_alias(actor=ram_admin.actor, otp_code="123456")


def test_clear_is_post_only(owner):
    assert signed_in(owner).get(reverse(CLEAR)).status_code == 405


# --- The logon link ---------------------------------------------------------------------------------------


def test_after_setting_ram_users_sign_in_at_the_alias(owner, ram_user):
    response = signed_in(owner).post(reverse(PAGE), {"alias": "acme", "otp_code": owner.code()})
    assert response.status_code == 302 and response.url == reverse(PAGE)
    account = PrimaryAccount.objects.get(pk=owner.account.pk)
    assert account.alias_domain == "acme.onaliyun.com"
    assert reverse("accounts:ram-sign-in", args=[account.alias_domain]) == "/signin/acme.onaliyun.com/"
    assert sign_in_at(account.alias_domain, "alice").status_code == 302
    assert sign_in_at(account.alias_domain, f"alice@{account.alias_domain}").status_code == 302
    assert sign_in_at(account.alias_domain, f"alice@{account.default_domain}").status_code == 302
    assert sign_in_at("ACME.onaliyun.com", "alice@Acme.OnAliyun.com").status_code == 302
    # The default domain always works, with the alias logon name too.
    assert sign_in_at(account.default_domain, "alice").status_code == 302
    assert sign_in_at(account.default_domain, f"alice@{account.alias_domain}").status_code == 302


def test_after_changing_the_old_alias_stops_working_and_the_default_domain_keeps_working(owner, ram_user):
    set_alias(owner, "acme")
    old_domain = owner.account.alias_domain
    response = signed_in(owner).post(reverse(PAGE), {"alias": "acme-corp", "otp_code": owner.code()})
    assert response.status_code == 302
    account = PrimaryAccount.objects.get(pk=owner.account.pk)
    assert Client().get(reverse("accounts:ram-sign-in", args=[old_domain])).status_code == 404
    assert sign_in_at(old_domain, "alice").status_code == 404
    refused = sign_in_at(account.default_domain, f"alice@{old_domain}")
    assert refused.status_code == 200
    assert "incorrect" in refused.content.decode()
    assert sign_in_at(account.default_domain, "alice").status_code == 302
    assert sign_in_at(account.default_domain, f"alice@{account.default_domain}").status_code == 302
    assert sign_in_at(account.alias_domain, f"alice@{account.alias_domain}").status_code == 302


def test_after_clearing_only_the_default_domain_works(owner, ram_user):
    set_alias(owner, "acme")
    old_domain = owner.account.alias_domain
    response = signed_in(owner).post(reverse(CLEAR), {"clear-otp_code": owner.code()})
    assert response.status_code == 302
    account = PrimaryAccount.objects.get(pk=owner.account.pk)
    assert account.alias is None
    assert account.logon_link.endswith(f"/signin/{account.default_domain}/")
    assert sign_in_at(old_domain, "alice").status_code == 404
    assert sign_in_at(account.default_domain, f"alice@{old_domain}").status_code == 200
    assert sign_in_at(account.default_domain, "alice").status_code == 302


def test_the_logon_link_everywhere_shows_the_alias(owner, ram_user):
    set_alias(owner, "acme")
    link = "/signin/acme.onaliyun.com/"
    overview = signed_in(owner).get(reverse("accounts:overview")).content.decode()
    assert link in overview
    assert "&lt;user name&gt;@acme.onaliyun.com" in overview
    assert f'href="{reverse(PAGE)}">Update default domain</a>' in overview
    page = signed_in(owner).get(reverse(PAGE)).content.decode()
    assert link in page and owner.account.default_domain in page
    mine = signed_in(ram_user).get(reverse("accounts:my-credentials")).content.decode()
    assert link in mine
    assert "alice@acme.onaliyun.com" in mine


def test_the_settings_menu_links_to_the_page(owner, ram_reader):
    for person in (owner, ram_reader):
        page = signed_in(person).get(reverse("accounts:user-list")).content.decode()
        assert f'<a class="dropdown-item" href="{reverse(PAGE)}">Update default domain</a>' in page


# --- Uniqueness and holds --------------------------------------------------------------------------------------


def test_an_alias_is_unique_across_accounts_ignoring_case(owner, other_owner):
    set_alias(owner, "acme")
    before = database_state()
    for attempt in ("acme", "ACME", "Acme"):
        with pytest.raises(ValidationError) as refused:
            set_alias(other_owner, attempt)
        assert refused.value.message_dict == {"alias": ["This alias is taken."]}
    assert database_state() == before
    # The database itself refuses, whatever the service does.
    with pytest.raises(IntegrityError), transaction.atomic():
        PrimaryAccount.objects.filter(pk=other_owner.account.pk).update(alias="ACME")


def test_the_page_says_an_alias_is_taken(owner, other_owner):
    set_alias(other_owner, "acme")
    event_id = last_event_id()
    response = signed_in(owner).post(reverse(PAGE), {"alias": "ACME", "otp_code": owner.code()})
    assert_rejected(response, "This alias is taken.", field="alias")
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias is None
    assert actions_since(event_id) == []


def test_a_released_alias_is_held_from_other_accounts_for_30_days(owner, other_owner, settings):
    assert settings.PORTAL_ALIAS_HOLD_DAYS == 30
    set_alias(owner, "acme")
    set_alias(owner, "acme-corp")
    hold = AliasHold.objects.get(alias="acme")
    assert hold.account_id == owner.account.pk
    assert hold.held_until - hold.released_at == timedelta(days=30)
    with pytest.raises(ValidationError, match="held until"):
        set_alias(other_owner, "acme")
    with travel(days=29), pytest.raises(ValidationError, match="held until"):
        set_alias(other_owner, "ACME")
    assert PrimaryAccount.objects.get(pk=other_owner.account.pk).alias is None
    with travel(days=31):
        set_alias(other_owner, "acme")
    assert PrimaryAccount.objects.get(pk=other_owner.account.pk).alias == "acme"
    assert not AliasHold.objects.filter(alias="acme").exists()  # the expired hold went with the taking


def test_the_page_says_an_alias_is_held(owner, other_owner):
    set_alias(other_owner, "acme")
    set_alias(other_owner, "acme-corp")
    response = signed_in(owner).post(reverse(PAGE), {"alias": "acme", "otp_code": owner.code()})
    assert_rejected(response, "This alias was released recently and is held until", field="alias")
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias is None


def test_the_releasing_account_takes_its_alias_back_and_the_hold_ends(owner, other_owner):
    set_alias(owner, "acme")
    set_alias(owner, "acme-corp")
    assert set_alias(owner, "acme").alias == "acme"
    assert list(AliasHold.objects.values_list("alias", "account")) == [("acme-corp", owner.account.pk)]
    with pytest.raises(ValidationError, match="taken"):
        set_alias(other_owner, "acme")
    with pytest.raises(ValidationError, match="held until"):
        set_alias(other_owner, "acme-corp")


def test_clearing_holds_the_alias_too(owner, other_owner):
    set_alias(owner, "acme")
    clear_enterprise_alias(actor=operator_actor(owner.account), otp_code=None)
    assert AliasHold.objects.get(alias="acme").account_id == owner.account.pk
    with pytest.raises(ValidationError, match="held until"):
        set_alias(other_owner, "acme")


def test_an_alias_released_again_after_its_hold_expired_is_held_afresh(owner):
    set_alias(owner, "acme")
    set_alias(owner, "acme-corp")
    first = AliasHold.objects.get(alias="acme").held_until
    with travel(days=40):
        set_alias(owner, "acme")  # the hold has expired; taking it back deletes it
        set_alias(owner, "acme-corp-2")
        renewed = AliasHold.objects.get(alias="acme")
    assert renewed.held_until > first + timedelta(days=39)
    assert AliasHold.objects.filter(alias="acme").count() == 1


# --- Impact and the audit trail --------------------------------------------------------------------------------


def make_packet(person, ram_user, state: str) -> DeliveryPacket:
    return DeliveryPacket.objects.create(
        uid=uuid.uuid4(), account=person.account, ram_user=ram_user, state=state, created_by="test"
    )


def test_the_page_shows_the_impact_of_a_change(owner, ram_user, other_ram_user, other_owner):
    make_ram_user(owner, "bob", console_logon=False)
    carol = make_ram_user(owner, "carol")
    DeliveryPacket.objects.all().delete()  # whatever creating the users sealed: this test counts its own
    for state in ("sealed", "sent", "sent", "printed", "claimed", "expired", "revoked", "wiped"):
        make_packet(owner, carol.ram_user, state)
    make_packet(other_owner, other_ram_user.ram_user, "sealed")
    assert alias_change_impact(owner.account) == {"console_logon_users": 2, "undelivered_packets": 3}
    response = signed_in(owner).get(reverse(PAGE))
    assert response.context["impact"] == {"console_logon_users": 2, "undelivered_packets": 3}
    html = response.content.decode()
    assert '<strong data-testid="impact-users">2</strong>' in html
    assert '<strong data-testid="impact-packets">3</strong>' in html


def test_each_change_writes_exactly_one_event(owner):
    client = signed_in(owner)
    event_id = last_event_id()
    client.post(reverse(PAGE), {"alias": "acme", "otp_code": owner.code()})
    assert actions_since(event_id) == ["alias.set"]
    event = AuditEvent.objects.get(action="alias.set")
    assert event.details == {"old": None, "new": "acme"}
    assert (event.actor, event.channel, event.target) == (owner.user.principal, "console", owner.account.principal)

    event_id = last_event_id()
    set_alias(owner, "acme-corp")
    assert actions_since(event_id) == ["alias.set"]
    assert AuditEvent.objects.order_by("-pk").first().details == {"old": "acme", "new": "acme-corp"}

    event_id = last_event_id()
    before = database_state()
    assert set_alias(owner, "ACME-Corp").alias == "acme-corp"  # the same alias again: nothing happens
    assert database_state() == before
    assert actions_since(event_id) == []

    event_id = last_event_id()
    with travel(seconds=31):
        response = client.post(reverse(CLEAR), {"clear-otp_code": owner.code()})
    assert response.status_code == 302
    assert actions_since(event_id) == ["alias.clear"]
    assert AuditEvent.objects.order_by("-pk").first().details == {"old": "acme-corp", "new": None}

    event_id = last_event_id()
    clear_enterprise_alias(actor=operator_actor(owner.account), otp_code=None)  # nothing to clear
    assert actions_since(event_id) == []


def test_the_clear_form_appears_only_when_an_alias_is_set(owner):
    client = signed_in(owner)
    assert 'name="clear-otp_code"' not in client.get(reverse(PAGE)).content.decode()
    set_alias(owner, "acme")
    page = client.get(reverse(PAGE)).content.decode()
    assert 'name="clear-otp_code"' in page and reverse(CLEAR) in page
    assert 'for="id_alias"' in page and 'for="id_clear-otp_code"' in page  # every field has a visible label


# --- Races (SQLite and PostgreSQL) ---------------------------------------------------------------------------


def outcomes(results: list) -> tuple[list, list]:
    won = [result for result in results if isinstance(result, PrimaryAccount)]
    lost = [result for result in results if isinstance(result, ValidationError)]
    assert len(won) + len(lost) == len(results), results
    return won, lost


def test_two_accounts_setting_the_same_alias_at_once_one_wins(transactional_db):
    first = make_owner("first@race.example", "First")
    second = make_owner("second@race.example", "Second")
    actors = iter([operator_actor(first.account), operator_actor(second.account)])
    results = run_concurrently(2, lambda: set_enterprise_alias(actor=next(actors), otp_code=None, alias="acme"))
    won, lost = outcomes(results)
    assert len(won) == 1, f"{results} on {connection.vendor}"
    assert lost[0].message_dict == {"alias": ["This alias is taken."]}
    assert list(PrimaryAccount.objects.filter(alias__iexact="acme").values_list("pk", flat=True)) == [won[0].pk]
    assert AuditEvent.objects.filter(action="alias.set").count() == 1


def test_an_alias_released_while_another_account_takes_it_is_never_caught(transactional_db):
    holder = make_owner("holder@race.example", "Holder")
    taker = make_owner("taker@race.example", "Taker")
    set_alias(holder, "acme")
    calls = iter([("release", holder, "acme-new"), ("take", taker, "acme")])

    def tagged():
        name, person, alias = next(calls)
        try:
            return name, set_enterprise_alias(actor=operator_actor(person.account), otp_code=None, alias=alias)
        except ValidationError as error:
            return name, error

    results = dict(run_concurrently(2, tagged))
    release, take = results["release"], results["take"]
    assert isinstance(release, PrimaryAccount), release
    # Whichever ran first, the taker loses: to the unique index while the holder still had it, else to the hold.
    assert isinstance(take, ValidationError), f"{take} on {connection.vendor}"
    assert PrimaryAccount.objects.get(pk=holder.account.pk).alias == "acme-new"
    assert PrimaryAccount.objects.get(pk=taker.account.pk).alias is None
    assert AliasHold.objects.get(alias="acme").account_id == holder.account.pk


def test_a_taker_arriving_before_the_release_commits_still_meets_the_hold(transactional_db, monkeypatch):
    # The interleaving the race above hits only by chance, made certain: the holder's release has changed the
    # alias but not yet committed when the taker arrives. Checking the hold before taking the alias would find
    # nothing here, then wait on the unique index and win once the release commits.
    holder = make_owner("holder@race.example", "Holder")
    taker = make_owner("taker@race.example", "Taker")
    set_alias(holder, "acme")

    release_written, taker_arrived = threading.Event(), threading.Event()

    def record_then_linger(**kwargs):
        event = record_event(**kwargs)
        if kwargs["details"]["new"] == "acme-new":
            release_written.set()
            # The release stays uncommitted until the taker has run everything before its first write.
            assert taker_arrived.wait(timeout=30), "the taker never reached its write"
        return event

    def signal_first_write(execute, sql, params, many, context):
        # SQLite's transactions begin with their write lock (BEGIN IMMEDIATE); PostgreSQL's first write here is the
        # alias update, which waits on the unique index while the release is uncommitted. Every statement before
        # it has then seen the release's change uncommitted.
        if sql.startswith(("BEGIN", "UPDATE")):
            taker_arrived.set()
        return execute(sql, params, many, context)

    monkeypatch.setattr("accounts.services.alias.record_event", record_then_linger)
    calls = iter([("release", holder, "acme-new"), ("take", taker, "acme")])

    def tagged():
        name, person, alias = next(calls)
        try:
            if name == "release":
                return name, set_enterprise_alias(actor=operator_actor(person.account), otp_code=None, alias=alias)
            assert release_written.wait(timeout=30), "the release never wrote"
            with connection.execute_wrapper(signal_first_write):
                return name, set_enterprise_alias(actor=operator_actor(person.account), otp_code=None, alias=alias)
        except ValidationError as error:
            return name, error

    results = dict(run_concurrently(2, tagged))
    assert isinstance(results["release"], PrimaryAccount), results
    assert isinstance(results["take"], ValidationError), f"{results} on {connection.vendor}"
    assert "held until" in str(results["take"])
    assert PrimaryAccount.objects.get(pk=taker.account.pk).alias is None
    assert AliasHold.objects.get(alias="acme").account_id == holder.account.pk
