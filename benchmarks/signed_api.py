"""Signed RAM API calls per second against an unsigned no-op view on the same server (SPEC §7: ≥ 0.8).

Both run through the same single-process server (one core); the client signs each call as the SDKs do
(HMAC-SHA1, signature version 1.0, a fresh nonce and timestamp) with an AccessKey issued by the portal.

    .venv/bin/python benchmarks/signed_api.py [--calls 400]
"""

import argparse
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from served import served, setup

setup()

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key
from accounts.services.primary_accounts import create_primary_account
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.audit import Origin
from portal.signing import rpc_signature

WARM_UP = 20


def signed_url(base: str, key_id: str, secret: str) -> str:
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
    return f"{base}/?{urllib.parse.urlencode(params)}"


CLIENTS = 4  # clients in flight at once, so that the one-core server, not the client, sets the pace


def rate(count: int, call) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda _: call(), range(count)))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    origin = Origin(channel="command")
    account = create_primary_account(
        email="bench@example.com", password="Quiet-Lantern-Harbor-5521", name="Bench", origin=origin
    )
    actor = operator_actor(account)
    create_ram_users(actor=actor, new_users=[NewRamUser(name="alice", display_name="Alice")])
    issued = issue_access_key(actor=actor, holder=account.owner, otp_code=None)
    key_id, secret = issued.access_key.access_key_id, issued.secret

    with served() as base:

        def noop():
            urllib.request.urlopen(f"{base}/healthz").read()

        def signed():
            request = urllib.request.Request(signed_url(base, key_id, secret), data=b"", method="POST")
            with urllib.request.urlopen(request) as response:
                if response.status != 200:
                    raise SystemExit(f"signed call failed: {response.status}")

        rate(WARM_UP, noop)
        rate(WARM_UP, signed)
        baseline = rate(args.calls, noop)
        measured = rate(args.calls, signed)
    ratio = measured / baseline
    print(f"unsigned no-op view, requests per second (baseline): {baseline:8.1f}")
    print(f"signed GetUser calls per second:                    {measured:8.1f}")
    print(f"ratio: {ratio:.2f} (target ≥ 0.80) {'OK' if ratio >= 0.8 else 'BELOW TARGET'}")


if __name__ == "__main__":
    main()
