"""Committing a checked CSV import: the rows kept (typed passwords sealed), then done in order by the background
worker, a few rows a transaction and each row's state written with the user it creates, so that a worker stopped
mid-way is resumed by another and no row is done twice.

What a row does goes through the single-user services: Create User, Add Permissions, Add Member, and the delivery
of the packet that holds its new secrets (sealed, or queued for email).
"""

import contextlib
import csv
import io
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.models import AccessKey, DeliveryPacket, Group, PasswordPolicy, PolicyAttachment, RamUser, User
from accounts.passwords import policy_for
from accounts.permissions import ensure_can_write_ram
from accounts.services.bulk import refusal_text
from accounts.services.groups import add_users_to_group
from accounts.services.otp import require_otp
from accounts.services.packets import email_delivery_packet
from accounts.services.policies import attach_policy
from accounts.services.ram_users import HashedPassword, NewRamUser, create_ram_user, hash_console_password
from portal.audit import Origin, record_event
from portal.keyring import keyring
from portal.planner import analyze_after_bulk_load
from projects.models import Project, UserImport, UserImportRow
from projects.services import add_member
from projects.user_import import ImportPreview, ImportRow

State = UserImport.State
RowState = UserImportRow.State
BATCH = 50  # rows between two updates of the job's progress
ROWS_PER_TRANSACTION = 10
ANALYZE_AFTER_ROWS = 100  # an import of at least this many users refreshes the planner's statistics
UNEXPECTED = gettext_lazy(
    "The portal could not create this row (%(error)s); the error is in its log. Import it again later."
)
log = logging.getLogger(__name__)


def keep_checked_rows(*, actor: Actor, preview: ImportPreview, file_name: str) -> UserImport | None:
    """Keeps a checked file's creatable rows (typed passwords sealed at once; the file itself is not kept) for the
    administrator to start; None when there is none. No user is made and nothing is audited: a check changes
    nothing, and a kept check not started within an hour is deleted."""
    ensure_can_write_ram(actor)
    rows = preview.creatable
    if not rows:
        return None
    ring = keyring()
    with transaction.atomic():
        if actor.user is not None:  # a file checked again (a reload, a corrected file) replaces the earlier check
            UserImport.objects.filter(account=actor.account, started_by=actor.user, state=State.CHECKED).delete()
        job = UserImport.objects.create(
            account=actor.account,
            started_by=actor.user,
            file_name=file_name[:255],
            total=len(rows),
            state=State.CHECKED,
            needs_code=any(row.new.create_access_key for row in rows),
        )
        UserImportRow.objects.bulk_create(
            UserImportRow(
                job=job,
                line=row.line,
                name=row.new.name,
                data=_stored(row),
                sealed_password=ring.seal(
                    row.new.password, associated_data=UserImportRow.associated_data_of(job.pk, row.line)
                )
                if row.new.password
                else "",
            )
            for row in rows
        )
    return job


def commit_user_import(
    *, actor: Actor, job: UserImport, otp_code: str | None = None, enqueue: bool = True
) -> UserImport:
    """ "Import": the checked rows go to the background worker; one audit event. Rows that create AccessKeys need
    the actor's code now, as Create User asks for it."""
    ensure_can_write_ram(actor)
    if job.account_id != actor.account.pk:
        raise PermissionDenied(_("This import belongs to another account."))
    if job.needs_code:
        require_otp(actor=actor, otp_code=otp_code)
    with transaction.atomic():
        if not UserImport.objects.filter(pk=job.pk, state=State.CHECKED).update(state=State.QUEUED):
            return UserImport.objects.get(pk=job.pk)  # started already (a second click): the same job
        record_event(
            actor=actor,
            action="user_import.start",
            target=actor.account.principal,
            details={"import": str(job.uid), "file": job.file_name, "rows": job.total},
        )
        if enqueue:
            transaction.on_commit(lambda: enqueue_import(job))
    return UserImport.objects.get(pk=job.pk)


def start_user_import(
    *, actor: Actor, preview: ImportPreview, file_name: str, otp_code: str | None = None, enqueue: bool = True
) -> UserImport:
    """Check kept and started at once (the operator's command, and tests)."""
    job = keep_checked_rows(actor=actor, preview=preview, file_name=file_name)
    if job is None:
        raise ValidationError(_("The file has no row that can be imported."))
    return commit_user_import(actor=actor, job=job, otp_code=otp_code, enqueue=enqueue)


def enqueue_import(job: UserImport) -> None:
    run_user_import.enqueue(str(job.uid))


@task
def run_user_import(uid: str) -> dict[str, int]:
    """The background worker's side of an import (django.tasks); what it did."""
    job = run_import(uid)
    return {"created": job.created, "failed": job.failed}


def _stored(row: ImportRow) -> dict[str, object]:
    new = asdict(row.new)
    new.pop("password")  # sealed apart; never in the stored row
    return {
        "new": new,
        "policies": list(row.policies),
        "groups": list(row.groups),
        "projects": [list(p) for p in row.projects],
        "deliver": row.deliver,
    }


@dataclass(frozen=True)
class _Pending:
    pk: int
    line: int
    new: NewRamUser = field(repr=False)  # with its typed password, opened


def run_import(uid: str, *, progress: Callable[[UserImport], None] | None = None) -> UserImport:
    """Does the job's pending rows, in order of line, a few a transaction (`_do_rows`); safe to run again after a stop,
    and by two workers at once (a row is taken under its lock, and only while pending). The passwords of the next
    batch are hashed on every core while this one is written: hashing is most of the work. A row's error is worded
    in the language of the person who started the import (theirs, if they chose one; else English)."""
    job = UserImport.objects.select_related("account", "started_by").get(uid=uid)
    if job.state == State.DONE:
        return job
    with translation.override(_starter_language(job)):
        return _run(job, progress)


def _starter_language(job: UserImport) -> str:
    chosen = job.started_by.language if job.started_by is not None else ""
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _run(job: UserImport, progress: Callable[[UserImport], None] | None) -> UserImport:
    UserImport.objects.filter(pk=job.pk, state=State.QUEUED).update(state=State.RUNNING, started_at=timezone.now())
    actor = Actor(account=job.account, origin=Origin(channel="command"), user=job.started_by, label="import")
    projects = {project.name: project for project in Project.objects.filter(account=job.account)}
    groups = {group.name: group for group in Group.objects.filter(account=job.account)}
    with (
        _prompt_gil_handover(),
        ThreadPoolExecutor(
            max_workers=os.cpu_count() or 1, thread_name_prefix="import-hashing", initializer=_yield_to_others
        ) as pool,
    ):
        batch = _pending(job, after_line=0)
        hashing = _hash_ahead(pool, job, batch)
        while batch:
            following = _pending(job, after_line=batch[-1].line)
            hashing_following = _hash_ahead(pool, job, following)  # on the other cores, while this batch is written
            # (The rows' checks read the password policy once a batch, not once a row.)
            run = _Run(job=job, actor=actor, projects=projects, groups=groups, policy=policy_for(job.account))
            for start in range(0, len(batch), ROWS_PER_TRANSACTION):
                _do_rows(run, batch[start : start + ROWS_PER_TRANSACTION], hashing)
            _count_progress(job)
            if progress is not None:
                job.refresh_from_db(fields=["done", "created", "failed"])
                progress(job)
            batch, hashing = following, hashing_following
    return _finish(job, actor)


HASHING_NICENESS = 10
GIL_SWITCH_SECONDS = 0.0005


@contextlib.contextmanager
def _prompt_gil_handover() -> Iterator[None]:
    """While rows are written, a hashing thread whose hash is done gets the GIL back within half a millisecond rather
    than Python's default 5: with the writer holding it most of the time, the default left every hash waiting (the
    import took 1.33 times its hashes' time instead of 1.2, benchmarks/bulk_import.py). Restored afterwards."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, GIL_SWITCH_SECONDS))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _yield_to_others() -> None:
    """A hashing thread runs at a lower priority (Linux schedules threads, and the Argon2 threads it starts inherit
    it): the row writer, the web servers and other work on the machine go first, the hashes take what is left."""
    with contextlib.suppress(OSError, AttributeError):  # (not permitted, or not Linux: the hashes just compete)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


def _pending(job: UserImport, *, after_line: int) -> list[_Pending]:
    rows = UserImportRow.objects.filter(job=job, state=RowState.PENDING, line__gt=after_line).order_by("line")
    found = []
    for row in rows[:BATCH]:
        password = None
        if row.sealed_password:
            password = keyring().open(row.sealed_password, associated_data=row.associated_data)
        found.append(_Pending(pk=row.pk, line=row.line, new=NewRamUser(**{**row.data["new"], "password": password})))
    return found


def _hash_ahead(
    pool: ThreadPoolExecutor, job: UserImport, batch: list[_Pending]
) -> dict[int, "Future[HashedPassword | None]"]:
    policy = policy_for(job.account)  # read here: the hashing threads touch no database
    return {item.pk: pool.submit(hash_console_password, policy, item.new) for item in batch}


@dataclass(frozen=True)
class _Run:
    """What every row of a batch is done with."""

    job: UserImport
    actor: Actor
    projects: dict[str, Project]
    groups: dict[str, Group]
    policy: PasswordPolicy


class _RowRefused(Exception):
    """A row of a group done without savepoints failed: the group is rolled back and done again, row by row."""


def _do_rows(run: _Run, items: list[_Pending], hashing: dict[int, "Future[HashedPassword | None]"]) -> None:
    """A few rows in one transaction: taken under their locks (rows another worker holds or has done are left to
    it), created or refused, and marked done together. A stop mid-way loses, and the next run redoes, at most these
    few; no user is ever written without its row's state. Rows were checked when the file was read, so nearly all go
    in: the group is tried without a savepoint per row (two statements fewer each), and only when one of them fails is
    it rolled back and done again with a savepoint around each row, so that the failed row alone is undone."""
    try:
        _do_group(run, items, hashing, savepoints=False)
    except _RowRefused:
        _do_group(run, items, hashing, savepoints=True)


def _do_group(
    run: _Run, items: list[_Pending], hashing: dict[int, "Future[HashedPassword | None]"], *, savepoints: bool
) -> None:
    with transaction.atomic():
        rows = UserImportRow.objects.filter(pk__in=[item.pk for item in items], state=RowState.PENDING)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        taken = {row.pk: row for row in rows}
        for item in items:
            row = taken.get(item.pk)
            if row is not None:
                _do_row(run, row, item.new, hashing[item.pk], savepoint=savepoints)
        UserImportRow.objects.bulk_update(
            taken.values(), ["state", "error", "ram_user_id", "packet_id", "sealed_password"]
        )


def _do_row(
    run: _Run, row: UserImportRow, new: NewRamUser, hashing: "Future[HashedPassword | None]", *, savepoint: bool
) -> None:
    try:
        with transaction.atomic(savepoint=savepoint):
            outcome = _create(run, row, new, hashing.result())
    except (OperationalError, InterfaceError):
        raise  # the database went away: the job stops here and is resumed, these rows with it
    except Exception as error:
        if not savepoint:
            raise _RowRefused from error  # (what the row wrote cannot be undone alone: the group goes again)
        if isinstance(error, ValidationError | PermissionDenied):
            row.state, row.error = RowState.FAILED, refusal_text(error)[:500]
            return _done(row)
        # A fault of the portal's, not of the row: retrying would meet it again, for ever. The row fails with a
        # sentence and the job goes on; the traceback goes to the log (its values never: only the row's line).
        log.exception("Import %s: line %s failed with %s", run.job.uid, row.line, type(error).__name__)
        row.state, row.error = RowState.FAILED, str(UNEXPECTED) % {"error": type(error).__name__}
    else:
        row.state, (row.ram_user_id, row.packet_id) = RowState.CREATED, outcome
    return _done(row)


def _done(row: UserImportRow) -> None:
    row.sealed_password = ""


def _count_progress(job: UserImport) -> None:
    """The job's counters from its rows' states, and a sign of life; once a batch. (Counted rather than added to at
    each row: no row waits on the job's row, and two workers on one job cannot count a row twice.)"""
    counts = dict(
        UserImportRow.objects.filter(job=job)
        .exclude(state=RowState.PENDING)
        .order_by()
        .values_list("state")
        .annotate(rows=Count("pk"))
    )
    UserImport.objects.filter(pk=job.pk).update(
        done=sum(counts.values()),
        created=counts.get(RowState.CREATED, 0),
        failed=counts.get(RowState.FAILED, 0),
        heartbeat_at=timezone.now(),
    )


def _create(run: _Run, row: UserImportRow, new: NewRamUser, hashed: HashedPassword | None) -> tuple[int, int | None]:
    data, actor = row.data, run.actor
    created = create_ram_user(actor=actor, new=new, hashed=hashed, policy=run.policy)
    ram_user = created.ram_user
    for policy_name in data["policies"]:
        attach_policy(actor=actor, ram_user=ram_user, policy_name=policy_name)
    for group_name in data.get("groups", ()):  # (rows kept before the column existed have none)
        group = run.groups.get(group_name)
        if group is None:
            raise ValidationError(_("The group %(name)s was deleted meanwhile.") % {"name": group_name})
        add_users_to_group(actor=actor, group=group, ram_users=[ram_user])
    for project_name, roles in data["projects"]:
        project = run.projects.get(project_name)
        if project is None:
            raise ValidationError(_("The project %(name)s was deleted meanwhile.") % {"name": project_name})
        add_member(actor=actor, project=project, ram_user=ram_user, roles=roles)
    packet = created.packet
    if packet is not None and data["deliver"] in ("email", "invite"):
        # (With an invitation, the packet holds only the AccessKey's secret: it goes by email too, with a claim link.)
        email_delivery_packet(actor=actor, packet=DeliveryPacket.objects.get(pk=packet.pk), to=ram_user.email)
    handed = packet or created.invitation
    return ram_user.pk, handed.pk if handed else None


def _finish(job: UserImport, actor: Actor) -> UserImport:
    _count_progress(job)
    analyzed = False
    with transaction.atomic():
        finished = UserImport.objects.select_for_update().get(pk=job.pk)
        if finished.state != State.DONE and not finished.rows.filter(state=RowState.PENDING).exists():
            finished.state, finished.finished_at = State.DONE, timezone.now()
            finished.save(update_fields=["state", "finished_at"])
            record_event(
                actor=actor,
                action="user_import.finish",
                target=finished.account.principal,
                details={"import": str(finished.uid), "created": finished.created, "failed": finished.failed},
            )
            analyzed = finished.created >= ANALYZE_AFTER_ROWS
    if analyzed:
        # The planner learns that the account now has many users before the next signed call looks one up by name.
        analyze_after_bulk_load(RamUser, User, AccessKey, PolicyAttachment, DeliveryPacket)
    return finished


def resume_stalled_imports(*, now: datetime | None = None) -> int:
    """Enqueues again the jobs whose worker stopped (no sign of life for a while): their pending rows go on. Checks
    never started are deleted after an hour, with their sealed passwords."""
    now = now or timezone.now()
    UserImport.objects.filter(state=State.CHECKED, created_at__lt=now - timedelta(hours=1)).delete()
    stale = now - timedelta(seconds=settings.PORTAL_IMPORT_STALLED_SECONDS)
    stalled = list(
        UserImport.objects.filter(state__in=[State.QUEUED, State.RUNNING])
        .filter(created_at__lt=stale)
        .exclude(heartbeat_at__gte=stale)
    )
    for job in stalled:
        UserImport.objects.filter(pk=job.pk).update(heartbeat_at=now)  # one new run, not one per pass
        enqueue_import(job)
    return len(stalled)


REPORT_COLUMNS = ("line", "user_name", "outcome", "error", "packet")


def _inert(cell: object) -> object:
    return "'" + cell if isinstance(cell, str) and cell.startswith(("=", "+", "-", "@")) else cell


def report_csv(job: UserImport) -> str:
    """The job's result, a row per line of the file: never a password or secret (they are in packets)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for row in job.rows.order_by("line"):
        # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
        cells = [row.line, row.name, row.state, row.error, row.packet_id or ""]
        writer.writerow(
            ["'" + cell if isinstance(cell, str) and cell.startswith(("=", "+", "-", "@")) else cell for cell in cells]
        )
    return out.getvalue()
