"""Django's PostgreSQL backend with a health check that costs no round trip while the server has said nothing.

Django checks a kept connection (CONN_HEALTH_CHECKS) before a request's first statement by running `SELECT 1`:
a round trip on every request, about a tenth of a signed API call (benchmarks/signed_api.py). A server that ends a
connection (a restart, `pg_terminate_backend`, an idle timeout) tells the client so, or closes the socket; either makes
the idle connection's socket readable. So the check asks the socket first: nothing to read on an idle connection
means nothing has happened to it, and only when something has arrived does Django's `SELECT 1` decide.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed or raw.broken:
            return False
        pgconn = raw.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status == pq.TransactionStatus.IDLE:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
            if not readable:
                return True
        return super().is_usable()
