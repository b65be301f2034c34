"""gunicorn's settings for `make serve` (deploy/serve). Every number can be set from the environment."""

import multiprocessing
import os
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

bind = f"{os.environ.get('BIND_ADDRESS', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Sync workers: each request holds one process, and the database is the wait. Two per core, plus one.
workers = int(os.environ.get("WEB_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))  # a worker stuck this long is replaced
graceful_timeout = 30  # on SIGTERM or SIGHUP, requests in flight get this long to finish
keepalive = 5
# Workers are replaced now and then (jittered, so not all at once): a slow leak never grows for ever.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))  # 0: never
max_requests_jitter = max_requests // 10
preload_app = True  # the portal is imported once and shared by the forked workers
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# One line per request, the query string (which the RAM SDKs fill with every parameter) redacted.
logger_class = "portal.serving.RedactingLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request=%({x-request-id}o)s'
# The proxy whose X-Forwarded-* headers count (portal.settings reads the client's address the same way).
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "127.0.0.1")
# gunicorn's runtime control socket (`gunicornc`), one per instance beside the portal's files, so that two instances
# on one machine do not share one; set CONTROL_SOCKET=off to have none.
_control = os.environ.get("CONTROL_SOCKET", "")
control_socket_disable = _control == "off"
_var = os.environ.get("PORTAL_VAR_DIR") or str(Path(__file__).resolve().parents[1] / "var")
control_socket = _control if _control not in ("", "off") else f"{_var}/gunicorn-{os.environ.get('PORT', '8000')}.ctl"
