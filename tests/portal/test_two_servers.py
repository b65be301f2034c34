"""Several app servers and workers on one database (issue 15, item 3): two `make serve` instances (each gunicorn
with two workers and a background worker) driven in parallel. A nonce is accepted once across both; the AccessKey
limit holds when one user's requests land on different servers; a one-time code sent to both at once is accepted
once; a session made on one is good on the other; the sign-in lock counts attempts on both; two mail workers send
each packet email exactly once."""

import html
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client
from django.urls import reverse

from accounts.actors import operator_actor
from accounts.models import AccessKey, DeliveryPacket, PacketEmail
from accounts.services.access_keys import issue_access_key
from accounts.services.packets import email_delivery_packet
from accounts.services.password_step import SIGN_IN_REFUSED
from accounts.services.ram_users import NewRamUser, create_ram_users
from tests.api.conftest import signed_query
from tests.portal.servers import SERVERS_SECRET_KEY, NoRedirect, served

pytestmark = pytest.mark.usefixtures("transactional_db")


def signed_url(base: str, key_id: str, secret: str, action: str, **params: str) -> str:
    return f"{base}/?{signed_query(key_id, secret, {'Action': action, **params})}"


def post(url: str, cookie: str = "") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=b"", method="POST", headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wrong_sign_in(base: str, account) -> str:
    """A RAM user's sign-in with a wrong password, as a browser sends it (the form's CSRF token and cookie)."""
    url = f"{base}/signin/{account.default_domain}/"
    with urllib.request.urlopen(url, timeout=20) as response:
        page = response.read().decode()
        cookie = next(
            header.split(";")[0] for header in response.headers.get_all("Set-Cookie") if header.startswith("csrftoken=")
        )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "login": "alice", "password": "wrong-password"})
    request = urllib.request.Request(url, data=form.encode(), headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.read().decode()


class Browser:
    """A browser of one server: its cookies (Secure ones too: the test servers speak plain HTTP), no redirects."""

    def __init__(self, base: str):
        self.base, self.cookies = base, {}

    def open(self, path: str, form: dict | None = None) -> tuple[int, str, str]:
        """(status, Location, body) of a GET, or of a POST of `form` with the page's CSRF token."""
        if form is not None:
            form = {"csrfmiddlewaretoken": self.token, **form}
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(form).encode() if form is not None else None,
            headers={"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())},
        )

        try:
            response = urllib.request.build_opener(NoRedirect).open(request, timeout=20)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, value = header.split(";")[0].partition("=")
                self.cookies[name] = value
            body = response.read().decode()
            found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
            if found:
                self.token = found.group(1)
            return response.status, response.headers.get("Location", ""), body


def test_two_servers_and_two_workers_share_what_must_hold_across_processes(tmp_path, owner, ram_user, smtp, settings):
    operator = operator_actor(owner.account)
    owner_key = issue_access_key(actor=operator, holder=owner.user, otp_code=None)
    key_id, secret = owner_key.access_key.access_key_id, owner_key.secret
    [bob] = create_ram_users(actor=owner.actor, new_users=[NewRamUser(name="bob", display_name="Bob")])
    issue_access_key(actor=operator, holder=bob.ram_user.user, otp_code=None)  # one of the two he may hold
    mail = {"PORTAL_MAIL_RETRY_SECONDS": "1"}
    smtp_settings = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.controller.port)}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        served(tmp_path / "a", SECURE_SSL_REDIRECT="false", **mail, **smtp_settings) as first,
        served(tmp_path / "b", SECURE_SSL_REDIRECT="false", **mail, **smtp_settings) as second,
    ):
        servers = [first.url, second.url]

        # A nonce is accepted once, whichever server sees it first.
        url = signed_url(first.url, key_id, secret, "GetUser", UserName="bob")
        replayed = url.replace(first.url, second.url)
        assert post(url)[0] == 200
        status, answer = post(replayed)
        assert status == 400 and answer["Code"] == "SignatureNonceUsed"

        # Bob holds one AccessKey of two: four CreateAccessKey calls at once, two on each server; one goes in.
        calls = [signed_url(servers[i % 2], key_id, secret, "CreateAccessKey", UserName="bob") for i in range(4)]
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(post, calls))
        assert sorted(status for status, _ in results) == [200, 409, 409, 409], results
        assert AccessKey.objects.filter(user=bob.ram_user.user).count() == 2

        # A session made on one server is good on the other (the sessions are in the shared database). (Made here,
        # with the servers' SECRET_KEY, which signs it.)
        settings.SECRET_KEY = SERVERS_SECRET_KEY
        client = Client()
        client.force_login(owner.user)
        cookie = f"sessionid={client.cookies['sessionid'].value}"
        for base in servers:
            request = urllib.request.Request(f"{base}/users/", headers={"Cookie": cookie})
            with urllib.request.urlopen(request, timeout=20) as response:
                assert response.url == f"{base}/users/", "sent to sign in: the session was not found"
                assert response.status == 200 and b"bob" in response.read()

        # Eight wrong passwords for alice from one address at once, four on each server: the policy's five are
        # checked, the other three meet the lock, which the two servers keep in the one database.
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: wrong_sign_in(servers[i % 2], owner.account), range(8)))
        assert sum("sign-in from here is locked" in answer for answer in answers) == 3, answers
        assert sum(html.escape(SIGN_IN_REFUSED) in answer for answer in answers) == 5

        # The owner signs in on both servers at once and both reach the code step; one TOTP code, sent to both at
        # the same moment, lets in one of them only.
        browsers = [Browser(base) for base in servers]
        for browser in browsers:
            browser.open(reverse("accounts:owner-sign-in"))
            status, location, _ = browser.open(
                reverse("accounts:owner-sign-in"), {"email": owner.user.email, "password": owner.password}
            )
            assert (status, location) == (302, reverse("accounts:sign-in-verify"))
            browser.open(location)
        code = owner.code()
        with ThreadPoolExecutor(2) as pool:
            verified = list(
                pool.map(lambda b: b.open(reverse("accounts:sign-in-verify"), {"otp_code": code}), browsers)
            )
        assert sorted(status for status, _, _ in verified) == [200, 302], [v[:2] for v in verified]
        assert any("already been used" in body for _, _, body in verified)

        # Twenty packet emails queued; both background workers drain the outbox; each message is sent once.
        created = create_ram_users(
            actor=owner.actor,
            new_users=[
                NewRamUser(name=f"mail{n:02d}", display_name=f"Mail {n}", console_logon=True) for n in range(20)
            ],
        )
        for item in created:
            email_delivery_packet(actor=owner.actor, packet=item.packet, to=f"{item.ram_user.name}@example.com")
        deadline = time.monotonic() + 60
        while PacketEmail.objects.filter(sent_at__isnull=True).exists():
            assert time.monotonic() < deadline, "the outbox was not drained within 60 s"
            time.sleep(0.5)
    recipients = [message["To"] for message in smtp.messages]
    assert sorted(recipients) == sorted(f"mail{n:02d}@example.com" for n in range(20))
    assert DeliveryPacket.objects.filter(state="sent").count() == 20
