"""The one clock the services read to date what they write: signatures, decisions, grids, audit traces.

`now()` is the real time (`django.utils.timezone.now`), always, except inside `replaying_history(at=…)`. Only the
demo seeding (`manage.py seed_demo`, through `certif.demo.history_at`) enters it, to write a past history — a jury
signed on the evening of its day in 2022 — through the very services everyone uses, rules included. Nothing else
can move the clock, and production cannot be tricked into another time:

- no request, header, form, setting or environment variable reaches it: only a `with` block in code;
- it is refused unless the process started with DEBUG on (`DEMO_HISTORY_ALLOWED`): never with DEBUG=0;
- it only goes back, to an instant before the real time: a clock moved forward would let a jury be signed before
  the day it sits, or a certificate be dated in the future;
- it holds for the current thread or task only (a context variable) and only until the block ends: a request served
  at the same time by another thread reads the real time;
- time runs on inside the block (the past instant plus the real time elapsed since entering), so the events it
  dates keep their order;
- `tests/test_clock.py` checks that no module but the demo's enters it.
"""

import datetime
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

# (past instant, real instant when the block was entered), or None: the real time.
_replay: ContextVar[tuple[datetime.datetime, datetime.datetime] | None] = ContextVar("replay", default=None)


def now() -> datetime.datetime:
    real = timezone.now()
    replay = _replay.get()
    if replay is None:
        return real
    past, entered = replay
    return past + (real - entered)


def localdate() -> datetime.date:
    return timezone.localdate(now())


def is_replaying() -> bool:
    return _replay.get() is not None


def ensure_history_allowed() -> None:
    """Refuse, before anything is written, where the demo's history may not be replayed (DEBUG off)."""
    if not getattr(settings, "DEMO_HISTORY_ALLOWED", False):
        raise ImproperlyConfigured(
            "L'horloge ne se déplace pas quand DEBUG est désactivé : les données de démonstration ne s'installent "
            "jamais en production."
        )


@contextmanager
def replaying_history(*, at: datetime.datetime):
    """Within the block, `now()` starts from `at`, a past instant. For the demo seeding only (see the module)."""
    ensure_history_allowed()
    if timezone.is_naive(at):
        raise ValueError("Un instant de l'historique doit porter son fuseau horaire.")
    real = timezone.now()
    if at >= real:
        raise ValueError("L'horloge ne se déplace que vers le passé.")
    token = _replay.set((at, real))
    try:
        yield
    finally:
        _replay.reset(token)
