"""Import Users: a CSV file checked row by row with Create User's rules, then started as a background job whose
progress page the administrator can leave and come back to, and its report."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.forms import OtpCodeField
from accounts.gates import SignedInRequest, actor_of, ram_writer_required
from projects.imports import commit_user_import, keep_checked_rows, report_csv
from projects.models import UserImport
from projects.user_import import COLUMNS, read_import, template_csv

MAX_FILE_BYTES = 5 * 1024 * 1024  # 10,000 people in far less


class ImportFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file (UTF-8, comma- or semicolon-separated) or .xlsx sheet"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,.xlsx"}),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB: split it.") % {"size": MAX_FILE_BYTES // (1024 * 1024)}
            )
        content: bytes = upload.read()
        return content


class StartImportForm(forms.Form):
    otp_code = OtpCodeField(required=False)


def _job(request: SignedInRequest, uid: str) -> UserImport:
    # Another account's import answers like a missing one.
    return get_object_or_404(UserImport, uid=uid, account=request.user.account)


@ram_writer_required
@sensitive_post_parameters()
def import_users(request: SignedInRequest) -> HttpResponse:
    """ "Import Users": the file's rows with their errors by line and column, what would be created, and "Import"."""
    form = ImportFileForm(request.POST or None, request.FILES or None)
    preview = job = None
    if request.method == "POST" and form.is_valid():
        preview = read_import(form.cleaned_data["file"], request.user.account)  # the file is not kept
        name = getattr(request.FILES.get("file"), "name", "") or "upload.csv"
        job = keep_checked_rows(actor=actor_of(request), preview=preview, file_name=name)
    context = {"form": form, "preview": preview, "job": job, "start_form": StartImportForm(), "columns": COLUMNS}
    return render(request, "projects/import_users.html", context, status=400 if form.errors else 200)


@ram_writer_required
@require_POST
@sensitive_post_parameters()
def start_import(request: SignedInRequest, uid: str) -> HttpResponse:
    job = UserImport.objects.filter(uid=uid, account=request.user.account).first()
    if job is None:  # replaced by a newer check of a file, or an hour old
        messages.error(request, _("This check is no longer kept: check the file again, then import it."))
        return redirect("projects:import-users")
    form = StartImportForm(request.POST)
    form.is_valid()
    try:
        job = commit_user_import(actor=actor_of(request), job=job, otp_code=form.cleaned_data.get("otp_code"))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("projects:import-users")
    return redirect("projects:import-progress", uid=job.uid)


@ram_writer_required
def import_progress(request: SignedInRequest, uid: str) -> HttpResponse:
    job = _job(request, uid)
    elapsed = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0.0
    rate = job.done / elapsed if elapsed > 0 and job.done else 0.0
    context = {
        "job": job,
        "percent": round(100 * job.done / job.total) if job.total else 100,
        "rate": rate,
        "seconds_left": round((job.total - job.done) / rate) if rate else None,
        "failures": job.rows.filter(state="failed").order_by("line")[:50],
    }
    return render(request, "projects/import_progress.html", context)


@ram_writer_required
def import_report(request: SignedInRequest, uid: str) -> HttpResponse:
    job = _job(request, uid)
    response = HttpResponse(report_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-report-{job.uid}.csv"'
    return response


@ram_writer_required
def import_template(request: SignedInRequest) -> HttpResponse:
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="users-template.csv"'
    return response
