"""Holders built for the three-month duty, seen on a fixed « today » (6 June 2023): one overdue, one due within
15 days (to the day), one with 16 days left, one declared late, one declared on time, one declared on time across
the year boundary, and a withdrawn certificate that no count may include."""

import datetime
import itertools
import zoneinfo
from dataclasses import dataclass

from candidates import services as candidate_services
from candidates.models import CertificationAward, Withdrawal
from certif import clock
from declarations import services as declarations
from tests.factories import make_candidate, make_cohort

D = datetime.date
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
TODAY = D(2023, 6, 6)

_numbers = itertools.count(1)


def on_a_fixed_day(monkeypatch, today=TODAY):
    """« Today » as the services' clock gives it (the pages read nothing else)."""
    monkeypatch.setattr(clock, "localdate", lambda: today)


def declarant_for(certification, actor):
    return declarations.declarant_settings_save(
        certification=certification,
        sender_id_client="IRUP0042",
        certifier_id_client="IRUP0042",
        contract_id="MCFCER000123",
        actor=actor,
    )


def award(actor, certification, awarded_on, *, birth_name, cohort=None):
    candidate = make_candidate(actor, birth_name=birth_name, first_name="Alix")
    candidate_services.enrolment_create(
        candidate=candidate,
        cohort=cohort or make_cohort(actor, rncp_code=certification.rncp_code),
        actor=actor,
        enrolled_on=D(2021, 9, 1),
    )
    return CertificationAward.objects.create(
        candidate=candidate,
        certification=certification,
        number=f"MPES-DUTY-{next(_numbers):04d}",
        awarded_on=awarded_on,
    )


def declare(actor, certification, awards, on: datetime.date):
    return declarations.holder_declaration_create(
        certification=certification,
        award_ids=[a.pk for a in awards],
        actor=actor,
        now=datetime.datetime.combine(on, datetime.time(10, 0), tzinfo=PARIS),
    )


def withdraw(actor, certification, award_):
    return Withdrawal.objects.create(
        candidate=award_.candidate,
        certification=certification,
        award=award_,
        reference="Décision 2023-07",
        decided_on=D(2023, 5, 15),
        reason="Fraude établie.",
        recorded_by=actor,
    )


@dataclass
class World:
    overdue: CertificationAward
    due_soon: CertificationAward
    later: CertificationAward
    declared_late: CertificationAward
    declared_on_time: CertificationAward
    across_year: CertificationAward
    withdrawn: CertificationAward


def build_world(actor, certification, *, suffix="") -> World:
    cohort = make_cohort(actor, rncp_code=certification.rncp_code)

    def make(name, awarded_on):
        return award(actor, certification, awarded_on, birth_name=f"{name}{suffix}", cohort=cohort)

    world = World(
        overdue=make("Artaud", D(2023, 2, 10)),  # deadline 10 May 2023: passed
        due_soon=make("Bernard", D(2023, 3, 21)),  # deadline 21 June 2023: 15 days left
        later=make("Carpentier", D(2023, 3, 22)),  # deadline 22 June 2023: 16 days left
        declared_late=make("Dumas", D(2023, 1, 15)),  # deadline 15 April 2023, declared 2 May
        declared_on_time=make("Estève", D(2023, 2, 28)),  # deadline 28 May 2023, declared 2 May
        across_year=make("Fabre", D(2022, 11, 30)),  # deadline 28 February 2023, declared that day
        withdrawn=make("Gautier", D(2023, 2, 1)),  # overdue, but no longer a holder
    )
    declare(actor, certification, [world.across_year], D(2023, 2, 28))
    declare(actor, certification, [world.declared_late, world.declared_on_time], D(2023, 5, 2))
    withdraw(actor, certification, world.withdrawn)
    return world
