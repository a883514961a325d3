"""The correspondence table of a renewed fiche: which blocks of the previous fiche give each of its blocks."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from certif import services
from certif.models import Block, Certification
from certif.selectors import correspondence_table, predecessors_of
from certif.validation import refusal_text
from certif.views import manage_referential_required


@manage_referential_required
def correspondences_edit(request, rncp_code):
    certification = get_object_or_404(Certification, rncp_code=rncp_code)
    predecessors = predecessors_of(certification)
    if not predecessors:
        raise Http404("Cette fiche ne succède à aucune fiche installée : elle n'a pas de correspondances de blocs.")
    previous_blocks = list(
        Block.objects.filter(certification__in=predecessors)
        .select_related("certification")
        .order_by("certification__rncp_code", "number")
    )
    status = 200
    errors: dict[int, str] = {}
    if request.method == "POST":
        block = get_object_or_404(Block, certification=certification, number=request.POST.get("block") or 0)
        wanted = {value for value in request.POST.getlist("previous") if value.isdigit()}
        chosen = [previous for previous in previous_blocks if str(previous.pk) in wanted]
        if len(chosen) != len(wanted):
            errors[block.number] = "Choisissez des blocs de la fiche précédente."
        else:
            try:
                services.block_correspondences_set(block=block, previous_blocks=chosen, actor=request.user)
            except ValidationError as error:
                errors[block.number] = refusal_text(error)
            else:
                given = " + ".join(previous.code for previous in chosen) or "aucune correspondance"
                messages.success(request, f"Correspondance du bloc {block.code} enregistrée : {given}.")
                return redirect("certif:correspondences", rncp_code=rncp_code)
        status = 400
    table = correspondence_table(certification)
    rows = [
        {
            "row": row,
            "chosen": {other.pk for other in row.others},
            "error": errors.get(row.block.number, ""),
        }
        for row in table.given_by
    ]
    return render(
        request,
        "certif/correspondences.html",
        {"certification": certification, "table": table, "rows": rows, "previous_blocks": previous_blocks},
        status=status,
    )
