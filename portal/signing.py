"""Checking signed API requests: Alibaba Cloud's ACS3-HMAC-SHA256 and RPC HMAC-SHA1 (signature version 1.0).

This module knows the protocols, not the keys: the caller finds the AccessKey secret for the claimed ID and
asks whether the signature matches. Time windows and nonces are checked here too, against a store shared
by every server process (the database), so that a captured request cannot be replayed.
"""

import base64
import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.models import SeenNonce

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

    scheme: str  # "acs3" or "rpc"
    access_key_id: str
    signature: str
    nonce: str
    timestamp: datetime | None
    signed_headers: tuple[str, ...] = ()


def percent_encode(value: str) -> str:
    return quote(value, safe="~", encoding="utf-8")


def _parse_time(value: str) -> datetime | None:
    for pattern in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _lower_headers(request) -> dict[str, str]:
    return {key.lower(): value for key, value in request.headers.items()}


def parse_signed_request(request, params: dict[str, str]) -> SignedRequest:
    """How the request says it is signed; SignatureError when it does not say so properly."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith(ACS3 + " "):
        fields = {}
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


def acs3_signature(request, signed: SignedRequest, secret: str, query: dict[str, str]) -> str:
    headers = _lower_headers(request)
    canonical_query = "&".join(f"{key}={percent_encode(query[key])}" for key in sorted(query))
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed.signed_headers)
    payload_hash = headers.get("x-acs-content-sha256") or hashlib.sha256(request.body).hexdigest()
    canonical_request = "\n".join(
        [
            request.method,
            request.path or "/",
            canonical_query,
            canonical_headers,
            ";".join(signed.signed_headers),
            payload_hash,
        ]
    )
    string_to_sign = f"{ACS3}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def rpc_signature(method: str, params: dict[str, str], secret: str) -> str:
    signed = {key: value for key, value in params.items() if key != "Signature"}
    canonical = "&".join(f"{percent_encode(key)}={percent_encode(signed[key])}" for key in sorted(signed))
    string_to_sign = f"{method}&%2F&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_signature(request, signed: SignedRequest, secret: str, *, query: dict[str, str], params: dict[str, str]):
    """SignatureError unless the signature matches, the time is within ±15 minutes and the nonce is new."""
    if signed.scheme == "acs3":
        if "host" not in signed.signed_headers or "x-acs-date" not in signed.signed_headers:
            raise SignatureError("IncompleteSignature", "The signature must cover the host and x-acs-date headers.")
        body = request.body
        if hashlib.sha256(body).hexdigest() != _lower_headers(request).get("x-acs-content-sha256", ""):
            raise SignatureError("SignatureDoesNotMatch", "The body does not match x-acs-content-sha256.")
        expected = acs3_signature(request, signed, secret, query)
    else:
        expected = rpc_signature(request.method, params, secret)
    if not hmac.compare_digest(expected, signed.signature):
        raise SignatureError(
            "SignatureDoesNotMatch", "The request signature does not conform to Aliyun standards.", status=400
        )
    now = timezone.now()
    if signed.timestamp is None or abs(now - signed.timestamp) > MAX_CLOCK_SKEW:
        raise SignatureError(
            "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired or not within 15 minutes."
        )
    if not signed.nonce or len(signed.nonce) > 128:
        raise SignatureError("MissingSignatureNonce", "SignatureNonce is mandatory for this action.")
    remember_nonce(signed.access_key_id, signed.nonce, now)


def remember_nonce(access_key_id: str, nonce: str, now: datetime) -> None:
    """A nonce is accepted once per key within the time window, by whichever process sees it first."""
    if random.random() < 0.01:
        SeenNonce.objects.filter(seen_at__lt=now - 2 * MAX_CLOCK_SKEW).delete()
    try:
        with transaction.atomic():
            SeenNonce.objects.create(access_key_id=access_key_id, nonce=nonce, seen_at=now)
    except IntegrityError:
        raise SignatureError("SignatureNonceUsed", "Specified signature nonce was used already.", status=400) from None
