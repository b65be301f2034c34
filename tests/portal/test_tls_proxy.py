"""Behind a TLS proxy (issue 15, item 2): Debian's nginx with deploy/nginx.conf and a self-signed certificate in front
of `make serve` with BEHIND_TLS_PROXY. HTTPS end to end, plain HTTP redirected, secure cookies and HSTS, the client's
address from the proxy (a forged X-Forwarded-For is ignored), and no query string in nginx's log."""

import http.cookiejar
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from portal.models import AuditEvent
from tests.api.test_no_secret_in_logs import _free_port
from tests.portal.servers import ROOT, get, served

CANARY = "Canary-Proxy-Password-9047!"


def nginx_in_front(tmp_path, upstream_port: int) -> tuple[subprocess.Popen, int, int, ssl.SSLContext]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    certificate, key = tmp_path / "portal.crt", tmp_path / "portal.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(certificate),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    http_port, https_port = _free_port(), _free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    for placeholder, value in {
        "@UPSTREAM@": f"127.0.0.1:{upstream_port}",
        "@HTTP_PORT@": f"127.0.0.1:{http_port}",
        "@HTTPS_PORT@": f"127.0.0.1:{https_port}",
        "@SERVER_NAME@": "localhost",
        "@CERTIFICATE@": str(certificate),
        "@CERTIFICATE_KEY@": str(key),
        "@ACCESS_LOG@": str(tmp_path / "nginx-access.log"),
    }.items():
        site = site.replace(placeholder, value)
    (tmp_path / "site.conf").write_text(site)
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    # What Debian's /etc/nginx/nginx.conf provides around a site, in the test's own directory.
    (tmp_path / "nginx.conf").write_text(
        f"daemon off; user root root; pid {tmp_path}/nginx.pid; error_log {tmp_path}/nginx-error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{ client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy; fastcgi_temp_path {temp}/fcgi;"
        f" uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi; include {tmp_path}/site.conf; }}\n"
    )
    process = subprocess.Popen(
        [nginx, "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "nginx-error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    trust = ssl.create_default_context(cafile=str(certificate))
    deadline = time.monotonic() + 20
    while True:
        try:
            get(f"https://localhost:{https_port}/healthz", handlers=(urllib.request.HTTPSHandler(context=trust),))
            break
        except OSError:
            assert process.poll() is None, (tmp_path / "nginx-error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not answer within 20 s"
            time.sleep(0.2)
    return process, http_port, https_port, trust


@pytest.mark.usefixtures("transactional_db")
def test_nginx_in_front_with_tls_and_the_clients_address_from_the_proxy(tmp_path, owner, ram_user):
    with served(tmp_path, BEHIND_TLS_PROXY="true", ALLOWED_HOSTS="localhost") as portal:
        proxy, http_port, https_port, trust = nginx_in_front(tmp_path, portal.port)
        base = f"https://localhost:{https_port}"
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=trust), urllib.request.HTTPCookieProcessor(jar)
        )
        try:
            # HTTPS end to end: HSTS on the answer, no redirect loop (the proxy says the request was secure).
            with browser.open(f"{base}/healthz", timeout=10) as response:
                assert response.status == 200 and response.read() == b"ok"
                assert response.headers["Strict-Transport-Security"].startswith("max-age=")
            # Plain HTTP to the proxy goes to HTTPS.
            status, _ = get(f"http://localhost:{http_port}/signin/")
            assert status == 301
            # The sign-in page: its cookie is Secure. A wrong password posted with a forged X-Forwarded-For.
            sign_in = f"{base}/signin/{owner.account.default_domain}/"
            with browser.open(sign_in, timeout=10) as response:
                page = response.read().decode()
                assert all(cookie.secure for cookie in jar)
                assert "; secure" in response.headers["Set-Cookie"].lower()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            form = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": token, "login": "alice", "password": "wrong-password"}
            ).encode()
            request = urllib.request.Request(
                sign_in, data=form, headers={"X-Forwarded-For": "6.6.6.6", "Referer": sign_in}
            )
            with browser.open(request, timeout=10) as response:
                assert response.status == 200 and "incorrect" in response.read().decode().lower()
            failed = AuditEvent.objects.filter(action="sign_in.failed").latest("pk")
            assert failed.source_ip == "127.0.0.1"  # the address nginx saw, not the one the client claimed
            assert not AuditEvent.objects.filter(source_ip="6.6.6.6").exists()
            # A password in a query string (as the RAM SDKs send it) is in no log.
            get(
                f"{base}/?Action=CreateLoginProfile&Password={CANARY}",
                handlers=(urllib.request.HTTPSHandler(context=trust),),
            )
        finally:
            proxy.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            proxy.wait(timeout=30)
    nginx_log = (tmp_path / "nginx-access.log").read_text()
    assert '"GET /healthz HTTP/1.1" 200' in nginx_log and "Action=" not in nginx_log
    assert CANARY not in nginx_log and CANARY not in portal.log.read_text()
