"""Holder declaration to the Caisse des Dépôts: identifiers, choice of holders, flux file, history (staff)."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from candidates.models import CertificationAward
from certif.models import Certification
from certif.validation import show_errors
from declarations import services as declarations
from declarations.forms import DeclarantSettingsForm, HolderSelectionForm
from declarations.models import CdcDeclarantSettings, HolderDeclaration

declare_holders_required = permission_required("declarations.declare_holders", raise_exception=True)


@dataclass
class HolderRow:
    award: CertificationAward
    missing: list[str]
    access_mode: declarations.AccessMode | None


def _holder_rows(certification) -> tuple[list[HolderRow], list[HolderRow], list[HolderRow], list[HolderRow]]:
    """(never declared, declared before, incomplete file, withdrawn) — complete rows in force only in the first two;
    a withdrawn certificate is never offered for declaration, only listed (flagged when it was declared before)."""
    rows = [
        HolderRow(award, declarations.missing_data(award), declarations.access_mode_of(award))
        for award in declarations.holder_queryset(certification)
    ]
    withdrawn = [row for row in rows if row.award.is_withdrawn]
    rows = [row for row in rows if not row.award.is_withdrawn]
    new = [row for row in rows if not row.missing and not row.award.declared_count]
    declared = [row for row in rows if not row.missing and row.award.declared_count]
    incomplete = [row for row in rows if row.missing]
    return new, declared, incomplete, withdrawn


@declare_holders_required
def index(request):
    certification = Certification.objects.order_by("pk").first()
    if certification is None:
        return redirect("certif:certification_list")
    return redirect("declarations:declare", rncp_code=certification.rncp_code)


@declare_holders_required
def declare(request, rncp_code):
    certification = get_object_or_404(Certification, rncp_code=rncp_code)
    declarant = CdcDeclarantSettings.objects.filter(certification=certification).first()
    new, declared, incomplete, withdrawn = _holder_rows(certification)
    form = HolderSelectionForm(
        request.POST if request.method == "POST" else None,
        new_ids=[row.award.pk for row in new],
        declared_ids=[row.award.pk for row in declared],
        initial={"awards": [row.award.pk for row in new]},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                declaration = declarations.holder_declaration_create(
                    certification=certification,
                    award_ids=form.cleaned_data["awards"],
                    resend_ids=form.cleaned_data["resend"],
                    actor=request.user,
                )
            except declarations.FluxInvalid as error:
                return render(
                    request,
                    "declarations/invalid.html",
                    {"certification": certification, "errors": error.errors},
                    status=500,
                )
            except ValidationError as error:
                show_errors(form, error)
            else:
                count = declaration.lines.count()
                messages.success(
                    request,
                    f"Flux {declaration.flux_id} produit et validé par le schéma de la Caisse des Dépôts : "
                    f"{count} titulaire{'s' if count > 1 else ''}. Téléchargez le fichier pour le déposer.",
                )
                return redirect("declarations:detail", pk=declaration.pk)
        status = 400
    selected = set(form["awards"].value() or []) if form.is_bound else {row.award.pk for row in new}
    selected_resend = set(form["resend"].value() or []) if form.is_bound else set()
    return render(
        request,
        "declarations/declare.html",
        {
            "certification": certification,
            "declarant": declarant,
            "form": form,
            "new_rows": new,
            "declared_rows": declared,
            "incomplete_rows": incomplete,
            "withdrawn_rows": withdrawn,
            "selected": {str(pk) for pk in selected},
            "selected_resend": {str(pk) for pk in selected_resend},
        },
        status=status,
    )


@declare_holders_required
def settings_edit(request, rncp_code):
    certification = get_object_or_404(Certification, rncp_code=rncp_code)
    declarant = CdcDeclarantSettings.objects.filter(certification=certification).first()
    form = DeclarantSettingsForm(
        request.POST if request.method == "POST" else None,
        instance=declarant or CdcDeclarantSettings(certification=certification),
    )
    if request.method == "POST" and form.is_valid():
        try:
            declarations.declarant_settings_save(certification=certification, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, "Identifiants auprès de la Caisse des Dépôts enregistrés.")
            return redirect("declarations:declare", rncp_code=rncp_code)
    declare_url = reverse("declarations:declare", kwargs={"rncp_code": rncp_code})
    return render(
        request,
        "form_page.html",
        {
            "title": "Identifiants auprès de la Caisse des Dépôts",
            "intro": "Les identifiants que la Caisse des Dépôts a communiqués à l'IRUP pour le dépôt des fichiers "
            "de déclaration des titulaires (Passeport de compétences). Ils figurent dans chaque fichier produit.",
            "form": form,
            "submit": "Enregistrer",
            "cancel_url": declare_url,
            "breadcrumb": [(declare_url, "Déclaration des titulaires")],
        },
        status=400 if form.is_bound else 200,
    )


@declare_holders_required
def history(request, rncp_code):
    certification = get_object_or_404(Certification, rncp_code=rncp_code)
    declarations_list = (
        HolderDeclaration.objects.filter(certification=certification)
        .select_related("created_by")
        .annotate(holder_count=Count("lines"), resend_count=Count("lines", filter=Q(lines__is_resend=True)))
        .defer("xml")
    )
    return render(
        request,
        "declarations/history.html",
        {"certification": certification, "declarations": declarations_list},
    )


def _declaration(pk) -> HolderDeclaration:
    return get_object_or_404(HolderDeclaration.objects.select_related("certification", "created_by"), pk=pk)


@declare_holders_required
def detail(request, pk):
    declaration = _declaration(pk)
    lines = declaration.lines.select_related("award__candidate").order_by(
        "award__candidate__birth_name", "award__candidate__first_name"
    )
    return render(
        request,
        "declarations/detail.html",
        {"declaration": declaration, "certification": declaration.certification, "lines": lines},
    )


@declare_holders_required
def download(request, pk):
    """The stored file, byte for byte as validated and recorded."""
    declaration = _declaration(pk)
    response = HttpResponse(bytes(declaration.xml), content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{declaration.flux_id}.xml"'
    return response
