"""A renewal, end to end: a candidate holding the four blocks of RNCP 16204 is transferred to its successor
(RNCP99901, illustrative), evaluated there on the one block without correspondence, presented to a jury of the new
fiche, which signs: the candidate is certified under RNCP99901 through the correspondence table."""

import datetime
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pypdf import PdfReader

from candidates.models import AcquiredBlock, AcquiredBlockOrigin, AcquiredBlockSource, CertificationAward, Enrolment
from candidates.selectors import blocks_held_by_correspondence
from candidates.services import acquired_block_import
from candidates.services_transfers import enrolments_transfer
from candidates.services_withdrawals import withdrawal_record
from certif.audit_display import describe_event
from certif.guards import FrozenRowError
from certif.models import AuditAction, AuditEvent, BlockCorrespondence, Certification
from documents import services as documents
from documents.models import DocumentKind
from evaluation import services as evaluation
from evaluation.models import BlockEvaluation
from juries.demo import jury_compose
from juries.models import JurySession
from tests.factories import VALID_MEMBERS, decide_all, evaluated_cohort, fill_and_submit, make_jury, present_all
from tests.renewal import (
    SUCCESSOR_JURY_DAY,
    install_successor,
    new_blocks,
    old_blocks,
    record_table,
    successor_cohort,
)
from tests.signed_world import sign

OLD_JURY_DAY = datetime.date(2023, 3, 21)
HISTORY = "Procès-verbal du jury du 17 juin 2021"


def old_world(staff, trainer, president, *, count=2):
    """`count` candidates of a 16204 cohort, validated on blocks 1 and 2 by the jury of 21 March 2023; the first also
    holds blocks 3 and 4 from history (so is certified under 16204 too), the others only blocks 1 and 2."""
    cohort, enrolments, _ = evaluated_cohort(staff, trainer, count=count, name="Promotion 2022-2023")
    old = old_blocks()
    for number in (3, 4):
        acquired_block_import(
            candidate=enrolments[0].candidate,
            block=old[number],
            acquired_on=datetime.date(2021, 6, 17),
            import_source=HISTORY,
            actor=staff,
        )
    session = make_jury(staff, president, day=OLD_JURY_DAY)
    present_all(session, enrolments, staff)
    decide_all(session, president)
    sign(session, president)
    return cohort, enrolments


def new_jury(successor, staff, trainer, president, enrolments, *, day=SUCCESSOR_JURY_DAY):
    """Evaluate `enrolments` (of a cohort of the new fiche) on the new BC03 and present them to a jury on it."""
    new = new_blocks(successor)
    session = evaluation.evaluation_session_open(
        cohort=enrolments[0].cohort,
        blocks=[new[3]],
        evaluators=[trainer],
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 5, 29),
        actor=staff,
    )
    fill_and_submit(BlockEvaluation.objects.get(session=session), enrolments, trainer, "A")
    jury = jury_compose(
        certification=successor,
        day=day,
        place="IRUP, Saint-Étienne",
        numbers=(3,),
        members=VALID_MEMBERS,
        president=president,
        actor=staff,
    )
    present_all(jury, enrolments, staff)
    decide_all(jury, president)
    return jury


@pytest.fixture
def renewal(certification, staff_user, trainer_user, president_user):
    cohort, old_enrolments = old_world(staff_user, trainer_user, president_user)
    successor = install_successor()
    record_table(successor, staff_user)
    target = successor_cohort(successor, staff_user, trainers=[trainer_user])
    new_enrolments = enrolments_transfer(enrolments=old_enrolments, cohort=target, actor=staff_user)
    return successor, cohort, old_enrolments, new_enrolments


@pytest.mark.django_db
def test_a_candidate_is_certified_under_the_new_fiche_through_the_correspondence(
    renewal, staff_user, trainer_user, president_user, staff_client
):
    successor, _, old_enrolments, new_enrolments = renewal
    complete, partial = (enrolment.candidate for enrolment in new_enrolments)
    new, old = new_blocks(successor), old_blocks()
    assert list(Enrolment.objects.filter(pk__in=[e.pk for e in old_enrolments]).values_list("cohort__name", flat=True))

    jury = new_jury(successor, staff_user, trainer_user, president_user, new_enrolments)
    sign(jury, president_user)

    award = CertificationAward.objects.get(candidate=complete, certification=successor)
    assert award.awarded_on == SUCCESSOR_JURY_DAY
    carried = {
        acquired.block.number: acquired
        for acquired in AcquiredBlock.objects.filter(candidate=complete, source=AcquiredBlockSource.CORRESPONDENCE)
    }
    assert sorted(carried) == [1, 2, 4]
    assert carried[1].acquired_on == OLD_JURY_DAY and carried[4].acquired_on == datetime.date(2021, 6, 17)
    assert carried[2].acquired_on == OLD_JURY_DAY and carried[1].recorded_by == president_user
    origins = {
        number: sorted(origin.previous_acquisition.block.code for origin in acquired.origins.all())
        for number, acquired in carried.items()
    }
    assert origins == {1: ["RNCP16204BC02"], 2: ["RNCP16204BC01", "RNCP16204BC02"], 4: ["RNCP16204BC04"]}
    assert AcquiredBlock.objects.get(candidate=complete, block=new[3]).source == AcquiredBlockSource.JURY

    # The partial candidate holds old BC01 and BC02 only: new BC04 is missing, nothing is written by correspondence.
    assert not AcquiredBlock.objects.filter(candidate=partial, source=AcquiredBlockSource.CORRESPONDENCE).exists()
    assert not CertificationAward.objects.filter(candidate=partial, certification=successor).exists()
    assert AcquiredBlock.objects.get(candidate=partial, block=new[3]).source == AcquiredBlockSource.JURY

    # The rows used are frozen; the one not used (none: BC03 has no row) and the table stays as recorded.
    used = BlockCorrespondence.objects.filter(block__certification=successor)
    assert used.count() == 4 and all(row.first_used_at for row in used)
    with pytest.raises(FrozenRowError, match="Un bloc a été acquis par cette correspondance"):
        BlockCorrespondence.objects.filter(block=new[4]).update(previous_block=old[3])
    with pytest.raises(FrozenRowError):
        BlockCorrespondence.objects.filter(block=new[4]).delete()
    with pytest.raises(FrozenRowError):
        AcquiredBlockOrigin.objects.filter(acquired_block=carried[1]).delete()

    events = AuditEvent.objects.filter(action=AuditAction.ACQUIRED_BLOCK_BY_CORRESPONDENCE).order_by("pk")
    assert [event.after["block"] for event in events] == ["RNCP99901BC01", "RNCP99901BC02", "RNCP99901BC04"]
    readable = describe_event(events[1])
    assert readable.label == "Bloc acquis par correspondance"
    assert "acquis d'origine : RNCP16204BC01 (jury du 21 mars 2023), RNCP16204BC02 (jury du 21 mars 2023)" in (
        readable.summary
    )

    page = staff_client.get(reverse("candidates:detail", args=[complete.pk])).content.decode()
    section = page[page.index("RNCP99901 — blocs acquis par correspondance") :].split("</section>")[0]
    assert "<strong>RNCP99901BC02</strong>" in section and "RNCP99901BC03" not in section  # BC03: from its jury
    assert "acquis par correspondance avec RNCP16204BC01, jury du 21 mars 2023 ; RNCP16204BC02" in section
    transferred = describe_event(
        AuditEvent.objects.get(action=AuditAction.ENROLMENT_TRANSFERRED, target_id=complete.pk)
    )
    assert (
        transferred.summary == "promotion : Promotion 2022-2023 → Promotion renouvelée ; fiche : RNCP16204 → RNCP99901"
    )


@pytest.mark.django_db
def test_the_candidate_file_shows_the_blocks_held_by_correspondence(renewal, staff_client):
    successor, _, _, new_enrolments = renewal
    complete = new_enrolments[0].candidate
    page = staff_client.get(reverse("candidates:detail", args=[complete.pk])).content.decode()
    section = page[page.index("RNCP99901 — blocs acquis par correspondance") :]
    assert "acquis par correspondance avec RNCP16204BC02, jury du 21 mars 2023" in section
    assert (
        "acquis par correspondance avec RNCP16204BC01, jury du 21 mars 2023 ; RNCP16204BC02, jury du 21 mars 2023"
        in section
    )
    assert f"RNCP16204BC04, {HISTORY}, repris le 17 juin 2021" in section
    assert "valable sans limite de durée" in section
    assert "RNCP99901BC03" not in section.split("</section>")[0]
    history = page[page.index("Historique des modifications") :]
    assert "Transfert vers la nouvelle fiche" in history
    assert "promotion : Promotion 2022-2023 → Promotion renouvelée" in history
    assert "fiche : RNCP16204 → RNCP99901" in history


@pytest.mark.django_db
def test_held_by_correspondence_in_bulk(renewal, django_assert_num_queries):
    successor, _, _, new_enrolments = renewal
    ids = [enrolment.candidate_id for enrolment in new_enrolments]
    with django_assert_num_queries(2):
        held = blocks_held_by_correspondence(ids, successor)
    assert {candidate: sorted(b.block.number for b in blocks.values()) for candidate, blocks in held.items()} == {
        ids[0]: [1, 2, 4],
        ids[1]: [1, 2],
    }
    origin = held[ids[0]][new_blocks(successor)[1].pk].origins[0]
    assert origin.jury_date == OLD_JURY_DAY and origin.code == "RNCP16204BC02"
    old = Certification.objects.get(rncp_code="16204")
    with django_assert_num_queries(0):
        assert blocks_held_by_correspondence(ids, old) == {}


@pytest.mark.django_db
def test_a_withdrawn_previous_block_gives_nothing(renewal, staff_user, trainer_user, president_user):
    successor, _, _, new_enrolments = renewal
    complete = new_enrolments[0].candidate
    old = old_blocks()
    withdrawal_record(
        candidate=complete,
        certification=old[4].certification,
        withdraw_award=True,
        acquired_block_ids=[AcquiredBlock.objects.get(candidate=complete, block=old[4]).pk],
        reference="Décision du directeur général n° 2026-3",
        decided_on=datetime.date(2026, 5, 4),
        reason="Attestation falsifiée.",
        actor=staff_user,
    )
    held = blocks_held_by_correspondence([complete.pk], successor)[complete.pk]
    assert sorted(item.block.number for item in held.values()) == [1, 2]
    jury = new_jury(successor, staff_user, trainer_user, president_user, new_enrolments)
    sign(jury, president_user)
    assert not CertificationAward.objects.filter(candidate=complete, certification=successor).exists()
    assert not AcquiredBlock.objects.filter(source=AcquiredBlockSource.CORRESPONDENCE).exists()
    assert not BlockCorrespondence.objects.filter(first_used_at__isnull=False).exists()


@pytest.mark.django_db
class TestJuryDates:
    def test_a_jury_of_the_old_fiche_after_its_registration_is_told_to_move_to_the_successor(
        self, renewal, staff_user, president_user
    ):
        successor, cohort, old_enrolments, _ = renewal
        session = make_jury(staff_user, president_user, day=datetime.date(2026, 6, 15))
        with pytest.raises(ValidationError) as refused:
            sign(session, president_user)
        message = [m for m in refused.value.messages if "enregistrement" in m]
        assert message == [
            "La date du jury (15/06/2026) est hors de toute période d'enregistrement au RNCP : l'enregistrement de la "
            "fiche RNCP16204 a pris fin le 17 avril 2023. Un gestionnaire doit rattacher le jury à la fiche qui lui "
            "succède (RNCP99901) : ses candidats y sont transférés et leurs blocs acquis comptent par correspondance."
        ]
        assert "Enregistrez un renouvellement" not in " ".join(refused.value.messages)

    def test_no_jury_signs_after_the_last_delivery_date(self, certification, staff_user, trainer_user, president_user):
        Certification.objects.filter(pk=certification.pk).update(last_delivery_date=datetime.date(2022, 6, 1))
        _, enrolments, _ = evaluated_cohort(staff_user, trainer_user, count=1)
        session = make_jury(staff_user, president_user)
        present_all(session, enrolments, staff_user)
        decide_all(session, president_user)
        with pytest.raises(ValidationError) as refused:
            sign(session, president_user)
        assert refused.value.messages == [
            "La date du jury (14/06/2022) est postérieure à la date limite de délivrance de la fiche RNCP16204, le "
            "1 juin 2022 : aucun jury de cette fiche ne signe après ce jour. Un gestionnaire doit rattacher le jury à "
            "la fiche qui lui succède, une fois celle-ci installée : ses candidats y sont transférés et leurs blocs "
            "acquis comptent par correspondance."
        ]
        assert not JurySession.objects.filter(signed_at__isnull=False).exists()
        Certification.objects.filter(pk=certification.pk).update(last_delivery_date=datetime.date(2022, 6, 14))
        sign(session, president_user)
        assert JurySession.objects.get(pk=session.pk).is_signed


def pdf_text(document, *, pages=None) -> str:
    reader = PdfReader(io.BytesIO(bytes(document.pdf)))
    assert pages is None or len(reader.pages) == pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.mark.django_db
def test_the_documents_say_where_the_blocks_held_by_correspondence_come_from(
    renewal, staff_user, trainer_user, president_user
):
    successor, _, _, new_enrolments = renewal
    complete, partial = (enrolment.candidate for enrolment in new_enrolments)
    jury = sign(new_jury(successor, staff_user, trainer_user, president_user, new_enrolments), president_user)

    certificate = pdf_text(
        documents.document_issue(session=jury, kind=DocumentKind.CERTIFICATE, candidate=complete, actor=staff_user),
        pages=1,  # still a one-page parchment
    )
    assert "enregistrée au RNCP sous le code RNCP99901" in certificate
    assert "Manager de proximité dans l'économie sociale et solidaire (fiche renouvelée, exemple)" in certificate
    assert "RNCP99901BC01 acquis par correspondance avec RNCP16204BC02 (jury du 21 mars 2023)" in certificate
    assert (
        "RNCP99901BC02 acquis par correspondance avec RNCP16204BC01 (jury du 21 mars 2023), RNCP16204BC02 (jury du "
        "21 mars 2023)" in certificate
    )
    assert f"RNCP99901BC04 acquis par correspondance avec RNCP16204BC04 ({HISTORY}, repris le 17 juin 2021)" in (
        certificate
    )

    results = pdf_text(
        documents.document_issue(session=jury, kind=DocumentKind.RESULTS, candidate=complete, actor=staff_user)
    )
    assert "RNCP99901" in results and "RNCP16204BC03" not in results
    assert "acquis par correspondance avec RNCP16204BC02 (jury du 21 mars 2023)" in results

    # Not certified: new BC01 and BC02 are held through the correspondence all the same, BC04 is missing.
    attestation = pdf_text(
        documents.document_issue(session=jury, kind=DocumentKind.ATTESTATION, candidate=partial, actor=staff_user)
    )
    assert "(RNCP99901," in attestation
    assert "acquis par correspondance avec RNCP16204BC01 (jury du 21 mars 2023), RNCP16204BC02" in attestation
    assert "RNCP99901BC04 (bloc 4)" in attestation


@pytest.mark.django_db
def test_a_jury_of_the_new_fiche_does_not_examine_the_blocks_the_correspondence_gives(
    renewal, staff_user, trainer_user, president_user
):
    from juries import selectors

    successor, _, _, new_enrolments = renewal
    complete, partial = new_enrolments
    new = new_blocks(successor)
    session = evaluation.evaluation_session_open(
        cohort=complete.cohort,
        blocks=list(new.values()),
        evaluators=[trainer_user],
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 5, 29),
        actor=staff_user,
    )
    for block_evaluation in BlockEvaluation.objects.filter(session=session):
        fill_and_submit(block_evaluation, new_enrolments, trainer_user, "A")
    jury = jury_compose(
        certification=successor,
        day=SUCCESSOR_JURY_DAY,
        place="IRUP, Saint-Étienne",
        numbers=(1, 2, 3, 4),
        members=VALID_MEMBERS,
        president=president_user,
        actor=staff_user,
    )
    by_enrolment = {item.enrolment.pk: item for item in selectors.eligibilities(jury)}
    # Old BC01..BC04 held: new 1, 2 and 4 come through the table, only the new BC03 is examined.
    assert [block.number for block, _ in by_enrolment[complete.pk].examined] == [3]
    assert "bloc 2 acquis par correspondance avec RNCP16204BC01, RNCP16204BC02" in by_enrolment[complete.pk].notes
    # Old BC01 and BC02 only: new 1 and 2 carried, 3 and 4 examined.
    assert [block.number for block, _ in by_enrolment[partial.pk].examined] == [3, 4]
