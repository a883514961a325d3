"""A renewal's transfer: candidates enrolled on the previous fiche are enrolled, in one act, in a cohort of its
successor. Their old enrolments and everything recorded under them stay as they were."""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from candidates.models import Cohort, Enrolment, EnrolmentStatus
from certif import clock
from certif.audit import AuditAction, AuditChange, record_audits
from certif.collation import person_order
from certif.models import AccessPathway, Certification
from certif.selectors import rncp_number


def _succeeds(new: Certification, old: Certification) -> bool:
    """Either fiche may say it: the new one names the old among its previous fiches, or the old names the new."""
    return old.rncp_code in {rncp_number(code) for code in new.previous_rncp_codes or []} or new.rncp_code in {
        rncp_number(code) for code in old.next_rncp_codes or []
    }


@transaction.atomic(durable=True)
def enrolments_transfer(*, enrolments: Iterable[Enrolment], cohort: Cohort, actor: User) -> list[Enrolment]:
    """Enrol each enrolment's candidate in `cohort`, a cohort of a fiche that succeeds theirs, on the same access
    pathway (its code open on the new fiche). All or nothing: the first refusal names the candidate."""
    cohort = Cohort.objects.select_related("certification", "pathway").get(pk=cohort.pk)
    enrolments = list(
        Enrolment.objects.filter(pk__in=[enrolment.pk for enrolment in enrolments])
        .select_related("candidate", "cohort__certification", "cohort__pathway")
        .order_by(*person_order("candidate__"), "pk")
    )
    if not enrolments:
        raise ValidationError({"enrolments": "Choisissez au moins un candidat à transférer."})
    target = cohort.certification
    pathways = {pathway.code: pathway for pathway in AccessPathway.objects.filter(certification=target)}
    already = set(Enrolment.objects.filter(cohort=cohort).values_list("candidate_id", flat=True))
    seen: set[int] = set()
    for enrolment in enrolments:
        name, source = enrolment.candidate.full_name, enrolment.cohort.certification
        if not _succeeds(target, source):
            raise ValidationError(
                {
                    "cohort": f"{name} : la promotion « {cohort.name} » prépare {target.rncp_label}, qui ne succède "
                    f"pas à {source.rncp_label} ; un transfert ne se fait que vers la fiche qui lui succède."
                }
            )
        if enrolment.candidate_id in already or enrolment.candidate_id in seen:
            raise ValidationError({"enrolments": f"{name} est déjà inscrit(e) dans la promotion « {cohort.name} »."})
        seen.add(enrolment.candidate_id)
        code = enrolment.cohort.pathway.code
        pathway = pathways.get(code)
        if pathway is None or not pathway.is_open:
            raise ValidationError(
                {
                    "enrolments": f"{name} : la voie d'accès « {enrolment.cohort.pathway.label} » n'est pas ouverte "
                    f"sur {target.rncp_label}."
                }
            )
        if pathway.pk != cohort.pathway_id:
            raise ValidationError(
                {
                    "enrolments": f"{name} est inscrit(e) par la voie « {enrolment.cohort.pathway.label} » ; la "
                    f"promotion « {cohort.name} » prépare par la voie « {cohort.pathway.label} »."
                }
            )
    today = clock.localdate()
    created = Enrolment.objects.bulk_create(
        Enrolment(
            candidate_id=enrolment.candidate_id,
            cohort=cohort,
            enrolled_on=today,
            status=EnrolmentStatus.IN_PROGRESS,
            tutor_name=enrolment.tutor_name,
            vae_accompanist=enrolment.vae_accompanist,
        )
        for enrolment in enrolments
    )
    record_audits(
        actor=actor,
        action=AuditAction.ENROLMENT_TRANSFERRED,
        changes=[
            AuditChange(
                target=enrolment.candidate,
                before={"cohort": enrolment.cohort.name, "certification": enrolment.cohort.certification.rncp_label},
                after={"cohort": cohort.name, "certification": target.rncp_label},
            )
            for enrolment in enrolments
        ],
    )
    return created
