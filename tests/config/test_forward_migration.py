"""A database built before the rooms (the old leaf migrations) migrates forward with its data and its history.

It is taken back through the old history (migrations_legacy, which the squashed migrations replace) and brought
forward by the project's `migrate` command, as an existing database would be.

The data is written with the historical models, where the documents still lived in juries, the declarations in
certif, the pathways in candidates, and the acquired block and the award held their jury provenance themselves.
"""

import datetime
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from certif.roles import Role
from config.migration_history import legacy_history, squashed_targets

OLD_LEAVES = [
    ("certif", "0004_database_guards"),
    ("candidates", "0009_withdrawal_guards"),
    ("evaluation", "0003_database_guards"),
    ("juries", "0008_document_batch_heartbeat"),
]
MOVED = {
    ("juries", "issueddocument"): "documents",
    ("juries", "documentbatch"): "documents",
    ("certif", "holderdeclaration"): "declarations",
    ("certif", "cdcdeclarantsettings"): "declarations",
    ("candidates", "accesspathway"): "certif",
    ("juries", "jurycompositionrule"): "certif",
}
D = datetime.date


def _migrate_back_to_the_old_leaves():
    # The migrations written after the squash first: the old history does not know them.
    MigrationExecutor(connection).migrate(squashed_targets())
    with legacy_history():
        executor = MigrationExecutor(connection)
        executor.migrate(OLD_LEAVES)
        return MigrationExecutor(connection).loader.project_state(OLD_LEAVES).apps


def _migrate_forward():
    output = io.StringIO()
    call_command("migrate", interactive=False, stdout=output)
    return output.getvalue()


def _old_world(apps):
    """A signed session with one validated block, an award, a document and a declaration, and their audit trail."""
    User = apps.get_model("auth", "User")
    get = apps.get_model
    user = User.objects.create(username="ancienne-base")
    certification = get("certif", "Certification").objects.create(
        rncp_code="99999",
        title="Titre d'essai",
        level_1969="II",
        level_eqf="6",
        nsf_code="000",
        nsf_label="Essai",
        certifier_name="IRUP",
        signatory_title="Directeur",
        acquired_blocks_validity="illimitée",
    )
    block = get("certif", "Block").objects.create(
        certification=certification,
        number=1,
        title="Bloc 1",
        threshold_kind="all",
        threshold_value=0,
        declared_competence_count=1,
    )
    grid = get("certif", "Grid").objects.create(block=block)
    scale = get("certif", "RatingScale").objects.create(certification=certification)
    place = get("certif", "PreparationPlace").objects.create(certification=certification, name="Lyon")
    pathway = get("candidates", "AccessPathway").objects.create(
        certification=certification, code="essai", label="Parcours d'essai"
    )
    candidate = get("candidates", "Candidate").objects.create(
        birth_name="Ancien", first_name="Jean", sex="M", birth_date=D(1990, 1, 1), birth_commune="Lyon"
    )
    cohort = get("candidates", "Cohort").objects.create(
        certification=certification,
        pathway=pathway,
        preparation_place=place,
        name="Promotion d'essai",
        start_date=D(2022, 9, 1),
        end_date=D(2023, 6, 30),
    )
    enrolment = get("candidates", "Enrolment").objects.create(candidate=candidate, cohort=cohort)
    evaluation = get("evaluation", "EvaluationSession").objects.create(
        cohort=cohort, starts_on=D(2023, 1, 1), ends_on=D(2023, 1, 31), opened_by=user
    )
    block_evaluation = get("evaluation", "BlockEvaluation").objects.create(
        session=evaluation, block=block, grid=grid, scale=scale
    )
    session = get("juries", "JurySession").objects.create(
        certification=certification, date=D(2023, 2, 2), place="Lyon", created_by=user
    )
    presentation = get("juries", "Presentation").objects.create(session=session, enrolment=enrolment, presented_by=user)
    decision = get("juries", "Decision").objects.create(
        presentation=presentation,
        block=block,
        block_evaluation=block_evaluation,
        candidate=candidate,
        proposal_outcome="validated",
        proposal_explanation="Toutes les compétences",
        outcome="validated",
    )
    acquired = get("candidates", "AcquiredBlock").objects.create(
        candidate=candidate,
        block=block,
        acquired_on=D(2023, 2, 2),
        source="jury",
        recorded_by=user,
        jury_decision=decision,
    )
    imported = get("candidates", "AcquiredBlock").objects.create(
        candidate=get("candidates", "Candidate").objects.create(
            birth_name="Repris", first_name="Paul", sex="M", birth_date=D(1980, 1, 1), birth_commune="Lyon"
        ),
        block=block,
        acquired_on=D(2019, 6, 12),
        source="import",
        recorded_by=user,
    )
    award = get("candidates", "CertificationAward").objects.create(
        candidate=candidate,
        certification=certification,
        number="ESSAI-2023-0001",
        awarded_on=D(2023, 2, 2),
        jury_session=session,
    )
    document = get("juries", "IssuedDocument").objects.create(
        session=session,
        kind="certificate",
        verification_code="ABCDEABCDEABCDEABCDE",
        title="Certificat",
        document_date=D(2023, 2, 2),
        pdf=b"%PDF-1.4 essai",
        sha256="0" * 64,
        created_by=user,
        candidate=candidate,
    )
    declaration = get("certif", "HolderDeclaration").objects.create(
        certification=certification, flux_id="FLUX-1", xml=b"<flux/>", sha256="1" * 64, created_by=user
    )
    ContentTypeOld = apps.get_model("contenttypes", "ContentType")
    AuditEvent = get("certif", "AuditEvent")
    events = {}
    for name, obj in {"document": document, "declaration": declaration, "pathway": pathway, "award": award}.items():
        content_type = ContentTypeOld.objects.get(app_label=obj._meta.app_label, model=obj._meta.model_name)
        events[name] = AuditEvent.objects.create(
            actor=user, action=f"essai.{name}", target_type=content_type, target_id=str(obj.pk), target_repr=name
        ).pk
    return {
        "acquired": acquired.pk,
        "imported": imported.pk,
        "decision": decision.pk,
        "award": award.pk,
        "session": session.pk,
        "document": document.pk,
        "declaration": declaration.pk,
        "pathway": pathway.pk,
        "events": events,
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_rooms_migrates_forward_with_its_data_and_history():
    content_type_ids = {
        (app_label, model): ContentType.objects.get(app_label=MOVED[(app_label, model)], model=model).pk
        for app_label, model in MOVED
    }
    staff_permissions = set(Group.objects.get(name=Role.STAFF).permissions.values_list("pk", flat=True))
    try:
        old_apps = _migrate_back_to_the_old_leaves()
        # Going back, the moved models' content types took their old labels again, with the same ids.
        for (app_label, model), pk in content_type_ids.items():
            assert (ContentType.objects.get(pk=pk).app_label, ContentType.objects.get(pk=pk).model) == (
                app_label,
                model,
            )
        before = _old_world(old_apps)
        output = _migrate_forward()
    finally:
        _migrate_forward()

    assert "Base construite avant les salles" in output

    from candidates.models import AcquiredBlock, CertificationAward
    from certif.models import AccessPathway, AuditEvent
    from declarations.models import HolderDeclaration
    from documents.models import IssuedDocument
    from juries.models import DecisionAcquiredBlock, SessionAward

    for (app_label, model), pk in content_type_ids.items():
        content_type = ContentType.objects.get(pk=pk)
        assert (content_type.app_label, content_type.model) == (MOVED[(app_label, model)], model)
    events = before["events"]
    for name, model in {
        "document": IssuedDocument,
        "declaration": HolderDeclaration,
        "pathway": AccessPathway,
        "award": CertificationAward,
    }.items():
        event = AuditEvent.objects.select_related("target_type").get(pk=events[name])
        # The audit row still points at its object: the same content type id, read under the new label.
        assert event.target_type.model_class() is model
        assert model.objects.filter(pk=int(event.target_id)).exists() and int(event.target_id) == before[name]

    acquired = AcquiredBlock.objects.get(pk=before["acquired"])
    assert acquired.jury_decision_link.decision_id == before["decision"]
    assert not DecisionAcquiredBlock.objects.filter(acquired_block_id=before["imported"]).exists()
    assert DecisionAcquiredBlock.objects.count() == 1
    assert CertificationAward.objects.get(pk=before["award"]).jury_session_link.session_id == before["session"]
    assert SessionAward.objects.count() == 1
    assert bytes(IssuedDocument.objects.get(pk=before["document"]).pdf) == b"%PDF-1.4 essai"
    assert bytes(HolderDeclaration.objects.get(pk=before["declaration"]).xml) == b"<flux/>"

    assert set(Group.objects.get(name=Role.STAFF).permissions.values_list("pk", flat=True)) == staff_permissions
    view_document = Permission.objects.get(codename="view_issueddocument")
    assert view_document.content_type_id == content_type_ids[("juries", "issueddocument")]
