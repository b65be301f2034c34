"""The background worker is django-tasks-db's, run by `manage.py run_worker`: housekeeping keeps itself scheduled
(one chain however many workers) and a real worker process sends the packet emails that are due."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.tasks.base import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import PacketEmail
from accounts.services.packets import email_delivery_packet
from accounts.tasks import housekeeping, schedule_housekeeping
from tests.accounts.test_packets import sealed_user
from tests.api.test_no_secret_in_logs import _database_url
from tests.conftest import TEST_KEYRING

ROOT = Path(__file__).resolve().parents[2]


def waiting_housekeeping() -> int:
    return DBTaskResult.objects.filter(task_path=housekeeping.module_path, status=TaskResultStatus.READY).count()


def test_housekeeping_is_scheduled_once_however_many_workers_start(db):
    for _ in range(3):
        schedule_housekeeping()
    assert waiting_housekeeping() == 1


def test_a_worker_process_sends_due_packet_emails_and_keeps_housekeeping_going(transactional_db, owner, tmp_path):
    packet = sealed_user(owner, "carol").packet
    email_delivery_packet(actor=owner.actor, packet=packet, to="carol@example.com")
    env = os.environ | {
        "DATABASE_URL": _database_url(),
        "PORTAL_KEYRING": TEST_KEYRING,
        "PORTAL_VAR_DIR": str(tmp_path),
        "DEBUG": "false",
        "PORTAL_DEMO": "true",  # mail to files in tmp_path, and a development key
        "PYTHONUNBUFFERED": "1",
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--interval", "0.2"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while not PacketEmail.objects.filter(sent_at__isnull=False).exists():
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker sent nothing in 60 s"
            time.sleep(0.2)
        while DBTaskResult.objects.filter(task_path=housekeeping.module_path, status="SUCCESSFUL").count() < 2:
            assert time.monotonic() < deadline, "housekeeping did not run again"
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    assert waiting_housekeeping() == 1  # the next pass is scheduled
    sent = list((tmp_path / "mail").iterdir())
    assert len(sent) == 1 and "carol@example.com" in sent[0].read_text()


def test_housekeeping_keeps_an_hour_of_its_own_results(db):
    for age in (2, 0):
        result = housekeeping.enqueue()
        DBTaskResult.objects.filter(pk=result.id).update(
            status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now() - timedelta(hours=age)
        )
    housekeeping.call()
    kept = DBTaskResult.objects.filter(task_path=housekeeping.module_path, status=TaskResultStatus.SUCCESSFUL)
    assert kept.count() == 1 and waiting_housekeeping() == 1
