import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime, time

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation

from accounts.audit_text import sentence, trail_rows
from accounts.forms import AuditFilterForm
from accounts.gates import SignedInRequest, ram_reader_required
from portal.models import AuditEvent
from portal.paging import page_of

# The table's facts, as stored, and its sentence ("description") beside the details it was made from.
CSV_COLUMNS = (
    "occurred_at",
    "actor",
    "channel",
    "source_ip",
    "action",
    "target",
    "description",
    "details",
    "request_id",
)


def filtered_events(request: SignedInRequest) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.filter(account_id=request.user.account.account_id)
    if form.is_bound and not form.is_valid():
        # A filter that cannot be applied must not fall back to showing (or exporting) everything.
        return form, events.none()
    if form.is_bound:
        data = form.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        for field in ("actor", "target"):
            if data[field]:
                events = events.filter(**{f"{field}__icontains": data[field]})
        if data["channel"]:
            events = events.filter(channel=data["channel"])
        if data["since"]:
            events = events.filter(occurred_at__gte=datetime.combine(data["since"], time.min, tzinfo=UTC))
        if data["until"]:
            # The day's last microsecond, not the next day's start: 9999-12-31 has no next day.
            events = events.filter(occurred_at__lte=datetime.combine(data["until"], time.max, tzinfo=UTC))
    return form, events


@ram_reader_required
def audit_trail(request: SignedInRequest) -> HttpResponse:
    form, events = filtered_events(request)
    page = page_of(events, request, list_name="audit_events")
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "rows": trail_rows(page, request.user.account), "query": query.urlencode()}
    return render(request, "accounts/audit_trail.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_safe(value: object) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@ram_reader_required
def audit_export(request: SignedInRequest) -> StreamingHttpResponse:
    _, events = filtered_events(request)
    writer = csv.writer(_Echo())
    # The rows are written after the view has returned, when the page's language is no longer active: each sentence
    # is written in it all the same (the columns and the stored facts stay as they are).
    language = translation.get_language()

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for event in events.iterator(chunk_size=2000):
            with translation.override(language):
                description = sentence(event)
            facts = {
                "occurred_at": event.occurred_at.isoformat(),
                "description": description,
                "details": json.dumps(event.details, sort_keys=True),
            }
            yield writer.writerow(
                [_csv_safe(facts[column] if column in facts else getattr(event, column)) for column in CSV_COLUMNS]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response
