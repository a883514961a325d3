"""The rate limiter counts in the database: one upsert per hit, the same count whichever process serves the request,
a fresh count each window, and finished windows purged by the worker."""

import threading

import pytest
from django.db import connection, connections
from django.test import RequestFactory

from certif import ratelimit
from certif.models import RateLimitCounter

pytestmark = pytest.mark.django_db


def _request(address="203.0.113.7"):
    return RequestFactory().get("/v/", REMOTE_ADDR=address)


def _hits(times: list[float], monkeypatch, *, limit=3, window=600, address="203.0.113.7") -> list[bool]:
    answers = []
    for now in times:
        monkeypatch.setattr(ratelimit.time, "time", lambda now=now: now)
        answers.append(ratelimit.allow(_request(address), scope="verification", limit=limit, window=window))
    return answers


def test_the_limit_holds_in_a_window_and_starts_again_in_the_next(monkeypatch):
    assert _hits([6000.0, 6100.0, 6200.0, 6599.0], monkeypatch) == [True, True, True, False]
    assert _hits([6600.0, 6601.0], monkeypatch) == [True, True]  # a new window: counted from one
    (counter,) = RateLimitCounter.objects.all()
    assert (counter.key, counter.window_start, counter.window_end, counter.hits) == (
        "verification:203.0.113.7",
        6600,
        7200,
        2,
    )


def test_each_address_and_each_door_counts_on_its_own(monkeypatch):
    assert _hits([6000.0] * 4, monkeypatch, address="198.51.100.1") == [True, True, True, False]
    assert _hits([6000.0], monkeypatch, address="198.51.100.2") == [True]
    monkeypatch.setattr(ratelimit.time, "time", lambda: 6000.0)
    assert ratelimit.allow(_request("198.51.100.1"), scope="password-reset", limit=3, window=600)


def test_a_hit_is_one_statement(monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(ratelimit.time, "time", lambda: 6000.0)
    for _ in range(2):  # the first hit inserts, the next one updates: one query each
        with django_assert_num_queries(1):
            ratelimit.allow(_request(), scope="verification", limit=3, window=600)


def test_the_worker_purges_only_finished_windows(monkeypatch):
    _hits([6000.0], monkeypatch, address="198.51.100.1")
    _hits([6500.0], monkeypatch, window=60, address="198.51.100.2")  # 6480 → 6540
    assert ratelimit.purge_finished_windows(now=6540.0) == 1
    assert list(RateLimitCounter.objects.values_list("key", flat=True)) == ["verification:198.51.100.1"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_lose_no_hit():
    """Eight threads, each with its own database connection as separate workers have, hit at once: every hit is
    counted (the upsert is atomic), so exactly the limit is let through."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race only exists on PostgreSQL")
    answers: list[bool] = []
    barrier = threading.Barrier(8)

    def hit():
        try:
            barrier.wait()
            for _ in range(5):
                answers.append(ratelimit.allow(_request(), scope="verification", limit=25, window=3600))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(True) == 25 and answers.count(False) == 15
    assert RateLimitCounter.objects.get().hits == 40


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a table's persistence is PostgreSQL's")
def test_the_counters_write_no_write_ahead_log_on_postgresql():
    # Disposable counters: a crash that empties them restarts the windows, and a hit waits for no flush to disk.
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = %s", [RateLimitCounter._meta.db_table])
        assert cursor.fetchone() == ("u",)
