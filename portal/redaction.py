"""Secrets that arrive in a request's query string stay out of every log and error report.

The official RAM SDKs send every parameter in the query string, so `CreateLoginProfile`'s `Password` is in
the request line that a server writes to its access log, and in the URL, the GET items and the local variables
that an error report shows. Forms are covered by `sensitive_post_parameters`; the parameters named here are
hidden wherever a request is logged or reported, in development as in production.
"""

import logging
import re
from collections.abc import ItemsView
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

from django.http import HttpRequest, QueryDict
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

# Lower case. The one-time codes of BindMFADevice are spent once used, but they are codes all the same; a
# signature is no secret, yet nothing is gained by keeping it.
SECRET_PARAMETERS = frozenset(
    {"password", "oldpassword", "newpassword", "signature", "authenticationcode1", "authenticationcode2"}
)
REDACTED = "********"
# A query string inside free text: from "?" up to whitespace. (A quote may be part of a value: a secret that holds
# one is redacted whole, at the cost of the closing quote of a quoted request line.)
_QUERY_IN_TEXT = re.compile(r"\?(\S+)")


def is_secret_parameter(name: str) -> bool:
    return unquote_plus(name).strip().lower() in SECRET_PARAMETERS


def redact_query(query: str) -> str:
    """The query string with the values of secret parameters replaced; everything else exactly as it was."""
    if "=" not in query:
        return query
    pieces = []
    for piece in query.split("&"):
        name, equals, _value = piece.partition("=")
        pieces.append(f"{name}={REDACTED}" if equals and is_secret_parameter(name) else piece)
    return "&".join(pieces)


def redact_text(text: str) -> str:
    """Every query string in the text (a request line, a URL in a message) redacted."""
    if "?" not in text:
        return text
    return _QUERY_IN_TEXT.sub(lambda match: "?" + redact_query(match.group(1)), text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message so that no query string in it carries a secret parameter's value."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record is the logging module's to report
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _secret_values(request: HttpRequest | None) -> set[str]:
    """The request's secret parameter values, in every form a report may show them: as sent (percent-encoded),
    decoded, and as Python's repr writes them."""
    if request is None:
        return set()
    values: set[str] = set()
    # The POST items only if the request read them: reading them here could fail anew inside the report.
    for query in (request.GET, getattr(request, "_post", None) or QueryDict()):
        for name in query:
            if is_secret_parameter(name):
                for value in query.getlist(name):
                    if value:
                        values.update({value, quote(value, safe=""), quote_plus(value), repr(value)[1:-1]})
    return values


class _RedactedRequest:
    """What a report shows for a request held in a local variable: its method and redacted path."""

    def __init__(self, request: HttpRequest) -> None:
        self.text = f"<{type(request).__name__}: {request.method} {redact_text(request.get_full_path())!r}>"

    def __repr__(self) -> str:
        return self.text


class PortalExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus the secret parameters of a request: hidden in its metadata, its POST items and any
    local variable that holds one of their values, whether DEBUG is on or off."""

    def get_safe_request_meta(self, request: HttpRequest | None) -> dict[str, Any]:
        # Django's reporter passes None when there is no request, and its filter answers {} for it.
        meta = super().get_safe_request_meta(request)  # type: ignore[arg-type]
        for key in ("QUERY_STRING", "RAW_URI", "REQUEST_URI"):
            if isinstance(meta.get(key), str):
                meta[key] = redact_text(meta[key]) if key != "QUERY_STRING" else redact_query(meta[key])
        return meta

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        cleansed = super().get_post_parameters(request)
        if request is None or not any(is_secret_parameter(name) for name in cleansed):
            return cleansed
        cleansed = cleansed.copy()
        for name in cleansed:
            if is_secret_parameter(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> ItemsView[str, Any]:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        secrets = _secret_values(request)

        def shown(value: object) -> object:
            if isinstance(value, HttpRequest):
                return _RedactedRequest(value)
            if secrets and any(secret in text for text in (str(value), repr(value)) for secret in secrets):
                return self.cleansed_substitute
            return value

        return {name: shown(value) for name, value in variables}.items()


class PortalExceptionReporter(ExceptionReporter):
    """Django's report (the debug page and the administrators' email) with the request's GET items and URL
    redacted as well: Django shows those unfiltered."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if self.request is not None:
            data["request_GET_items"] = [
                (name, REDACTED if is_secret_parameter(name) else value) for name, value in self.request.GET.items()
            ]
            data["request_insecure_uri"] = redact_text(data.get("request_insecure_uri", ""))
        return data
