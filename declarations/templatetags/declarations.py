from django import template

from declarations.models import HolderDeclarationCorrection, HolderDeclarationLine, HolderDeclarationOutcome

register = template.Library()


@register.simple_tag(takes_context=True)
def candidate_declarations(context, candidate):
    """What was declared to the CDC for a candidate's certificates, flux by flux, newest first, with the CDC's
    answer and the corrections flagged (staff who declare only; two queries whatever the history)."""
    request = context.get("request")
    if request is None or not request.user.has_perm("declarations.declare_holders"):
        return None
    lines = list(
        HolderDeclarationLine.objects.filter(award__candidate=candidate)
        .select_related("declaration", "award", "outcome")
        .defer("declaration__xml")
        .order_by("-declaration__created_at", "-pk")
    )
    for line in lines:
        try:
            line.cdc_outcome = line.outcome
        except HolderDeclarationOutcome.DoesNotExist:
            line.cdc_outcome = None
    corrections = list(
        HolderDeclarationCorrection.objects.filter(award__candidate=candidate)
        .select_related("award")
        .order_by("-flagged_at", "-pk")
    )
    latest = {}
    for line in lines:
        latest.setdefault(line.award_id, line.pk)
    for correction in corrections:
        correction.pending = latest.get(correction.award_id) == correction.after_line_id
    return {"lines": lines, "corrections": corrections}


@register.filter
def cdc_date(value):
    """A date as the flux writes it (2026-06-30) shown as the pages write dates (30/06/2026)."""
    if not value or len(str(value)) != 10:
        return value or ""
    year, month, day = str(value).split("-")
    return f"{day}/{month}/{year}"
