"""Background work, on Django's tasks framework with its database backend (django-tasks-db).

One worker type runs it all (`manage.py run_worker`); a deployment adds workers by starting more of them. The
housekeeping task keeps itself scheduled: it sends the packet emails that are due, expires stale claim links,
wipes one-time secrets nobody opened and refreshes SQLite's planner statistics, then schedules its next run.
"""

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.tasks import task
from django.tasks.base import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.services.claim_links import expire_stale_packets
from accounts.services.packet_mail import deliver_due_emails
from accounts.services.reveals import expire_unseen_reveals
from portal.planner import refresh_planner_statistics

HOUSEKEEPING_SECONDS = 5.0
# What other apps add to each pass (the projects app: resuming imports whose worker stopped), registered when they
# start: accounts does not import them.
_more_housekeeping: list[Callable[[], int]] = []


def add_housekeeping(work: Callable[[], int]) -> None:
    if work not in _more_housekeeping:
        _more_housekeeping.append(work)


def run_housekeeping() -> dict[str, int]:
    """One pass of the recurring work; what it did."""
    sent = deliver_due_emails()
    expired = expire_stale_packets()
    wiped = expire_unseen_reveals()
    refresh_planner_statistics()
    for work in _more_housekeeping:
        work()
    return {"sent": sent, "expired": expired, "wiped": wiped}


@task
def housekeeping(every_seconds: float = HOUSEKEEPING_SECONDS) -> dict[str, int]:
    """One pass, then the next one scheduled (also when this one failed: the work must go on). The results of
    earlier passes are kept for an hour: a pass every few seconds would otherwise fill the table."""
    try:
        return run_housekeeping()
    finally:
        DBTaskResult.objects.filter(
            task_path=housekeeping.module_path,
            status=TaskResultStatus.SUCCESSFUL,
            finished_at__lt=timezone.now() - timedelta(hours=1),
        ).delete()
        schedule_housekeeping(after_seconds=every_seconds, every_seconds=every_seconds)


def schedule_housekeeping(*, after_seconds: float = 0.0, every_seconds: float = HOUSEKEEPING_SECONDS) -> None:
    """Enqueues the next housekeeping pass unless one is already waiting: one chain however many workers start."""
    with transaction.atomic():
        waiting = DBTaskResult.objects.filter(
            task_path=housekeeping.module_path, status=TaskResultStatus.READY
        ).exists()
        if not waiting:
            run_after = timezone.now() + timedelta(seconds=after_seconds)
            housekeeping.using(run_after=run_after).enqueue(every_seconds)
