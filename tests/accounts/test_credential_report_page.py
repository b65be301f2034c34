"""The credential report page (issue 16, item 4): findings as of now, each linking to where it is resolved;
"Generate report" and "Download CSV File"; for RAM readers only."""

import csv
import io
import re
from datetime import timedelta

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessKey, CredentialReport, PasswordPolicy, User
from accounts.services.otp import new_authenticator
from portal.models import AuditEvent
from tests.api.conftest import issue_key
from tests.conftest import make_ram_user, signed_in

PAGE = "/credential-report/"


def findings_of(page: str, kind: str) -> list[str]:
    return re.findall(rf'<li class="py-1 border-bottom" data-kind="{kind}">(.*?)</li>', page, re.S)


def test_each_finding_is_shown_with_the_page_that_resolves_it(owner):
    old = timezone.now() - timedelta(days=200)
    alice = make_ram_user(owner, "alice")  # console logon, no MFA, never signed in
    bob = make_ram_user(owner, "bob")
    new_authenticator(user=bob.user, name="phone", confirmed=True)
    User.objects.filter(pk=bob.user.pk).update(last_login=timezone.now(), password_changed_at=old)
    PasswordPolicy.objects.filter(account=owner.account).update(max_age_days=90)
    stale_key, _ = issue_key(alice)
    AccessKey.objects.filter(access_key_id=stale_key).update(created_at=old)
    issue_key(alice)
    carol = make_ram_user(owner, "carol", console_logon=False)  # nothing to say about her
    issue_key(carol)

    page = signed_in(owner).get(PAGE).content.decode()
    alice_logon = reverse("accounts:modify-logon-settings", args=[alice.ram_user.pk])
    [unused] = findings_of(page, "unused_key")
    assert stale_key in unused and "never used" in unused
    assert f'href="{reverse("accounts:user-detail", args=[alice.ram_user.pk])}">Disable</a>' in unused
    [two] = findings_of(page, "two_active_keys")
    assert "alice@" in two
    assert [("alice@" in f, alice_logon in f) for f in findings_of(page, "no_mfa")] == [(True, True)]
    [never] = findings_of(page, "never_signed_in")
    assert "alice@" in never and "Modify Logon Settings" in never
    [old_password] = findings_of(page, "old_password")
    assert "bob@" in old_password and "over 90 days ago" in old_password
    assert "carol@" not in page.split('data-testid="findings"')[1].split("Last report")[0]
    assert "No report yet" in page


def test_generate_then_download_the_same_csv_as_the_api(owner):
    make_ram_user(owner, "alice")
    client = signed_in(owner)
    generated = client.post(PAGE)
    assert generated.status_code == 302 and generated["Location"] == PAGE
    report = CredentialReport.objects.get(account=owner.account)
    assert AuditEvent.objects.filter(action="credential_report.generate", channel="console").count() == 1
    page = client.get(PAGE).content.decode()
    assert 'data-testid="report-table"' in page and "alice@" in page and "UTC" in page
    download = client.get(reverse("accounts:credential-report-download"))
    assert download["Content-Type"].startswith("text/csv") and "attachment" in download["Content-Disposition"]
    assert download.content.decode() == report.content
    rows = list(csv.DictReader(io.StringIO(report.content)))
    assert [row["user"].split("@")[0] for row in rows] == ["<root>", "alice"]


def test_only_ram_readers_see_it(owner):
    nobody = make_ram_user(owner, "nobody")
    client = signed_in(nobody)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE).status_code == 403
    assert client.get(reverse("accounts:credential-report-download")).status_code == 403
    assert not CredentialReport.objects.exists()
    reader = make_ram_user(owner, "reader", policies=("AliyunRAMReadOnlyAccess",))
    assert signed_in(reader).get(PAGE).status_code == 200


def queries_of(client, url: str) -> int:
    """How many statements the request ran (counted as they run: the request resets Django's own query log)."""
    ran = []

    def count(execute, sql, params, many, context):
        ran.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert client.get(url).status_code == 200
    return len(ran)


def test_the_page_reads_a_fixed_number_of_queries(owner):
    client = signed_in(owner)
    for name in ("a1", "a2"):
        issue_key(make_ram_user(owner, name))
    client.post(PAGE)
    few = queries_of(client, PAGE)
    for name in ("b1", "b2", "b3", "b4", "b5"):
        issue_key(make_ram_user(owner, name))
    client.post(PAGE)
    assert queries_of(client, PAGE) == few < 30
