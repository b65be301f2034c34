"""Signed RAM API calls per second against an unsigned no-op view on the same server (SPEC §7: ≥ 0.8).

Both run through the same single-process server (one core). The calls are GetUser, signed as the SDKs sign
(HMAC-SHA1, signature version 1.0, a fresh nonce and timestamp each) with an AccessKey issued by the
portal; the client signs them all before the clock starts and sends them over raw sockets, so that its own
work stays small beside the server's and the server sets the pace. The machine is shared and its speed
drifts, so the two are measured in alternating rounds and the median round's ratio is the result.

    .venv/bin/python benchmarks/signed_api.py [--calls 500] [--rounds 7]
"""

import argparse
import socket
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from served import fresh_statistics, report_rounds, served, setup

setup()

from accounts.actors import operator_actor
from accounts.services.access_keys import issue_access_key
from accounts.services.primary_accounts import create_primary_account
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.audit import Origin
from portal.signing import rpc_signature

CLIENTS = 4  # requests in flight at once, so that the one-core server is never idle


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls of each kind per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    origin = Origin(channel="command")
    account = create_primary_account(
        email="bench@example.com", password="Quiet-Lantern-Harbor-5521", name="Bench", origin=origin
    )
    actor = operator_actor(account)
    create_ram_users(actor=actor, new_users=[NewRamUser(name="alice", display_name="Alice")])
    issued = issue_access_key(actor=actor, holder=account.owner, otp_code=None)
    key_id, secret = issued.access_key.access_key_id, issued.secret
    fresh_statistics()

    with served() as base:
        host = base.removeprefix("http://")
        address = ("127.0.0.1", int(host.rpartition(":")[2]))
        noop = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        rate(address, [noop] * 50)  # warm-up: the first requests import and compile
        rate(address, [signed_request(host, key_id, secret) for _ in range(50)])
        baselines, measured = [], []
        for _ in range(args.rounds):
            signed = [signed_request(host, key_id, secret) for _ in range(args.calls)]
            baselines.append(rate(address, [noop] * args.calls))
            measured.append(rate(address, signed))
    report_rounds(
        baseline="unsigned no-op view, requests per second (baseline, median)",
        baselines=baselines,
        measured="signed GetUser calls per second (median)",
        rates=measured,
    )


if __name__ == "__main__":
    main()
