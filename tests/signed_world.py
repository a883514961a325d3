"""Everything a signature freezes, and beside it what is still open, built through the application's services.

Used by the database guard tests (ORM and raw SQL) and the integrity tests.
"""

import datetime
from types import SimpleNamespace

from candidates.models import AcquiredBlock, CertificationAward
from candidates.services import acquired_block_import
from certif import services as referential
from certif.models import AuditEvent, Block, Certification, Grid, RatingScale
from declarations import services as declarations
from documents import services as documents
from documents.models import DocumentKind
from evaluation.models import LevelEntry
from juries import services
from juries.models import Decision, JuryMember, Recusal
from tests.factories import decide_all, evaluated_cohort, make_jury, present_all

PASSWORD = "mot-de-passe-de-test"


def add_substitute(session, staff):
    """A salaried professional who sits for Marc Dumas on the candidate he stands aside from."""
    services.jury_member_save(
        member=JuryMember(
            session=session,
            name="Claire Vidal",
            organisation="Union régionale des Scop",
            category="employee_professional",
            is_substitute=True,
        ),
        actor=staff,
    )


def sign(session, president):
    services.jury_session_sign_off(session=session, signed_by=president)
    session.refresh_from_db()
    return session


def signed_world(staff, trainer, president, *, with_documents=True):
    """A signed session of 3 candidates on blocks 1 and 2 (the first, holding blocks 3 and 4 from history, is
    awarded the certification; the third fails both and has block 2 rectified to validated), its minutes and the
    first candidate's results statement, a holder declaration to the CDC; and, still open: a prepared session whose
    grids are submitted but not locked, a new (unfrozen) version of block 1's grid and an unused scale version."""
    certification = Certification.objects.get(rncp_code="16204")
    codes = {1: ["A", "A", "D"], 2: ["A", "A", "D"]}
    _, enrolments, _ = evaluated_cohort(staff, trainer, count=3, codes=codes, name="Promotion signée")
    first = enrolments[0].candidate
    for number in (3, 4):
        acquired_block_import(
            candidate=first,
            block=Block.objects.get(certification=certification, number=number),
            acquired_on=datetime.date(2021, 6, 17),
            import_source="Procès-verbal du jury du 17 juin 2021",
            actor=staff,
        )
    session = make_jury(staff, president, place="IRUP, Saint-Étienne — salle signée")
    add_substitute(session, staff)
    presentations = present_all(session, enrolments, staff)
    services.recusal_declare(
        member=JuryMember.objects.get(session=session, name="Marc Dumas"),
        presentation=presentations[2],
        reason="ancien collègue du candidat",
        actor=staff,
    )
    decide_all(session, president)
    sign(session, president)
    rectified = Decision.objects.get(presentation=presentations[2], block__number=2)
    rectification = services.decision_rectify(
        decision=rectified,
        outcome="validated",
        reason="Erreur de report d'un niveau sur la grille.",
        signed_by=president,
    )
    minutes = results = None
    if with_documents:
        minutes = documents.document_issue(session=session, kind=DocumentKind.MINUTES, actor=staff)
        results = documents.document_issue(session=session, kind=DocumentKind.RESULTS, candidate=first, actor=staff)
    declarations.declarant_settings_save(
        certification=certification,
        sender_id_client="IRUP0042",
        certifier_id_client="IRUP0042",
        contract_id="MCFCER000123",
        actor=staff,
    )
    award = CertificationAward.objects.get(candidate=first)
    declaration = declarations.holder_declaration_create(certification=certification, award_ids=[award.pk], actor=staff)

    # Still open: a prepared session on a second cohort, its grids submitted (not locked by any signature).
    _, open_enrolments, _ = evaluated_cohort(staff, trainer, count=2, name="Promotion en préparation")
    prepared = make_jury(staff, president, place="IRUP, Saint-Étienne — salle en préparation")
    add_substitute(prepared, staff)
    open_presentations = present_all(prepared, open_enrolments, staff)
    services.recusal_declare(
        member=JuryMember.objects.get(session=prepared, name="Marc Dumas"),
        presentation=open_presentations[0],
        reason="voisin du candidat",
        actor=staff,
    )
    block1 = Block.objects.get(certification=certification, number=1)
    frozen_grid = block1.current_grid
    referential.competence_rename(block=block1, position=1, label="un projet formalisé et partagé", actor=staff)
    open_grid = Grid.objects.filter(block=block1).order_by("-version").first()
    used_scale = RatingScale.objects.get(certification=certification, version=1)
    open_scale = referential.rating_scale_new_version(certification=certification, actor=staff)

    signed_decision = Decision.objects.get(presentation=presentations[0], block__number=1)
    locked_evaluation = signed_decision.block_evaluation
    open_decision = Decision.objects.filter(presentation__session=prepared).order_by("pk").first()
    return SimpleNamespace(
        certification=certification,
        session=session,
        presentation=presentations[0],
        decision=signed_decision,
        member=JuryMember.objects.filter(session=session).order_by("pk").first(),
        recusal=Recusal.objects.get(presentation__session=session),
        rectification=rectification,
        evaluation=locked_evaluation,
        entry=LevelEntry.objects.filter(block_evaluation=locked_evaluation).order_by("pk").first(),
        block=block1,
        open_block=Block.objects.get(certification=certification, number=3),
        grid=frozen_grid,
        competence=frozen_grid.competences.order_by("position").first(),
        scale=used_scale,
        level=used_scale.levels.order_by("position").first(),
        minutes=minutes,
        results=results,
        award=award,
        acquired=AcquiredBlock.objects.filter(candidate=first).order_by("pk").first(),
        audit=AuditEvent.objects.order_by("pk").first(),
        declaration=declaration,
        declaration_line=declaration.lines.get(),
        prepared=prepared,
        open_presentation=open_presentations[0],
        open_decision=open_decision,
        open_member=JuryMember.objects.filter(session=prepared).order_by("pk").first(),
        open_recusal=Recusal.objects.get(presentation__session=prepared),
        open_evaluation=open_decision.block_evaluation,
        open_entry=LevelEntry.objects.filter(block_evaluation=open_decision.block_evaluation).order_by("pk").first(),
        open_grid=open_grid,
        open_competence=open_grid.competences.order_by("position").first(),
        open_scale=open_scale,
        open_level=open_scale.levels.order_by("position").first(),
        presentations=presentations,
        enrolments=enrolments,
        first=first,
    )
