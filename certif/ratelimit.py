"""A small fixed-window rate limiter on Django's cache, per client address.

The cache must be shared by every process that serves the page (see CACHE_TABLE in README): with a per-process
cache, each gunicorn worker would count on its own.
"""

import time

from django.conf import settings
from django.core.cache import cache


def client_address(request) -> str:
    """The client's address, from the header the proxy sets (CLIENT_IP_HEADER) or the socket's."""
    value = request.META.get(settings.CLIENT_IP_HEADER) or request.META.get("REMOTE_ADDR") or "inconnu"
    return value.split(",")[0].strip()[:64]


def allow(request, *, scope: str, limit: int, window: int) -> bool:
    """Count one hit of `scope` for this client; False once `limit` hits fell in the current `window` seconds."""
    bucket = int(time.time() // window)
    key = f"ratelimit:{scope}:{client_address(request)}:{bucket}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return count <= limit
