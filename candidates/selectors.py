"""Reads about candidates that their pages and exports share."""

from django.db.models import Prefetch
from django.utils import timezone

from candidates import services
from candidates.models import AcquiredBlock, Candidate, CertificationAward, Enrolment, Withdrawal, WithdrawnBlock
from certif.audit import audit_trail


def with_file(queryset):
    """What the list and the candidate page show, fetched in a fixed number of queries."""
    return queryset.prefetch_related(
        Prefetch(
            "enrolments",
            queryset=Enrolment.objects.select_related("cohort__pathway", "cohort__preparation_place").order_by(
                "-enrolled_on", "-pk"
            ),
        ),
        Prefetch(
            "acquired_blocks",
            queryset=AcquiredBlock.objects.select_related("block", "recorded_by", "withdrawn__withdrawal"),
        ),
        Prefetch("awards", queryset=CertificationAward.objects.select_related("withdrawal")),
    )


def with_withdrawals(queryset):
    """The withdrawal acts of each candidate, with what they withdrew (the candidate page)."""
    return queryset.prefetch_related(
        Prefetch(
            "withdrawals",
            queryset=Withdrawal.objects.select_related("recorded_by", "award").prefetch_related(
                Prefetch("blocks", queryset=WithdrawnBlock.objects.select_related("acquired_block__block"))
            ),
        )
    )


def candidate_personal_data(candidate: Candidate) -> dict:
    """Everything the application holds about one person (droit d'accès, RGPD art. 15); `candidate` comes
    through `with_file`."""
    return {
        "exporte_le": timezone.now(),
        "identite": services.candidate_snapshot(candidate),
        "inscriptions": [
            {
                "promotion": enrolment.cohort.name,
                "voie_acces": enrolment.cohort.pathway.label,
                "lieu_preparation": enrolment.cohort.preparation_place.name,
                "inscrit_le": enrolment.enrolled_on,
                "statut": enrolment.get_status_display(),
                "tuteur": enrolment.tutor_name,
                "accompagnateur_vae": enrolment.vae_accompanist,
                "recevabilite": enrolment.admissibility_label,
                "recevabilite_date": enrolment.admissibility_date,
                "recevabilite_motif": enrolment.admissibility_reason,
            }
            for enrolment in candidate.enrolments.all()
        ],
        "blocs_acquis": [
            {
                "bloc": acquired.block.code,
                "acquis_le": acquired.acquired_on,
                "origine": acquired.get_source_display(),
                "source": acquired.import_source,
                "retire": _withdrawal_data(acquired.withdrawal_act),
            }
            for acquired in candidate.acquired_blocks.all()
        ],
        "certifications": [
            {
                "numero": award.number,
                "delivree_le": award.awarded_on,
                "retire": _withdrawal_data(award.withdrawal_act),
            }
            for award in candidate.awards.all()
        ],
        "historique": [
            {
                "date": event.occurred_at,
                "auteur": event.actor.username if event.actor else None,
                "action": event.action,
                "avant": event.before,
                "apres": event.after,
            }
            for event in audit_trail(candidate)
        ],
    }


def _withdrawal_data(withdrawal: Withdrawal | None) -> dict | None:
    if withdrawal is None:
        return None
    return {"decision": withdrawal.reference, "date_decision": withdrawal.decided_on, "motif": withdrawal.reason}
