"""Sign-in throughput against the hash-bound limit of one core (SPEC §7: ratio ≥ 0.8).

Baseline: Argon2id verifications per second at the portal's parameters, on this core, in this run.
Measured: complete RAM-user sign-ins per second (password step, TOTP step, session created), each a
different user with a fresh code, through Django's full middleware stack, in the same process.

    .venv/bin/python benchmarks/sign_in.py [--users 60]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Production settings: no debug bookkeeping; plain HTTP because the test client speaks it.
os.environ.update(DEBUG="false", SECRET_KEY="benchmark-only-" + "k" * 40, ALLOWED_HOSTS="testserver")
os.environ.update(SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0")

import django

django.setup()

from django.contrib.auth.hashers import check_password, make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django_otp.oath import TOTP  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from accounts.actors import Actor  # noqa: E402
from accounts.services.primary_accounts import create_primary_account  # noqa: E402
from accounts.services.ram_users import NewRamUser, create_ram_users  # noqa: E402
from portal.audit import Origin  # noqa: E402

PASSWORD = "Quiet-Lantern-Harbor-5521"
WARM_UP = 5  # the first requests compile templates and fill caches


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def sign_in(url: str, name: str, device: TOTPDevice) -> None:
    """One person's whole sign-in, as a browser makes it: password form, redirects, code form."""
    client = Client()
    response = client.post(url, {"login": name, "password": PASSWORD})
    while response.status_code == 302 and "verify" not in response.url:
        response = client.get(response.url)
    response = client.post("/signin/verify/", {"otp_code": code_for(device)})
    if response.status_code != 302 or "_auth_user_id" not in client.session:
        raise SystemExit(f"sign-in of {name} failed: {response.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=60)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    origin = Origin(channel="command")
    account = create_primary_account(email="bench@example.com", password=PASSWORD, name="Bench", origin=origin)
    actor = Actor(account=account, origin=origin, user=account.owner)
    names = [f"user{i:05d}" for i in range(args.users)]
    for start in range(0, len(names), 50):
        create_ram_users(
            actor=actor,
            new_users=[
                NewRamUser(name=n, display_name=n, console_logon=True, password=PASSWORD, must_reset_password=False)
                for n in names[start : start + 50]
            ],
        )
    devices = {
        device.user.ram_user.name: device
        for device in (
            TOTPDevice.objects.create(user=ram_user.user, name="bench", confirmed=True)
            for ram_user in account.ram_users.select_related("user")
        )
    }
    encoded = make_password(PASSWORD)
    started = time.perf_counter()
    for _ in range(args.users - WARM_UP):
        check_password(PASSWORD, encoded)
    hashes_per_second = (args.users - WARM_UP) / (time.perf_counter() - started)

    url = f"/signin/{account.default_domain}/"
    warm_up, measured = names[:WARM_UP], names[WARM_UP:]
    for name in warm_up:
        sign_in(url, name, devices[name])
    started = time.perf_counter()
    for name in measured:
        sign_in(url, name, devices[name])
    sign_ins_per_second = len(measured) / (time.perf_counter() - started)


    ratio = sign_ins_per_second / hashes_per_second
    print(f"Argon2id verifications per second (baseline, one core): {hashes_per_second:8.1f}")
    print(f"complete sign-ins (password + TOTP) per second:         {sign_ins_per_second:8.1f}")
    print(f"ratio: {ratio:.2f} (target ≥ 0.80) {'OK' if ratio >= 0.8 else 'BELOW TARGET'}")


if __name__ == "__main__":
    main()
