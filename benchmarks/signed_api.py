"""Signed RAM API calls per second against an unsigned no-op view on the same server (SPEC §7: ≥ 0.8), the same at 100
and at 100,000 users, keys and stored nonces, and against moto's IAM GetUser (issue 15: ≥ 1.5 times moto's rate).

Everything runs through the same single-process server (gunicorn, one sync worker, one core). The calls are GetUser,
signed as the SDKs sign (HMAC-SHA1, signature version 1.0, a fresh nonce and timestamp each) with an AccessKey issued
by the portal; the client signs them all before the clock starts and sends them over raw sockets, so that its own
work stays small beside the server's and the server sets the pace. The machine is shared and its speed drifts, so
the kinds are measured in alternating rounds and each ratio is the median round's.

First with 100 of everything (users, AccessKeys, stored nonces); then the database grows to `--scale` of each
(inserted in bulk, statistics refreshed) and the rounds run again: the ratio to the no-op view should not move.
moto (benchmarks/requirements.txt) is served by gunicorn with the same settings, its authentication on (`POST
/moto-api/reset-auth` with 0), and answers GetUser calls signed with SigV4 by botocore for a user whose inline
policy allows iam:GetUser; it is measured beside the portal in the first phase's rounds.

    .venv/bin/python benchmarks/signed_api.py [--database postgres] [--calls 500] [--rounds 7] [--scale 100000]
"""

import argparse
import random
import socket
import statistics
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from served import bulk_ram_users, fresh_statistics, report_rounds, served, setup

setup()

from django.utils import timezone

from accounts.actors import operator_actor
from accounts.models import AccessKey
from accounts.services.access_keys import issue_access_key, new_access_key_id, new_access_key_secret
from accounts.services.primary_accounts import create_primary_account
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.audit import Origin
from portal.keyring import keyring
from portal.models import SeenNonce
from portal.signing import rpc_signature

CLIENTS = 4  # requests in flight at once, so that the one-core server is never idle
FEW = 100
BATCH = 5000


def signed_request(host: str, key_id: str, secret: str) -> bytes:
    params = {
        "Action": "GetUser",
        "Version": "2015-05-01",
        "Format": "JSON",
        "UserName": "alice",
        "AccessKeyId": key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    params["Signature"] = rpc_signature("POST", params, secret)
    query = urllib.parse.urlencode(params)
    return f"POST /?{query} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()


def send(address: tuple[str, int], request: bytes) -> None:
    with socket.create_connection(address) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status = answer.split(b" ", 2)[1]
    if status != b"200":
        raise SystemExit(f"the server answered {status.decode()}: {answer[-300:]!r}")


def rate(address: tuple[str, int], requests: list[bytes]) -> float:
    """Requests per second for this batch, CLIENTS at a time."""
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda request: send(address, request), requests))
    return len(requests) / (time.perf_counter() - started)


def address_of(base: str) -> tuple[str, tuple[str, int]]:
    host = base.removeprefix("http://")
    return host, ("127.0.0.1", int(host.rpartition(":")[2]))


# --- the portal's data ---------------------------------------------------------------------------------------------


def add_users_keys_and_nonces(account, start: int, stop: int) -> None:
    """RAM users `start`…`stop` of `account` in bulk, each with an AccessKey, and as many stored nonces (seen in the
    last ten minutes: inside the window, so none is pruned while the benchmark runs)."""
    now = timezone.now()
    for first in range(start, stop, BATCH):
        users = bulk_ram_users(account, first, min(first + BATCH, stop))
        key_ids = [new_access_key_id() for _ in users]
        AccessKey.objects.bulk_create(
            AccessKey(
                access_key_id=key_id,
                user=user,
                sealed_secret=keyring().seal(new_access_key_secret(), associated_data=key_id),
                created_by="benchmark",
            )
            for user, key_id in zip(users, key_ids, strict=True)
        )
        SeenNonce.objects.bulk_create(
            SeenNonce(
                access_key_id=key_id, nonce=uuid.uuid4().hex, seen_at=now - timedelta(seconds=random.randrange(600))
            )
            for key_id in key_ids
        )


def portal_account() -> tuple[object, str, str]:
    """An account with FEW RAM users (alice among them), FEW AccessKeys and FEW stored nonces; the owner's key."""
    origin = Origin(channel="command")
    account = create_primary_account(
        email="bench@example.com", password="Quiet-Lantern-Harbor-5521", name="Bench", origin=origin
    )
    actor = operator_actor(account)
    create_ram_users(actor=actor, new_users=[NewRamUser(name="alice", display_name="Alice")])
    issued = issue_access_key(actor=actor, holder=account.owner, otp_code=None)
    add_users_keys_and_nonces(account, 0, FEW - 1)
    return account, issued.access_key.access_key_id, issued.secret


# --- moto ----------------------------------------------------------------------------------------------------------


def moto_key(base: str) -> tuple[str, str]:
    """In moto, before its checks are on: user alice to look up, and user bench whose key may call iam:GetUser."""
    import boto3

    iam = boto3.client(
        "iam", endpoint_url=base, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup"
    )
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bench")
    allow = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}'
    iam.put_user_policy(UserName="bench", PolicyName="get-user", PolicyDocument=allow)
    key = iam.create_access_key(UserName="bench")["AccessKey"]
    request = urllib.request.Request(
        f"{base}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request, timeout=10).read()  # from now on every call is authenticated and authorised
    host, address = address_of(base)
    try:
        send(address, moto_request(host, key["AccessKeyId"], "not-" + key["SecretAccessKey"]))
    except SystemExit as refused:
        assert "403" in str(refused), refused  # SignatureDoesNotMatch: moto checks what it is measured checking
    else:
        raise SystemExit("moto accepted a call signed with a wrong secret: its checks are not on")
    return key["AccessKeyId"], key["SecretAccessKey"]


def moto_request(host: str, key_id: str, secret: str) -> bytes:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = "Action=GetUser&UserName=alice&Version=2010-05-08"
    request = AWSRequest(
        method="POST",
        url=f"http://{host}/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": host},
    )
    SigV4Auth(Credentials(key_id, secret), "iam", "us-east-1").add_auth(request)
    headers = "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
    return (f"POST / HTTP/1.1\r\n{headers}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()


# --- the rounds ----------------------------------------------------------------------------------------------------


def rounds(args, portal: str, key_id: str, secret: str, moto: tuple[str, str, str] | None):
    """Alternating rounds: the no-op view, signed calls and (when given) moto's; each kind's rates by round."""
    host, address = address_of(portal)
    noop = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    rate(address, [noop] * 50)  # warm-up: the first requests import and compile
    rate(address, [signed_request(host, key_id, secret) for _ in range(50)])
    if moto:
        moto_host, moto_address = address_of(moto[0])
        rate(moto_address, [moto_request(moto_host, moto[1], moto[2]) for _ in range(20)])
    baselines, signed, moto_rates = [], [], []
    for _ in range(args.rounds):
        calls = [signed_request(host, key_id, secret) for _ in range(args.calls)]
        baselines.append(rate(address, [noop] * args.calls))
        signed.append(rate(address, calls))
        if moto:
            # moto checks the SigV4 signature and the user's policy on every call, at about a third of the portal's
            # pace: fewer calls keep its share of a round's time like the others'.
            calls = [moto_request(moto_host, moto[1], moto[2]) for _ in range(max(50, args.calls // 3))]
            moto_rates.append(rate(moto_address, calls))
    return baselines, signed, moto_rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls of each kind per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--scale", type=int, default=100_000, help="users, keys and nonces of the second phase (0: none)"
    )
    parser.add_argument("--no-moto", action="store_true", help="leave moto out (it needs benchmarks/requirements.txt)")
    args = parser.parse_args()
    account, key_id, secret = portal_account()
    fresh_statistics()

    with served() as portal:
        if args.no_moto:
            few = rounds(args, portal, key_id, secret, None)
        else:
            with served("moto_iam:application", ready="/moto-api/") as moto:
                few = rounds(args, portal, key_id, secret, (moto, *moto_key(moto)))
        print(f"— {FEW} users, keys and stored nonces —")
        report_rounds(
            baseline="unsigned no-op view, requests per second (baseline, median)",
            baselines=few[0],
            measured="signed GetUser calls per second (median)",
            rates=few[1],
        )
        if few[2]:
            against_moto = sorted(mine / theirs for mine, theirs in zip(few[1], few[2], strict=True))
            print(
                f"moto's IAM GetUser (SigV4, authorisation on), per second (median): {statistics.median(few[2]):8.1f}"
            )
            print(f"against moto by round: {', '.join(f'{value:.2f}' for value in against_moto)}")
            verdict = "OK" if statistics.median(against_moto) >= 1.5 else "BELOW TARGET"
            print(f"against moto: {statistics.median(against_moto):.2f} × (target ≥ 1.50) {verdict}")
        if args.scale > FEW:
            started = time.perf_counter()
            add_users_keys_and_nonces(account, FEW - 1, args.scale - 1)
            fresh_statistics()
            print(f"— {args.scale:,} users, keys and stored nonces (added in {time.perf_counter() - started:.0f} s) —")
            many = rounds(args, portal, key_id, secret, None)
            report_rounds(
                baseline="unsigned no-op view, requests per second (baseline, median)",
                baselines=many[0],
                measured="signed GetUser calls per second (median)",
                rates=many[1],
            )
            at_few = statistics.median(sorted(r / b for r, b in zip(few[1], few[0], strict=True)))
            at_many = statistics.median(sorted(r / b for r, b in zip(many[1], many[0], strict=True)))
            cost = at_few / at_many
            print(
                f"a call's cost against the no-op view at {args.scale:,} over at {FEW}: {cost:.2f} "
                f"(target: the same, ≤ 1.10) {'OK' if cost <= 1.10 else 'ABOVE TARGET'}"
            )


if __name__ == "__main__":
    main()
