"""The transfer of a cohort's candidates to a cohort of the fiche that succeeds theirs (staff)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from candidates.models import Cohort, Enrolment
from candidates.services_transfers import enrolments_transfer
from certif.collation import french, person_order
from certif.models import Certification
from certif.selectors import rncp_number
from certif.text import counted
from certif.validation import refusal_text
from certif.views_helpers import rule_required


def _successor_cohorts(certification: Certification):
    """The cohorts of the fiches that succeed `certification` (either fiche may name the other)."""
    named = [rncp_number(code) for code in certification.next_rncp_codes or []]
    successors = [
        fiche.pk
        for fiche in Certification.objects.exclude(pk=certification.pk)
        if fiche.rncp_code in named or certification.rncp_code in {rncp_number(c) for c in fiche.previous_rncp_codes}
    ]
    return (
        Cohort.objects.filter(certification_id__in=successors)
        .select_related("certification", "pathway")
        .order_by("certification__rncp_code", "-start_date", french("name"))
    )


@rule_required("candidates.edit_candidate")
def cohort_transfer(request, pk):
    cohort = get_object_or_404(Cohort.objects.select_related("certification", "pathway"), pk=pk)
    enrolments = list(
        Enrolment.objects.filter(cohort=cohort).select_related("candidate").order_by(*person_order("candidate__"), "pk")
    )
    targets = list(_successor_cohorts(cohort.certification))
    chosen = {str(enrolment.pk) for enrolment in enrolments}
    target_pk, error, status = "", "", 200
    if request.method == "POST":
        chosen = set(request.POST.getlist("enrolments"))
        target_pk = request.POST.get("cohort", "")
        target = next((item for item in targets if str(item.pk) == target_pk), None)
        selected = [enrolment for enrolment in enrolments if str(enrolment.pk) in chosen]
        if target is None:
            error = "Choisissez la promotion de la nouvelle fiche qui accueille les candidats."
        else:
            try:
                created = enrolments_transfer(enrolments=selected, cohort=target, actor=request.user)
            except ValidationError as refusal:
                error = refusal_text(refusal)
            else:
                messages.success(
                    request,
                    f"{counted(len(created), 'candidat transféré', 'candidats transférés')} vers la promotion "
                    f"« {target.name} » ({target.certification.rncp_label}) ; leurs inscriptions à "
                    f"{cohort.certification.rncp_label} restent dans leur parcours.",
                )
                return redirect("candidates:cohort_list")
        status = 400
    return render(
        request,
        "candidates/cohort_transfer.html",
        {
            "cohort": cohort,
            "enrolments": enrolments,
            "chosen": chosen,
            "targets": targets,
            "target_pk": target_pk,
            "error": error,
        },
        status=status,
    )
