"""Checking signed API requests: Alibaba Cloud's ACS3-HMAC-SHA256 and RPC HMAC-SHA1 (signature version 1.0), and
MaxCompute's ODPS HMAC-SHA1.

This module knows the protocols, not the keys: the caller finds the AccessKey secret for the claimed ID and
asks whether the signature matches. Time windows and nonces are checked here too, against a store shared
by every server process (the database), so that a captured request cannot be replayed (where the protocol
carries a nonce: MaxCompute's does not, see below).
"""

import base64
import contextlib
import hashlib
import hmac
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote, unquote

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest
from django.utils import timezone

from portal.models import SeenNonce
from portal.redaction import REDACTED, is_secret_parameter
from portal.rows import Columns, Table, adapt_datetime, execute, statement

ACS3 = "ACS3-HMAC-SHA256"
MAX_CLOCK_SKEW = timedelta(minutes=15)


class SignatureError(Exception):
    """The request's signing is unacceptable; `code` and `status` are RAM's answer."""

    def __init__(self, code: str, message: str, status: int = 400):
        self.code, self.message, self.status = code, message, status
        super().__init__(message)


@dataclass(frozen=True)
class SignedRequest:
    """What a request claims about its signing."""

    scheme: str  # "acs3", "rpc" or "odps"
    access_key_id: str
    signature: str
    nonce: str
    timestamp: datetime | None
    signed_headers: tuple[str, ...] = ()


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def percent_encode(value: str) -> str:
    # Most names and values are already unreserved characters, and quote() is the costly step of checking
    # a signature: skip it for them.
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="~", encoding="utf-8")


_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")


def _parse_time(value: str) -> datetime | None:
    """A timestamp as the SDKs write it (ISO 8601 in UTC: `2026-01-31T12:00:00Z`, optionally with fractions)."""
    if not _TIMESTAMP.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # a well-formed impossible date, such as the 31st of February
        return None


def _lower_headers(request: HttpRequest) -> dict[str, str]:
    return {key.lower(): value for key, value in request.headers.items()}


def parse_signed_request(request: HttpRequest, params: dict[str, str]) -> SignedRequest:
    """How the request says it is signed; SignatureError when it does not say so properly."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith(ACS3 + " "):
        fields: dict[str, str] = {}
        for part in authorization[len(ACS3) + 1 :].split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value
        if not all(fields.get(name) for name in ("Credential", "SignedHeaders", "Signature")):
            raise SignatureError("InvalidAuthorization", "The Authorization header is malformed.")
        headers = _lower_headers(request)
        return SignedRequest(
            scheme="acs3",
            access_key_id=fields["Credential"],
            signature=fields["Signature"],
            nonce=headers.get("x-acs-signature-nonce", ""),
            timestamp=_parse_time(headers.get("x-acs-date", "")),
            signed_headers=tuple(fields["SignedHeaders"].split(";")),
        )
    if params.get("Signature") and params.get("AccessKeyId"):
        if params.get("SignatureMethod") != "HMAC-SHA1" or params.get("SignatureVersion") != "1.0":
            raise SignatureError(
                "InvalidSignatureMethod", "Only HMAC-SHA1 with SignatureVersion 1.0 or ACS3-HMAC-SHA256 is supported."
            )
        return SignedRequest(
            scheme="rpc",
            access_key_id=params["AccessKeyId"],
            signature=params["Signature"],
            nonce=params.get("SignatureNonce", ""),
            timestamp=_parse_time(params.get("Timestamp", "")),
        )
    raise SignatureError("MissingAccessKeyId", "The request is not signed with an AccessKey.", status=400)


def acs3_string_to_sign(
    request: HttpRequest, signed: SignedRequest, query: dict[str, str], *, shown: bool = False
) -> str:
    """ACS3's string to sign; `shown`: with its canonical request after it, secret parameters' values redacted (what
    a refused caller is told, to compare with what its SDK signed)."""
    headers = _lower_headers(request)
    canonical_query = "&".join(f"{key}={percent_encode(query[key])}" for key in sorted(query))
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed.signed_headers)
    payload_hash = headers.get("x-acs-content-sha256") or hashlib.sha256(request.body).hexdigest()
    parts = [request.method or "", request.path or "/", canonical_query, canonical_headers]
    canonical_request = "\n".join([*parts, ";".join(signed.signed_headers), payload_hash])
    string_to_sign = f"{ACS3}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    if not shown:
        return string_to_sign
    parts[2] = "&".join(
        f"{key}={REDACTED if is_secret_parameter(key) else percent_encode(query[key])}" for key in sorted(query)
    )
    shown_request = "\n".join([*parts, ";".join(signed.signed_headers), payload_hash])
    return f"{string_to_sign} (canonical request: {shown_request!r})"


def acs3_signature(request: HttpRequest, signed: SignedRequest, secret: str, query: dict[str, str]) -> str:
    string_to_sign = acs3_string_to_sign(request, signed, query)
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def rpc_string_to_sign(method: str, params: dict[str, str], *, shown: bool = False) -> str:
    """The RPC signature's string to sign; `shown`: secret parameters' values redacted (see acs3_string_to_sign)."""
    signed = {key: value for key, value in params.items() if key != "Signature"}
    canonical = "&".join(
        f"{percent_encode(key)}={REDACTED if shown and is_secret_parameter(key) else percent_encode(signed[key])}"
        for key in sorted(signed)
    )
    return f"{method}&%2F&{percent_encode(canonical)}"


def rpc_signature(method: str, params: dict[str, str], secret: str) -> str:
    digest = hmac.new(f"{secret}&".encode(), rpc_string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_signature(
    request: HttpRequest,
    signed: SignedRequest,
    secret: str,
    *,
    query: dict[str, str],
    params: dict[str, str],
    nonce_noted: bool | None = None,
) -> None:
    """SignatureError unless the signature matches, the time is within ±15 minutes and the nonce is new.

    `nonce_noted`: None to store the nonce here; True or False when the key's lookup has stored it already or found it
    seen (`nonce_goes_with_the_key`), which then counts only once the signature and the time have passed."""
    if signed.scheme == "acs3":
        # Every x-acs-* header the request carries must be signed (the SDKs sign them all): otherwise a
        # captured request could be replayed with a fresh nonce or another action.
        present = {name.lower() for name in request.headers if name.lower().startswith("x-acs-")}
        required = {"host", "x-acs-date", "x-acs-signature-nonce"} | present
        if not required <= set(signed.signed_headers):
            raise SignatureError("IncompleteSignature", "The signature must cover the host and every x-acs-* header.")
        body = request.body
        if hashlib.sha256(body).hexdigest() != _lower_headers(request).get("x-acs-content-sha256", ""):
            raise SignatureError("SignatureDoesNotMatch", "The body does not match x-acs-content-sha256.")
        expected = acs3_signature(request, signed, secret, query)
    else:
        expected = rpc_signature(request.method or "", params, secret)
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        # As RAM does, the string the server signed, so that the caller can see where its own differs.
        computed = (
            acs3_string_to_sign(request, signed, query, shown=True)
            if signed.scheme == "acs3"
            else rpc_string_to_sign(request.method or "", params, shown=True)
        )
        raise SignatureError(
            "SignatureDoesNotMatch",
            f"Specified signature is not matched with our calculation. server string to sign is:{computed}",
            status=400,
        )
    now = timezone.now()
    if signed.timestamp is None or abs(now - signed.timestamp) > MAX_CLOCK_SKEW:
        raise SignatureError(
            "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired or not within 15 minutes."
        )
    if not signed.nonce or len(signed.nonce) > 128:
        raise SignatureError("MissingSignatureNonce", "SignatureNonce is mandatory for this action.")
    if nonce_noted is None:
        remember_nonce(signed.access_key_id, signed.nonce, now)
        return
    _prune_now_and_then(now)
    if not nonce_noted:
        raise SignatureError(*_NONCE_USED, status=400)


def nonce_goes_with_the_key(signed: SignedRequest, now: datetime) -> bool:
    """Whether the request's nonce can be stored by the key's own lookup (AccessKey.for_signature_noting_nonce): on
    PostgreSQL outside a transaction, for a request whose timestamp and nonce `verify_signature` would let through to
    the nonce. It saves a signed call one of its three round trips; a request whose signature then fails takes its
    nonce back out (`forget_nonce`), so a forger leaves nothing behind and the nonce's owner can still use it."""
    connection = connections[DEFAULT_DB_ALIAS]
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and signed.timestamp is not None
        and abs(now - signed.timestamp) <= MAX_CLOCK_SKEW
        and 0 < len(signed.nonce) <= 128
    )


_NONCE_USED = "SignatureNonceUsed", "Specified signature nonce was used already."


@statement
def _insert_nonce(columns: Columns, table: Table) -> str:
    # One statement: the unique constraint decides between concurrent requests, and a conflict leaves any
    # surrounding transaction usable. Plain SQL, as the other statements on every signed request (portal.rows).
    return (
        f"INSERT INTO {table(SeenNonce)} (access_key_id, nonce, seen_at) VALUES (%s, %s, %s)"  # noqa: S608 - the name from the model's metadata; values are parameters
        " ON CONFLICT DO NOTHING"
    )


@statement
def _insert_nonce_committed_lazily(columns: Columns, table: Table) -> str:
    # PostgreSQL, outside a transaction: the same insert, whose own commit does not wait for the WAL to reach the
    # disk (synchronous_commit off for this one statement's transaction; set_config's third argument keeps it
    # local to it). Waiting was most of a signed call's database time (about 450 of 700 µs on this machine). A
    # crash of the database server can forget the nonces of its last few hundred milliseconds (three times
    # wal_writer_delay at most); a request replayed after that would still need the captured signature within its
    # 15 minutes. Everything else the portal commits keeps the server's setting.
    return (
        f"INSERT INTO {table(SeenNonce)} (access_key_id, nonce, seen_at)"
        " SELECT %s, %s, %s WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL"
        " ON CONFLICT DO NOTHING"
    )


def _prune_now_and_then(now: datetime) -> None:
    if random.random() < 0.01:
        SeenNonce.objects.filter(seen_at__lt=now - 2 * MAX_CLOCK_SKEW).delete()


def remember_nonce(access_key_id: str, nonce: str, now: datetime) -> None:
    """A nonce is accepted once per key within the time window, by whichever process sees it first."""
    _prune_now_and_then(now)
    connection = connections[DEFAULT_DB_ALIAS]
    lazily = connection.vendor == "postgresql" and not connection.in_atomic_block
    insert = _insert_nonce_committed_lazily if lazily else _insert_nonce
    if execute(insert(), [access_key_id, nonce, adapt_datetime(now)]) != 1:
        raise SignatureError(*_NONCE_USED, status=400)


@statement
def _delete_nonce(columns: Columns, table: Table) -> str:
    return f"DELETE FROM {table(SeenNonce)} WHERE access_key_id = %s AND nonce = %s"  # noqa: S608 - as above


def forget_nonce(access_key_id: str, nonce: str) -> None:
    """The nonce of a request that failed its signature check after the key's lookup stored it."""
    execute(_delete_nonce(), [access_key_id, nonce])


# MaxCompute (ODPS) request signing, as pyodps signs: `Authorization: ODPS <AccessKeyId>:<base64 HMAC-SHA1>` over
# the method, Content-MD5, Content-Type, Date, the x-odps- headers and the resource. The scheme carries no nonce
# and does not cover the body unless Content-MD5 is sent (pyodps sends none), so the Date's age is the only bound
# on a captured request and TLS is what protects the body in transit; Content-MD5, when sent, is checked here.
ODPS = "ODPS"


def parse_odps_authorization(request: HttpRequest) -> SignedRequest:
    """How an ODPS request says it is signed; SignatureError (with MaxCompute's codes) when it does not say so."""
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    access_key_id, _, signature = credential.rpartition(":")
    if scheme != ODPS or not access_key_id or not signature:
        raise SignatureError(
            "AuthorizationRequired", "The Authorization header is invalid or missing: sign with an AccessKey.", 401
        )
    if "/" in access_key_id:
        # pyodps signs with v4 when it knows a region, and falls back to v2 on this very answer.
        raise SignatureError(
            "AuthorizationRequired",
            "The Authorization header is invalid or missing a supported signature: only ODPS HMAC-SHA1 (v2).",
            401,
        )
    timestamp = None
    with contextlib.suppress(TypeError, ValueError, IndexError):
        timestamp = parsedate_to_datetime(request.headers.get("Date", ""))
    if timestamp is not None and timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    return SignedRequest(scheme="odps", access_key_id=access_key_id, signature=signature, nonce="", timestamp=timestamp)


def _header_text(value: str) -> str:
    # WSGI hands header values over as Latin-1; pyodps signs their UTF-8 text.
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def odps_canonical_string(request: HttpRequest, resource_path: str) -> str:
    """MaxCompute's string to sign; `resource_path` is the path relative to the endpoint the client was given."""
    params = dict(parse_qsl(unquote(request.META.get("QUERY_STRING", "")), keep_blank_values=True))
    resource = resource_path
    if params:
        resource += "?" + "&".join(key if value == "" else f"{key}={value}" for key, value in sorted(params.items()))
    signed_headers = {"content-type": "", "content-md5": ""}
    for header, value in request.headers.items():
        name = header.lower()
        if name in signed_headers or name.startswith("x-odps-"):
            signed_headers[name] = _header_text(value)
    signed_headers["date"] = request.headers.get("Date", "")
    signed_headers |= {key: value for key, value in params.items() if key.startswith("x-odps-")}
    lines = [request.method or ""]
    for name in sorted(signed_headers):
        lines.append(f"{name}:{signed_headers[name]}" if name.startswith("x-odps-") else signed_headers[name])
    lines.append(resource)
    return "\n".join(lines)


def odps_signature(canonical_string: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), canonical_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_odps_signature(request: HttpRequest, signed: SignedRequest, secret: str, *, resource_path: str) -> None:
    """SignatureError unless the signature matches, Content-MD5 (if sent) matches the body and the Date is
    within ±15 minutes."""
    expected = odps_signature(odps_canonical_string(request, resource_path), secret)
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        raise SignatureError(
            "SignatureNotMatch", "ODPS-0410042:Invalid signature value - the request signature does not match.", 403
        )
    content_md5 = request.headers.get("Content-MD5")
    if content_md5 is not None and content_md5 != base64.b64encode(hashlib.md5(request.body).digest()).decode():  # noqa: S324 - the protocol's checksum, not a password hash
        raise SignatureError("InvalidParameter", "The body does not match its Content-MD5 header.", 400)
    now = timezone.now()
    if signed.timestamp is None or abs(now - signed.timestamp) > MAX_CLOCK_SKEW:
        # pyodps reads the window and both times back out of this message (errors.RequestTimeTooSkewed).
        expires = (signed.timestamp or now) + MAX_CLOCK_SKEW
        raise SignatureError(
            "RequestTimeTooSkewed",
            f"max_interval_date:{int(MAX_CLOCK_SKEW.total_seconds() * 1000)},"
            f"expire_date:{expires:%Y-%m-%dT%H:%M:%S.000Z},now_date:{now:%Y-%m-%dT%H:%M:%S.000Z}",
            403,
        )
