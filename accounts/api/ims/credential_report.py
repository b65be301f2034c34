"""IMS's credential report: GenerateCredentialReport and GetCredentialReport (base64 CSV in RAM's columns, made by
accounts.services.credential_report, which the web page "Credential report" shows too)."""

import base64

from accounts.actors import Actor
from accounts.api.registry import (
    IMS_VERSION,
    ApiError,
    Params,
    ResponseFields,
    action,
    iso,
    require_reader,
    require_writer,
)
from accounts.models import CredentialReport
from accounts.services.credential_report import generate_credential_report


@action("GenerateCredentialReport", version=IMS_VERSION)
def generate_credential_report_action(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)  # a new report is a change (audited); reading it needs read access only
    generate_credential_report(actor=actor)
    return {"State": "COMPLETE"}  # made in this request: small enough at the portal's sizes (a query per table)


@action("GetCredentialReport", version=IMS_VERSION)
def get_credential_report(actor: Actor, params: Params) -> ResponseFields:
    """The report as base64 CSV; MaxItems rows a page (the header on every page), NextToken where the next starts."""
    require_reader(actor)
    report = CredentialReport.objects.filter(account=actor.account).first()
    if report is None:
        raise ApiError(
            "EntityNotExist.CredentialReport", "The credential report does not exist: GenerateCredentialReport.", 404
        )
    header, *rows = report.content.splitlines(keepends=True)
    max_items = params.integer("MaxItems", len(rows) or 1, low=1, high=1000 if rows else 1)
    token = params.get("NextToken", "0")
    if not token.isdigit() or int(token) > len(rows):
        raise ApiError("InvalidParameter.NextToken", "The NextToken is not one this report gave.")
    start = int(token)
    page = rows[start : start + max_items]
    body: ResponseFields = {
        "Content": base64.b64encode((header + "".join(page)).encode()).decode(),
        "GeneratedTime": iso(report.generated_at),
        "IsTruncated": start + max_items < len(rows),
    }
    if body["IsTruncated"]:
        body["NextToken"] = str(start + max_items)
    return body
