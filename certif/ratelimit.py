"""A small fixed-window rate limiter in the database, per client address and door.

Each hit is one upsert on `RateLimitCounter` (PostgreSQL and SQLite both write `INSERT … ON CONFLICT … DO UPDATE …
RETURNING`): one statement, atomic under concurrent workers, the same count whichever process serves the request.
The worker purges the counters whose window is over (`purge_finished_windows`).
"""

import time

from django.conf import settings
from django.db import connection

from certif.models import RateLimitCounter


def client_address(request) -> str:
    """The client's address, from the header the proxy sets (CLIENT_IP_HEADER) or the socket's."""
    value = request.META.get(settings.CLIENT_IP_HEADER) or request.META.get("REMOTE_ADDR") or "inconnu"
    return value.split(",")[0].strip()[:64]


def _upsert_sql() -> str:
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    key, start, end, hits = (connection.ops.quote_name(name) for name in ("key", "window_start", "window_end", "hits"))
    return (
        f"INSERT INTO {table} ({key}, {start}, {end}, {hits}) VALUES (%s, %s, %s, 1) "
        f"ON CONFLICT ({key}) DO UPDATE SET "
        f"{hits} = CASE WHEN {table}.{start} = excluded.{start} THEN {table}.{hits} + 1 ELSE 1 END, "
        f"{start} = excluded.{start}, {end} = excluded.{end} "
        f"RETURNING {hits}"
    )


def allow(request, *, scope: str, limit: int, window: int) -> bool:
    """Count one hit of `scope` for this client; False once `limit` hits fell in the current `window` seconds."""
    start = int(time.time() // window) * window
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(), [f"{scope}:{client_address(request)}", start, start + window])
        (hits,) = cursor.fetchone()
    return hits <= limit


def purge_finished_windows(now: float | None = None) -> int:
    """Delete the counters whose window is over (they would restart at one): the number deleted."""
    now = time.time() if now is None else now
    deleted, _ = RateLimitCounter.objects.filter(window_end__lte=int(now)).delete()
    return deleted
