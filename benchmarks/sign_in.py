"""Sign-in throughput against the hash-bound limit of one core (SPEC §7: ratio ≥ 0.8).

Baseline: Argon2id verifications per second at the portal's parameters, on one core, in this run.
Measured: complete RAM-user sign-ins per second against the portal served by one single-threaded
process (so at most one core): password form, redirects, code page and code, session created. Each
sign-in is a different user with a fresh TOTP code, made by a client in this process as a browser would.
The machine is shared and its speed drifts, so hashing and signing in are measured in alternating rounds
and the median round's ratio is the result.

    .venv/bin/python benchmarks/sign_in.py [--rounds 5] [--per-round 15]
"""

import argparse
import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from served import report_rounds, served, setup

setup()

from django.contrib.auth.hashers import check_password, make_password
from django_otp.oath import TOTP

from accounts.actors import Actor
from accounts.models import Authenticator
from accounts.services.otp import new_authenticator
from accounts.services.primary_accounts import create_primary_account
from accounts.services.ram_users import NewRamUser, create_ram_users
from portal.audit import Origin

PASSWORD = "Quiet-Lantern-Harbor-5521"
WARM_UP = 5  # the first requests compile templates and fill caches
CLIENTS = 4  # people signing in at once
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class LoopbackCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Sends the production settings' Secure cookies over plain HTTP, to loopback only."""

    def return_ok_secure(self, cookie, request):
        return True


def code_for(device: Authenticator) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


class StopAtRedirect(urllib.request.HTTPRedirectHandler):
    """The sign-in is complete once the code is accepted: the landing page that follows is not part of it."""

    def redirect_request(self, request, fp, code, message, headers, new_url):  # noqa: PLR0917 - urllib's signature
        if new_url.endswith(("/overview/", "/me/")):
            return None
        return super().redirect_request(request, fp, code, message, headers, new_url)


def sign_in(base: str, domain: str, name: str, device: Authenticator) -> None:
    """One person's sign-in as a browser makes it: form, password, redirects, code page, code."""
    jar = http.cookiejar.CookieJar(policy=LoopbackCookiePolicy())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), StopAtRedirect())

    def form_post(path: str, page: str, fields: dict) -> str:
        token = CSRF_FIELD.search(page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(base + path, data=data, headers={"Referer": base + path})
        try:
            with opener.open(request) as response:
                return response.geturl(), response.read().decode()
        except urllib.error.HTTPError as stopped:  # the final 302, not followed
            if stopped.code != 302:
                raise
            return stopped.headers["Location"], ""

    page = opener.open(f"{base}/signin/{domain}/").read().decode()
    url, page = form_post(f"/signin/{domain}/", page, {"login": name, "password": PASSWORD})
    if not url.endswith("/signin/verify/"):
        raise SystemExit(f"{name}: expected the code page, got {url}")
    url, _ = form_post("/signin/verify/", page, {"otp_code": code_for(device)})
    if not url.endswith("/overview/") and not url.endswith("/me/"):
        raise SystemExit(f"{name}: sign-in did not complete ({url})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=15, help="sign-ins (and hashes) per round")
    args = parser.parse_args()
    origin = Origin(channel="command")
    account = create_primary_account(email="bench@example.com", password=PASSWORD, name="Bench", origin=origin)
    actor = Actor(account=account, origin=origin, user=account.owner)
    names = [f"user{i:05d}" for i in range(WARM_UP + args.rounds * args.per_round)]
    for start in range(0, len(names), 50):
        batch = names[start : start + 50]
        create_ram_users(
            actor=actor,
            new_users=[
                NewRamUser(name=n, display_name=n, console_logon=True, password=PASSWORD, must_reset_password=False)
                for n in batch
            ],
        )
    devices = {
        ram_user.name: new_authenticator(user=ram_user.user, name="bench", confirmed=True)
        for ram_user in account.ram_users.select_related("user")
    }

    encoded = make_password(PASSWORD)
    hash_rates, sign_in_rates = [], []
    with served() as base:
        for name in names[:WARM_UP]:
            sign_in(base, account.default_domain, name, devices[name])
        for start in range(WARM_UP, len(names), args.per_round):
            batch = names[start : start + args.per_round]
            started = time.perf_counter()
            for _ in batch:
                check_password(PASSWORD, encoded)
            hash_rates.append(len(batch) / (time.perf_counter() - started))
            started = time.perf_counter()
            # Several people sign in at once, so that the one-core server, not this client, sets the pace.
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(lambda name: sign_in(base, account.default_domain, name, devices[name]), batch))
            sign_in_rates.append(len(batch) / (time.perf_counter() - started))

    report_rounds(
        baseline="Argon2id verifications per second (baseline, one core, median)",
        baselines=hash_rates,
        measured="complete sign-ins (password + TOTP) per second, 1 core (median)",
        rates=sign_in_rates,
    )


if __name__ == "__main__":
    main()
