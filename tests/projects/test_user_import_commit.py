"""Import Users, the commit: rows done by the background worker through the single-user services, each once, a
stopped worker resumed by another, typed passwords never kept in clear or reported."""

import csv
import io
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from accounts.models import DeliveryPacket, GroupMembership, PacketEmail, PolicyAttachment, RamUser
from accounts.permissions import can_read_ram
from accounts.services.groups import attach_group_policy, create_group, delete_group
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.models import AuditEvent
from projects.imports import BATCH, report_csv, run_import, start_user_import
from projects.models import ProjectMember, UserImport, UserImportRow
from projects.user_import import read_import
from tests.api.test_no_secret_in_logs import _database_url
from tests.conftest import TEST_KEYRING, signed_in
from tests.mail import body_of

ROOT = Path(__file__).resolve().parents[2]
CANARY = "Canary-Typed-Password-7731!"


def file_text() -> str:
    return "\n".join(
        [
            "user_name,display_name,email,console_logon,password,policies,projects,deliver",
            f"carol,Carol,carol@example.com,yes,{CANARY},AliyunRAMReadOnlyAccess,sales_dw:role_project_dev,email",
            "dave,Dave,,yes,,,,seal",
            "erin,Erin,,no,,,,seal",
            "frank,Frank,not-an-email,no,,,,seal",
        ]
    )


def test_the_command_imports_the_valid_rows_reports_each_line_and_keeps_no_password(
    owner, project, tmp_path, settings, caplog
):
    caplog.set_level(logging.DEBUG)  # every log line of the run, whatever its logger
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    source = tmp_path / "people.csv"
    source.write_text(file_text(), encoding="utf-8")
    report = tmp_path / "report.csv"
    with pytest.raises(CommandError, match="1 rows were not imported"):
        call_command("import_users", "--account", owner.account.account_id, str(source), "--report", str(report))
    created = RamUser.objects.filter(account=owner.account, name__in=["carol", "dave", "erin", "frank"])
    assert sorted(created.values_list("name", flat=True)) == ["carol", "dave", "erin"]
    carol = created.get(name="carol")
    assert carol.user.check_password(CANARY) and carol.is_console_logon_enabled
    assert PolicyAttachment.objects.filter(ram_user=carol, policy_name="AliyunRAMReadOnlyAccess").exists()
    assert ProjectMember.objects.filter(project=project, ram_user=carol).exists()
    assert list(PacketEmail.objects.values_list("to", flat=True)) == ["carol@example.com"]
    rows = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert [(row["line"], row["user_name"], row["outcome"]) for row in rows] == [
        ("2", "carol", "created"),
        ("3", "dave", "created"),
        ("4", "erin", "created"),
    ]
    assert rows[0]["packet"] and not rows[2]["packet"]  # erin got no secret, so no packet
    job = UserImport.objects.get()
    assert (job.state, job.total, job.created, job.failed) == ("done", 3, 3, 0)
    assert AuditEvent.objects.filter(action="ram_user.create", target__in=[u.principal for u in created]).count() == 3
    assert AuditEvent.objects.filter(action__in=["user_import.start", "user_import.finish"]).count() == 2
    # The typed password: hashed for its user, sealed in its packet, and nowhere else.
    for where in (
        report.read_text(encoding="utf-8"),
        str(list(UserImportRow.objects.values())),
        str(list(AuditEvent.objects.values())),
        str(list(DBTaskResult.objects.values())),
        caplog.text,
    ):
        assert CANARY not in where


def test_a_name_taken_meanwhile_fails_its_row_and_the_others_go_in(owner, project):
    preview = read_import(file_text().encode(), owner.account)
    job = start_user_import(actor=owner.actor, preview=preview, file_name="people.csv", enqueue=False)
    create_ram_users(actor=owner.actor, new_users=[NewRamUser(name="DAVE", display_name="Someone else")])
    job = run_import(str(job.uid))
    assert (job.created, job.failed) == (2, 1)
    dave = UserImportRow.objects.get(job=job, name="dave")
    assert dave.state == "failed" and "already exists" in dave.error
    assert "3,dave,failed,A RAM user with this name already exists: it was created meanwhile.," in report_csv(
        job
    ).replace("\r", "")
    assert RamUser.objects.filter(account=owner.account, name__iexact="dave").count() == 1


def test_running_a_job_again_does_nothing_twice(owner, project):
    preview = read_import(file_text().encode(), owner.account)
    job = start_user_import(actor=owner.actor, preview=preview, file_name="people.csv", enqueue=False)
    run_import(str(job.uid))
    events = AuditEvent.objects.count()
    again = run_import(str(job.uid))
    assert (again.created, again.failed, again.done) == (3, 0, 3)
    assert AuditEvent.objects.count() == events


def test_a_worker_killed_mid_job_is_resumed_by_another_and_every_row_is_done_once(transactional_db, owner, tmp_path):
    # Every 100th person signs in with a typed password: the canary, looked for in the workers' logs at the end.
    lines = ["user_name,display_name,console_logon,password"] + [
        f"user{index:05d},Person {index},yes,{CANARY}" if index % 100 == 0 else f"user{index:05d},Person {index},no,"
        for index in range(2000)
    ]
    preview = read_import("\n".join(lines).encode(), owner.account)
    job = start_user_import(actor=owner.actor, preview=preview, file_name="big.csv")  # enqueued for a worker
    env = os.environ | {
        "DATABASE_URL": _database_url(),
        "PORTAL_KEYRING": TEST_KEYRING,
        "PORTAL_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "PORTAL_DEMO": "true",
        "PORTAL_IMPORT_STALLED_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "DEBUG",  # everything the worker would ever log
    }

    def start_worker(name: str) -> subprocess.Popen:
        log = (tmp_path / f"{name}.log").open("w")
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "0.5"], cwd=ROOT, env=env, stdout=log, stderr=log
        )

    def wait_for(condition, what: str, worker: subprocess.Popen, name: str) -> None:
        deadline = time.monotonic() + 120
        while not condition():
            assert worker.poll() is None, (tmp_path / f"{name}.log").read_text()
            assert time.monotonic() < deadline, f"{what}: not within 120 s"
            time.sleep(0.1)

    first = start_worker("first")
    wait_for(lambda: UserImport.objects.get(pk=job.pk).done >= 300, "300 rows done", first, "first")
    first.send_signal(signal.SIGKILL)  # no goodbye: mid-row, mid-transaction
    first.wait(timeout=30)
    stopped = UserImport.objects.get(pk=job.pk)
    assert 300 <= stopped.done < 2000 and stopped.state == "running"
    # What the dead worker did is all committed or not at all: the rows marked created are the users that exist (the
    # job's counters are counted from the rows once a batch, so they may lag by the batch the worker died in).
    created_rows = UserImportRow.objects.filter(job=job, state="created")
    assert RamUser.objects.filter(account=owner.account, name__startswith="user").count() == created_rows.count()
    assert stopped.created <= created_rows.count() < stopped.created + BATCH

    second = start_worker("second")
    try:
        wait_for(lambda: UserImport.objects.get(pk=job.pk).state == "done", "the job finished", second, "second")
    finally:
        second.terminate()
        second.wait(timeout=30)
    finished = UserImport.objects.get(pk=job.pk)
    assert (finished.done, finished.created, finished.failed) == (2000, 2000, 0)
    names = list(RamUser.objects.filter(account=owner.account, name__startswith="user").values_list("name", flat=True))
    assert len(names) == len(set(names)) == 2000
    assert AuditEvent.objects.filter(action="ram_user.create").count() == 2000
    assert not UserImportRow.objects.filter(job=finished).exclude(state="created").exists()
    assert RamUser.objects.get(account=owner.account, name="user01900").user.check_password(CANARY)
    for where in (
        (tmp_path / "first.log").read_text(),
        (tmp_path / "second.log").read_text(),
        str(list(UserImportRow.objects.values())),
        str(list(DBTaskResult.objects.values())),
        str(list(AuditEvent.objects.values())),
    ):
        assert CANARY not in where


def test_the_page_checks_keeps_the_good_rows_starts_once_and_shows_progress_and_report(owner, project):
    client = signed_in(owner)
    upload = SimpleUploadedFile("people.csv", file_text().encode(), "text/csv")
    page = client.post(reverse("projects:import-users"), {"file": upload}).content.decode()
    assert "1 error on 1 line" in page and "Import 3 users" in page
    assert not RamUser.objects.filter(name__in=["carol", "dave", "erin"]).exists()
    assert not AuditEvent.objects.filter(action__startswith="user_import").exists()  # a check changes nothing
    job = UserImport.objects.get()
    assert job.state == "checked" and CANARY not in str(list(UserImportRow.objects.values()))
    start = reverse("projects:start-import", args=[job.uid])
    first = client.post(start)
    again = client.post(start)  # a second click: the same job, started once
    assert first.url == again.url == reverse("projects:import-progress", args=[job.uid])
    assert AuditEvent.objects.filter(action="user_import.start").count() == 1
    waiting = client.get(first.url).content.decode()
    assert "0 of 3 rows done" in waiting and 'http-equiv="refresh"' in waiting
    run_import(str(job.uid))  # what the background worker does
    done = client.get(first.url).content.decode()
    assert "3 of 3 rows done · 3 created · 0 failed" in done and 'http-equiv="refresh"' not in done
    report = client.get(reverse("projects:import-report", args=[job.uid]))
    assert report["Content-Disposition"].startswith("attachment;")
    assert report.content.decode().splitlines()[0] == "line,user_name,outcome,error,packet"
    assert CANARY not in report.content.decode()


def test_another_accounts_import_is_not_found(owner, other_owner, project):
    preview = read_import(file_text().encode(), owner.account)
    job = start_user_import(actor=owner.actor, preview=preview, file_name="people.csv", enqueue=False)
    client = signed_in(other_owner)
    assert client.get(reverse("projects:import-progress", args=[job.uid])).status_code == 404
    assert client.get(reverse("projects:import-report", args=[job.uid])).status_code == 404


def test_checking_again_replaces_the_earlier_check_whose_import_button_then_says_so(owner, project):
    client = signed_in(owner)
    for _ in range(2):  # a reload of the check, or the file checked again
        client.post(reverse("projects:import-users"), {"file": SimpleUploadedFile("p.csv", file_text().encode())})
    kept = UserImport.objects.filter(state="checked")
    assert kept.count() == 1 and UserImportRow.objects.count() == 3
    stale = client.post(reverse("projects:start-import", args=["00000000-0000-4000-8000-000000000000"]), follow=True)
    assert "This check is no longer kept: check the file again, then import it." in stale.content.decode()
    assert not RamUser.objects.filter(name="carol").exists()


def test_invite_rows_send_invitations_and_an_access_keys_secret_by_claim_link(owner, project, smtp):
    text = (
        "user_name,display_name,email,console_logon,access_key,require_mfa,deliver\n"
        "gina,Gina,gina@example.com,yes,yes,yes,invite\n"
        "hank,Hank,hank@example.com,yes,no,no,invite\n"
    )
    preview = read_import(text.encode(), owner.account)
    assert preview.errors == []
    job = start_user_import(
        actor=owner.actor, preview=preview, file_name="people.csv", otp_code=owner.code(), enqueue=False
    )
    job = run_import(str(job.uid))
    assert (job.created, job.failed) == (2, 0)
    gina, hank = RamUser.objects.get(name="gina"), RamUser.objects.get(name="hank")
    for person in (gina, hank):
        assert not person.is_console_logon_enabled and not person.user.has_usable_password()
    assert gina.must_bind_mfa
    assert deliver_due_emails() == 3  # two invitations, and gina's AccessKey secret behind a claim link
    sent = {
        (message["To"], "/invitation/#" in body_of(message), "/claim/#" in body_of(message))
        for message in smtp.messages
    }
    assert sent == {
        ("gina@example.com", True, False),
        ("gina@example.com", False, True),
        ("hank@example.com", True, False),
    }
    report = {row["user_name"]: row for row in csv.DictReader(io.StringIO(report_csv(job)))}
    assert report["hank"]["packet"] == str(DeliveryPacket.objects.get(ram_user=hank, is_invitation=True).pk)


def test_a_name_taken_by_a_parallel_request_during_the_run_fails_only_its_row(owner):
    names = [f"user{index:03d}" for index in range(BATCH + 10)]
    text = "user_name,display_name\n" + "\n".join(f"{name},{name.title()}" for name in names)
    preview = read_import(text.encode(), owner.account)
    job = start_user_import(actor=owner.actor, preview=preview, file_name="people.csv", enqueue=False)
    late = names[BATCH + 3]  # in the second batch: taken after the first batch is written

    def parallel_request(progress: UserImport) -> None:
        if not RamUser.objects.filter(name__iexact=late).exists():
            create_ram_users(actor=owner.actor, new_users=[NewRamUser(name=late.upper(), display_name="Meanwhile")])

    job = run_import(str(job.uid), progress=parallel_request)
    assert (job.created, job.failed) == (len(names) - 1, 1)
    row = UserImportRow.objects.get(job=job, name=late)
    assert row.state == "failed" and "already exists" in row.error
    assert RamUser.objects.filter(account=owner.account, name__iexact=late).get().display_name == "Meanwhile"


def test_a_fault_in_one_row_fails_that_row_whole_and_the_job_finishes(owner, project, monkeypatch, caplog):
    from projects import imports

    real_attach = imports.attach_policy

    def faulty_attach(*, actor, ram_user, policy_name):
        if ram_user.name == "carol":
            raise RuntimeError("a fault of the portal's")
        return real_attach(actor=actor, ram_user=ram_user, policy_name=policy_name)

    monkeypatch.setattr(imports, "attach_policy", faulty_attach)
    preview = read_import(file_text().encode(), owner.account)
    job = start_user_import(actor=owner.actor, preview=preview, file_name="people.csv", enqueue=False)
    job = run_import(str(job.uid))
    assert (job.state, job.created, job.failed) == ("done", 2, 1)
    carol = UserImportRow.objects.get(job=job, name="carol")
    assert carol.state == "failed" and "RuntimeError" in carol.error and not carol.sealed_password
    assert not RamUser.objects.filter(name="carol").exists()  # nothing of the row is left half made
    assert "line 2 failed with RuntimeError" in caplog.text and CANARY not in caplog.text
    assert run_import(str(job.uid)).failed == 1  # not tried again


def test_imported_people_join_their_groups_and_a_group_deleted_meanwhile_fails_only_its_rows(owner, project):
    readers, doomed = create_group(actor=owner.actor, name="readers"), create_group(actor=owner.actor, name="doomed")
    attach_group_policy(actor=owner.actor, group=readers, policy_name="AliyunRAMReadOnlyAccess")
    text = "\n".join(["user_name,display_name,groups", "gina,Gina,readers", "hank,Hank,readers;doomed", "ivy,Ivy,"])
    preview = read_import(text.encode(), owner.account)
    assert preview.errors == []
    job = start_user_import(actor=owner.actor, preview=preview, file_name="people.csv", enqueue=False)
    delete_group(actor=owner.actor, group=doomed)
    job = run_import(str(job.uid))
    assert (job.created, job.failed) == (2, 1)
    hank = UserImportRow.objects.get(job=job, name="hank")
    assert hank.state == "failed" and "The group doomed was deleted meanwhile." in hank.error
    assert not RamUser.objects.filter(name="hank").exists()  # the whole row, not half of it
    gina = RamUser.objects.get(account=owner.account, name="gina")
    assert list(GroupMembership.objects.filter(ram_user=gina).values_list("group__name", flat=True)) == ["readers"]
    assert can_read_ram(gina.user)
