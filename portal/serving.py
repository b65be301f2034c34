"""What the production server (gunicorn, `make serve`) needs from the portal: an access log that never carries a
secret. The official RAM SDKs send every parameter in the query string, so `CreateLoginProfile`'s password is in
the request line gunicorn logs; every atom of the access log that can hold a query string is redacted
(portal.redaction), and so is the error log."""

import re
from typing import Any

from gunicorn import glogging

from portal.redaction import REDACTED, RedactSecretsFilter, redact_query, redact_text

# Atoms that hold a bare query string (no "?" before it).
_QUERY_ATOMS = frozenset({"q", "{query_string}e"})
# Request headers written as they came would carry credentials: never logged.
_HIDDEN_ATOMS = frozenset({"{authorization}i", "{cookie}i", "{http_authorization}e", "{http_cookie}e"})


class RedactingLogger(glogging.Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(RedactSecretsFilter())
        # The atoms the access log's format names (gunicorn looks {…} atoms up in lower case): only they are written,
        # so only they are redacted and handed on, not the sixty-odd gunicorn makes of every request's environment.
        self._used_atoms = {
            name.lower() if name.startswith("{") else name
            for name in re.findall(r"%\(([^)]*)\)", cfg.access_log_format or "")
        }

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        written = {}
        for key in self._used_atoms & atoms.keys():
            value = atoms[key]
            if key in _HIDDEN_ATOMS:
                value = REDACTED
            elif isinstance(value, str):
                value = redact_query(value) if key in _QUERY_ATOMS else redact_text(value)
            written[key] = value
        return written
