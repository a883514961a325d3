"""Small builders for test data, written through the same services the application uses."""

import datetime
import itertools

from candidates import services
from candidates.models import AccessPathway, Cohort
from certif.models import Certification, PreparationPlace

_sequence = itertools.count(1)


def candidate_fields(**overrides) -> dict:
    number = next(_sequence)
    fields = {
        "birth_name": f"Martin{number}",
        "first_name": "Camille",
        "sex": "F",
        "birth_date": datetime.date(1988, 5, 17),
        "birth_commune": "Saint-Étienne",
        "birth_insee_code": "42218",
        "birth_country": "France",
        "email": f"camille.martin{number}@example.org",
        "phone": "06 12 34 56 78",
        "employer_name": "Association Loire Solidarités",
        "employer_kind": "association",
        "job_title": "Chef de service",
    }
    fields.update(overrides)
    return fields


def make_candidate(actor, **overrides):
    return services.candidate_create(actor=actor, **candidate_fields(**overrides))


def make_cohort(actor, *, pathway_code="formation-continue", place_name="IRUP", trainers=(), name=None):
    certification = Certification.objects.get(rncp_code="16204")
    cohort = Cohort(
        certification=certification,
        name=name or f"Promotion {next(_sequence)}",
        pathway=AccessPathway.objects.get(certification=certification, code=pathway_code),
        preparation_place=PreparationPlace.objects.get(certification=certification, name__startswith=place_name),
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 6, 30),
    )
    return services.cohort_save(cohort=cohort, trainers=list(trainers), actor=actor)
