"""What a bulk action did, kept in the administrator's session so that its report has an address: a reload or a
second submission of the same confirmation shows the report again instead of acting twice."""

from collections.abc import Sequence
from datetime import datetime

from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone

from accounts.services.bulk import Outcome

REPORTS_KEPT = 5  # per session: the latest reports


def keep_report(session: SessionBase, *, token: str, label: str, outcomes: Sequence[Outcome]) -> None:
    reports = session.get("bulk_reports", {})
    reports[token] = {
        "label": label,
        "at": timezone.now().isoformat(),
        "outcomes": [[outcome.name, outcome.is_done, outcome.message] for outcome in outcomes],
    }
    session["bulk_reports"] = dict(list(reports.items())[-REPORTS_KEPT:])


def has_report(session: SessionBase, token: str) -> bool:
    return token in session.get("bulk_reports", {})


def report_of(session: SessionBase, token: str) -> tuple[str, datetime, list[Outcome]] | None:
    report = session.get("bulk_reports", {}).get(token)
    if report is None:
        return None
    outcomes = [Outcome(name, is_done, message) for name, is_done, message in report["outcomes"]]
    return report["label"], datetime.fromisoformat(report["at"]), outcomes
