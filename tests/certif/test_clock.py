"""The services' one clock: the real time, except inside the demo seeding's history, which nothing else can enter."""

import datetime
import re
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import timezone

from candidates.models import Candidate, Cohort
from certif import clock
from certif.demo import history_at
from certif.models import AuditEvent
from juries import selectors, services
from juries.models import JurySession
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

ROOT = Path(__file__).resolve().parents[2]
PAST = timezone.make_aware(datetime.datetime(2022, 6, 14, 17, 40))


def test_the_real_time_outside_any_history():
    before = timezone.now()
    assert before <= clock.now() <= timezone.now()
    assert clock.localdate() == timezone.localdate()
    assert not clock.is_replaying()


def test_inside_the_history_time_starts_from_the_past_instant_and_runs_on():
    with clock.replaying_history(at=PAST):
        first = clock.now()
        second = clock.now()
        assert PAST <= first <= second < PAST + datetime.timedelta(minutes=1)
        assert clock.localdate() == datetime.date(2022, 6, 14)
        with clock.replaying_history(at=PAST - datetime.timedelta(days=365)):
            assert clock.localdate() == datetime.date(2021, 6, 14)
        assert clock.localdate() == datetime.date(2022, 6, 14)
    assert not clock.is_replaying() and clock.localdate() == timezone.localdate()


def test_the_clock_never_moves_forward_nor_to_a_naive_instant():
    with (
        pytest.raises(ValueError, match="vers le passé"),
        clock.replaying_history(at=timezone.now() + datetime.timedelta(days=1)),
    ):
        pass
    with pytest.raises(ValueError, match="fuseau"), clock.replaying_history(at=datetime.datetime(2022, 6, 14, 17)):
        pass
    # The demo's helper writes an instant not yet past at the real time.
    with history_at(timezone.localdate() + datetime.timedelta(days=3)):
        assert not clock.is_replaying()


def test_another_thread_reads_the_real_time_while_one_replays():
    seen = {}
    entered, read = threading.Event(), threading.Event()

    def other():
        entered.wait(5)
        seen["other"] = clock.localdate()
        read.set()

    thread = threading.Thread(target=other)
    thread.start()
    with clock.replaying_history(at=PAST):
        entered.set()
        read.wait(5)
        seen["here"] = clock.localdate()
    thread.join()
    assert seen == {"other": timezone.localdate(), "here": datetime.date(2022, 6, 14)}


def test_refused_where_debug_is_off_and_seed_demo_then_writes_nothing(db, settings):
    settings.DEMO_HISTORY_ALLOWED = False
    with pytest.raises(ImproperlyConfigured, match="DEBUG"), clock.replaying_history(at=PAST):
        pass
    with pytest.raises(CommandError, match="ne s'installent jamais en production"):
        call_command("seed_demo", stdout=StringIO())
    assert not Cohort.objects.exists() and not Candidate.objects.exists()
    assert not get_user_model().objects.filter(username="gestionnaire").exists()  # one transaction, rolled back


def test_the_setting_comes_from_debug_alone():
    text = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    assert re.search(r"^DEMO_HISTORY_ALLOWED = DEBUG$", text, re.MULTILINE)


def test_only_the_demo_enters_the_history():
    """No page, service or command of production moves the clock: only the demo modules and seed_demo do."""
    allowed = {
        Path("certif/clock.py"),
        Path("certif/demo.py"),
        Path("candidates/demo.py"),
        Path("evaluation/demo.py"),
        Path("juries/demo.py"),
        Path("declarations/demo.py"),
    }
    users = set()
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "node_modules"}:
            continue
        text = path.read_text(encoding="utf-8")
        if "replaying_history" in text or "history_at" in text or "_replay" in text:
            users.add(relative)
    assert users <= allowed, users - allowed
    assert Path("certif/demo.py") in users and Path("juries/demo.py") in users


def test_the_services_date_what_they_write_by_that_clock(staff_user, trainer_user, president_user):
    """What a sign-off writes — its time, its audit trace — reads the clock; a jury signed inside the demo's history
    is signed in the past, and the rule « not before the jury's day » reads the same clock."""
    _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=2)
    session = make_jury(staff_user, president_user)
    present_all(session, enrolments, staff_user)
    with clock.replaying_history(at=PAST - datetime.timedelta(days=1)):
        decide_all(session, president_user)
        assert any("ne peut pas être signée avant ce jour" in p for p in selectors.sign_off_problems(session))
    with clock.replaying_history(at=PAST):
        services.jury_session_sign_off(session=session, signed_by=president_user)
    session = JurySession.objects.get(pk=session.pk)
    assert PAST <= session.signed_at < PAST + datetime.timedelta(minutes=1)
    event = AuditEvent.objects.get(action="jury.signed_off")
    assert PAST <= event.occurred_at < PAST + datetime.timedelta(minutes=1)
    assert all(d.decided_at.date() == datetime.date(2022, 6, 13) for d in session.presentations.first().decisions.all())
