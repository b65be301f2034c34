"""The production server's access log (portal.serving.RedactingLogger): the atoms its format names, each redacted;
nothing of the request that the format does not name is handed on."""

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config

from portal.redaction import REDACTED
from portal.serving import RedactingLogger

CANARY = "Canary-Pass-6481"
ROOT = Path(__file__).resolve().parents[2]


def logger(access_log_format: str) -> RedactingLogger:
    config = Config()
    config.set("access_log_format", access_log_format)
    return RedactingLogger(config)


def atoms_of(log: RedactingLogger) -> dict:
    query = f"Action=CreateLoginProfile&UserName=alice&Password={CANARY}"
    environ = {
        "REMOTE_ADDR": "203.0.113.9",
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/?{query}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": query,
        "PATH_INFO": "/",
        "HTTP_USER_AGENT": "AlibabaCloud (Linux) Python/3.13",
    }
    request = SimpleNamespace(headers=[("Authorization", f"ACS3-HMAC-SHA256 {CANARY}"), ("Cookie", f"s={CANARY}")])
    response = SimpleNamespace(status="200 OK", sent=42, headers=[("X-Request-Id", "r-1")])
    return log.atoms(response, request, environ, timedelta(milliseconds=3))


def test_only_the_format_s_atoms_are_handed_on_each_redacted():
    atoms = atoms_of(logger('%(h)s "%(r)s" %(q)s %(s)s %({Authorization}i)s %({cookie}i)s %({x-request-id}o)s'))
    assert set(atoms) == {"h", "r", "q", "s", "{authorization}i", "{cookie}i", "{x-request-id}o"}
    assert CANARY not in repr(atoms)
    assert atoms["r"] == f"POST /?Action=CreateLoginProfile&UserName=alice&Password={REDACTED} HTTP/1.1"
    assert atoms["q"] == f"Action=CreateLoginProfile&UserName=alice&Password={REDACTED}"
    assert atoms["{authorization}i"] == REDACTED and atoms["{cookie}i"] == REDACTED
    assert atoms["{x-request-id}o"] == "r-1" and atoms["h"] == "203.0.113.9"


def test_the_portal_s_own_format_writes_no_secret():
    access_log_format = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["access_log_format"]
    log = logger(access_log_format)
    line = access_log_format % log.atoms_wrapper_class(atoms_of(log))
    assert CANARY not in line
    assert line.startswith('203.0.113.9 "POST /?Action=CreateLoginProfile&UserName=alice&Password=')
    assert "request=r-1" in line
