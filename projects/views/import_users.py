"""Import Users: a CSV file checked row by row with Create User's rules, previewed; nothing is written yet."""

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.debug import sensitive_post_parameters

from accounts.gates import SignedInRequest, ram_writer_required
from projects.user_import import COLUMNS, read_import, template_csv

MAX_FILE_BYTES = 5 * 1024 * 1024  # 10,000 people in far less


class ImportFileForm(forms.Form):
    file = forms.FileField(label="CSV file (UTF-8, comma- or semicolon-separated)")

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: split it.")
        content: bytes = upload.read()
        return content


@ram_writer_required
@sensitive_post_parameters()
def import_users(request: SignedInRequest) -> HttpResponse:
    """ "Import Users": the file's rows with their errors by line and column, and what would be created."""
    form = ImportFileForm(request.POST or None, request.FILES or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        preview = read_import(form.cleaned_data["file"], request.user.account)  # the file is not kept
    context = {"form": form, "preview": preview, "columns": COLUMNS}
    return render(request, "projects/import_users.html", context, status=400 if form.errors else 200)


@ram_writer_required
def import_template(request: SignedInRequest) -> HttpResponse:
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="users-template.csv"'
    return response
