"""The demo data `make run` loads (seed_demo): plausible, on open pathways, audited, and idempotent."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from candidates.demo import DEMO_CANDIDATES, DEMO_COHORTS
from candidates.models import (
    AcquiredBlock,
    AcquiredBlockSource,
    Candidate,
    Cohort,
    Enrolment,
    EnrolmentStatus,
)
from certif.models import AuditEvent, PreparationPlace
from certif.roles import Role
from juries.models import JurySession

DEMO_COHORT_NAMES = [spec[0] for spec in DEMO_COHORTS.values()]


def _counts():
    return {
        "cohorts": Cohort.objects.count(),
        "candidates": Candidate.objects.count(),
        "enrolments": Enrolment.objects.count(),
        "acquired": AcquiredBlock.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def seeded(db):
    output = StringIO()
    call_command("seed_demo", stdout=output)
    return output.getvalue()


def test_seed_demo_twice_creates_nothing_more(db):
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    after_first = _counts()
    call_command("seed_demo", stdout=second)
    assert _counts() == after_first
    assert after_first["cohorts"] == 5
    assert after_first["candidates"] == len(DEMO_CANDIDATES) == 30
    assert "Promotions de démonstration : 5 (dont 5 créées), candidats : 30 (dont 30 créés)." in first.getvalue()
    assert "Promotions de démonstration : 5 (dont 0 créées), candidats : 30 (dont 0 créés)." in second.getvalue()


def test_cohorts_cover_open_pathways_and_both_preparation_places(seeded, certification):
    cohorts = Cohort.objects.filter(name__in=DEMO_COHORT_NAMES).select_related("pathway")
    assert cohorts.count() >= 4
    assert all(cohort.pathway.is_open for cohort in cohorts)
    assert len({cohort.pathway.code for cohort in cohorts}) >= 3
    places = set(cohorts.values_list("preparation_place__name", flat=True))
    assert places == set(PreparationPlace.objects.filter(certification=certification).values_list("name", flat=True))
    assert places == {"IRUP", "GRETA de la Martinique/GIP-FCIP"}
    for cohort in cohorts:
        cohort.full_clean()


def test_demo_trainer_teaches_three_cohorts_and_sees_only_their_candidates(seeded):
    trainer = get_user_model().objects.get(username="formateur")
    assert trainer.groups.filter(name=Role.TRAINER).exists()
    assert trainer.trained_cohorts.count() == 3
    visible = Candidate.objects.visible_to(trainer)
    assert 0 < visible.count() < Candidate.objects.count()


def test_candidates_are_plausible_and_valid(seeded):
    candidates = list(Candidate.objects.all())
    assert 25 <= len(candidates) <= 35
    for candidate in candidates:
        candidate.full_clean()
        assert candidate.email.endswith("@example.org")
        assert candidate.phone.startswith("06")
        assert 1970 <= candidate.birth_date.year <= 2003
        assert candidate.employer_kind in {"association", "fondation", "cooperative", "mutuelle"}
        assert candidate.enrolments.exists()
    assert len({candidate.email for candidate in candidates}) == len(candidates)
    assert {"42218", "69123", "97209", "2A004"} <= {candidate.birth_insee_code for candidate in candidates}
    assert {candidate.sex for candidate in candidates} == {"F", "M"}


def test_history_blocks_are_imported_with_their_source(seeded):
    imported = AcquiredBlock.objects.filter(source=AcquiredBlockSource.IMPORT)
    assert imported.exists()
    assert all(block.import_source.startswith("Procès-verbal du jury du") for block in imported)
    assert AuditEvent.objects.filter(action="acquired_block.imported").count() == imported.count()
    # Imports are the juries held before the application; from June 2022 the application holds the juries itself.
    first_jury = JurySession.objects.order_by("date").first().date
    assert all(block.acquired_on < first_jury for block in imported)


def test_one_candidate_enrols_again_and_keeps_blocks_1_and_2(seeded):
    transferred = set(AuditEvent.objects.filter(action="enrolment.transferred").values_list("target_id", flat=True))
    twice = [
        candidate
        for candidate in Candidate.objects.all()
        if candidate.enrolments.count() == 2 and str(candidate.pk) not in transferred
    ]
    assert len(twice) == 1 and len(transferred) == 3  # the others were transferred to the successor fiche
    candidate = twice[0]
    assert set(candidate.acquired_blocks.values_list("block__number", flat=True)) == {1, 2}
    assert {block.source for block in candidate.acquired_blocks.all()} == {AcquiredBlockSource.JURY}
    assert {block.block.certification.rncp_code for block in candidate.acquired_blocks.all()} == {"16204"}
    left, again = candidate.enrolments.order_by("enrolled_on")
    assert left.status == EnrolmentStatus.WITHDRAWN and again.status == EnrolmentStatus.IN_PROGRESS
    # Left after the jury that gave the blocks, enrolled again years later.
    withdrawal = AuditEvent.objects.get(action="enrolment.updated", target_id=str(left.pk))
    jury_day = candidate.acquired_blocks.first().acquired_on
    assert jury_day < timezone.localdate(withdrawal.occurred_at) < again.enrolled_on


def test_the_promotions_of_the_history_ended_their_enrolments(seeded):
    history = Cohort.objects.filter(enrolments__jury_presentations__session__status="signed").distinct()
    assert sorted(history.values_list("name", flat=True)) == [
        "MPES 2021-2023 — Saint-Étienne, apprentissage",
        "MPES 2022-2023 — Fort-de-France, contrat de professionnalisation",
        "MPES 2025 — Saint-Étienne, apprentissage, fin de parcours",
    ]
    for cohort in history:
        assert not cohort.enrolments.filter(status=EnrolmentStatus.IN_PROGRESS).exists(), cohort.name
        assert cohort.enrolments.filter(status=EnrolmentStatus.COMPLETED).exists(), cohort.name


def test_vae_admissibility_states(seeded):
    vae = Enrolment.objects.filter(cohort__pathway__code="vae")
    assert vae.count() >= 3
    assert all(enrolment.vae_accompanist for enrolment in vae)
    favourable = vae.filter(admissibility_favourable=True)
    pending = vae.filter(admissibility_favourable__isnull=True)
    unfavourable = vae.filter(admissibility_favourable=False)
    assert favourable.count() > vae.count() / 2
    assert pending.count() == 1
    assert unfavourable.count() == 1
    assert unfavourable.get().admissibility_reason.strip()
    assert all(enrolment.admissibility_date for enrolment in favourable)
    # No accompanist outside VAE.
    assert not Enrolment.objects.exclude(cohort__pathway__code="vae").exclude(vae_accompanist="").exists()


def test_every_demo_write_is_audited(seeded):
    staff_events = AuditEvent.objects.filter(actor__username="gestionnaire")
    assert staff_events.filter(action="cohort.created").count() == 5
    assert staff_events.filter(action="candidate.created").count() == 30
    # An enrolment is created by its own act, or by the transfer to the successor fiche that enrols many at once.
    assert staff_events.filter(action="enrolment.created").count() + 3 == Enrolment.objects.count()
    assert staff_events.filter(action="enrolment.transferred").count() == 3
    assert staff_events.filter(action="enrolment.admissibility_decided").count() == 6
