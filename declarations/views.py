"""Holder declaration to the Caisse des Dépôts: identifiers, choice of holders, flux file, history (staff)."""

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from candidates.models import CertificationAward
from certif import clock, jobs
from certif.collation import french_sort_key, person_order
from certif.models import Certification, JobKind
from certif.sorting import SortColumn, TableSort
from certif.text import french_number, plural_suffix
from certif.validation import apply_service
from certif.views_helpers import form_page
from declarations import deadlines, selectors
from declarations import services as declarations
from declarations import services_receipts as receipts
from declarations.forms import DeclarantSettingsForm, HolderSelectionForm, ReceiptForm
from declarations.jobs import declaration_parameters, declared_in_background
from declarations.models import CdcDeclarantSettings, HolderDeclaration, HolderDeclarationOutcome

declare_holders_required = permission_required("declarations.declare_holders", raise_exception=True)


@dataclass
class HolderRow:
    award: CertificationAward
    missing: list[str]
    access_mode: selectors.AccessMode | None
    status: selectors.DeclarationStatus | None = None
    duty: deadlines.HolderDuty | None = None  # its three-month deadline (certificates in force)


def _holder_rows(certification) -> tuple[list[HolderRow], list[HolderRow], list[HolderRow], list[HolderRow]]:
    """(never declared, declared before, incomplete file, withdrawn) — complete rows in force only in the first two;
    a withdrawn certificate is never offered for declaration, only listed (flagged when it was declared before)."""
    rows, _again = _holder_rows_with_status(certification)
    return rows


def _holder_rows_with_status(certification):
    """As `_holder_rows`, the holders to declare again (rejected by the CDC, or « à corriger ») taken apart:
    complete ones in the second list returned, incomplete ones left in the incomplete list."""
    awards = list(selectors.holder_queryset(certification))
    statuses = selectors.declaration_statuses(awards)
    rows = [
        HolderRow(award, selectors.missing_data(award), selectors.access_mode_of(award), statuses[award.pk])
        for award in awards
    ]
    again = [row for row in rows if row.status.to_declare_again and not row.missing]  # type: ignore[union-attr]
    again_ids = {row.award.pk for row in again}
    rows = [row for row in rows if row.award.pk not in again_ids]
    withdrawn = [row for row in rows if row.award.is_withdrawn]
    rows = [row for row in rows if not row.award.is_withdrawn]
    # declared_count: annotated by the selector.
    new = [row for row in rows if not row.missing and not row.award.declared_count]  # type: ignore[attr-defined]
    declared = [row for row in rows if not row.missing and row.award.declared_count]  # type: ignore[attr-defined]
    incomplete = [row for row in rows if row.missing]
    return (new, declared, incomplete, withdrawn), again


INDEX_COLUMNS = (
    SortColumn("certification", "Certification", value=lambda row: row["certification"].rncp_code),
    SortColumn("titulaires", "Titulaires (certificats en vigueur)", value=lambda row: row["holders"]),
    SortColumn("jamais_declares", "Jamais déclarés", value=lambda row: row["to_declare"]),
    SortColumn(
        "derniere_declaration",
        "Dernière déclaration",
        # Never declared first in the ascending order: the oldest news.
        value=lambda row: (row["last_declared_at"] is not None, row["last_declared_at"]),
    ),
)


@declare_holders_required
def index(request):
    """Every certification, with its holders still to declare, their deadlines and its last declaration (four
    queries)."""
    certifications = list(Certification.objects.order_by("rncp_code"))
    awards = {
        row["certification_id"]: row
        for row in CertificationAward.objects.in_force()
        .values("certification_id")
        .annotate(
            holders=Count("pk", distinct=True),
            to_declare=Count("pk", filter=Q(declaration_lines__isnull=True), distinct=True),
        )
        .order_by()
    }
    duty_counts = deadlines.counts_by_certification(clock.localdate())
    last_declared = dict(
        HolderDeclaration.objects.values_list("certification_id").annotate(last=Max("created_at")).order_by()
    )
    rows = [
        {
            "certification": certification,
            "holders": awards.get(certification.pk, {}).get("holders", 0),
            "to_declare": awards.get(certification.pk, {}).get("to_declare", 0),
            "last_declared_at": last_declared.get(certification.pk),
            "duty": duty_counts.get(certification.pk, deadlines.DutyCounts()),
        }
        for certification in certifications
    ]
    sort = TableSort(request, INDEX_COLUMNS, default="certification")
    return render(request, "declarations/index.html", {"rows": sort.sorted(rows), "sort": sort})


def _deadline_order(row: HolderRow) -> tuple:
    """Overdue first, then due soon, then by deadline (rows without a deadline, withdrawn ones, last)."""
    return row.duty.sort_key[:2] if row.duty else (len(deadlines.URGENCY), datetime.date.max)


# One sort for every holder table of the page: they share these columns.
HOLDER_COLUMNS = (
    SortColumn("certificat", "Certificat", value=lambda row: row.award.number),
    SortColumn(
        "titulaire",
        "Titulaire",
        value=lambda row: (
            french_sort_key(row.award.candidate.birth_name),
            french_sort_key(row.award.candidate.first_name),
        ),
    ),
    SortColumn("delivree", "Délivrée le", value=lambda row: row.award.awarded_on),
    SortColumn("echeance", "Échéance", value=_deadline_order),
)


def _posted_holder_ids(post) -> tuple[list[int], list[int]] | None:
    """The holders ticked, as posted (`awards`, `resend`), or None when a value is not a number."""
    try:
        return (
            sorted({int(value) for value in post.getlist("awards")}),
            sorted({int(value) for value in post.getlist("resend")}),
        )
    except ValueError:
        return None


@declare_holders_required
def declare(request, rncp_code):
    certification = get_object_or_404(Certification, rncp_code=rncp_code)
    if request.method == "POST":
        posted = _posted_holder_ids(request.POST)
        if posted is not None and declared_in_background(len(posted[0]) + len(posted[1])):
            # Sorting thousands of holders into the page's tables would take longer than the flux is worth in the
            # request: the worker's service checks each one (declared already, incomplete, of another
            # certification) and the job says in French what it refused.
            return _declare_in_background(request, certification, *posted)
    declarant = CdcDeclarantSettings.objects.filter(certification=certification).first()
    (new, declared, incomplete, withdrawn), again = _holder_rows_with_status(certification)
    rejected = [row for row in incomplete if row.status and row.status.to_declare_again]
    form = _holder_form(request, new + again, declared)
    rows = {
        "new_rows": new,
        "declared_rows": declared,
        "incomplete_rows": incomplete,
        "withdrawn_rows": withdrawn,
        "again_rows": again,
        "rejected_incomplete_rows": rejected,
        "schema": declarations.schema_in_use(),
    }
    duty_counts = _with_duties(certification, new + again, declared, incomplete)
    sort = TableSort(request, HOLDER_COLUMNS, default="echeance")
    if not sort.is_default:  # the default: the holders to declare by urgency, the others by name
        for table in (new, declared, incomplete, withdrawn, again, rejected):
            table[:] = sort.sorted(table)
    if request.method == "POST" and form.is_valid():
        try:
            done, declaration = apply_service(
                form,
                lambda: declarations.holder_declaration_create(
                    certification=certification,
                    award_ids=form.cleaned_data["awards"],
                    resend_ids=form.cleaned_data["resend"],
                    actor=request.user,
                ),
            )
        except declarations.FluxInvalid as error:
            return _invalid_flux_page(request, certification, error)
        if done:
            messages.success(request, _declared_message(declaration))
            return redirect("declarations:detail", pk=declaration.pk)
    return render(
        request,
        "declarations/declare.html",
        {
            "certification": certification,
            "declarant": declarant,
            "form": form,
            "duty_counts": duty_counts,
            "sort": sort,
            **rows,
            **_ticked(form, new + again),
        },
        status=400 if request.method == "POST" else 200,
    )


def _declare_in_background(request, certification, award_ids: list[int], resend_ids: list[int]):
    """Too many holders for one request: the worker builds and records the flux; the job's page follows it."""
    ticked = len(award_ids) + len(resend_ids)
    job = jobs.job_request(
        kind=JobKind.HOLDER_DECLARATION,
        title=(
            f"Déclaration à la Caisse des Dépôts — {certification.rncp_label}, "
            f"{french_number(ticked)} titulaire{plural_suffix(ticked)}"
        ),
        parameters=declaration_parameters(certification=certification, award_ids=award_ids, resend_ids=resend_ids),
        total=ticked,
        actor=request.user,
    )
    messages.success(
        request,
        "Le flux est en préparation : il sera vérifié par le schéma de la Caisse des Dépôts puis enregistré, et "
        "vous le téléchargerez sur cette page.",
    )
    return redirect("jobs:detail", pk=job.pk)


def _with_duties(certification, new, declared, incomplete) -> deadlines.DutyCounts:
    """Each row's deadline, the holders to declare ordered overdue first; the certification's counts."""
    duties = deadlines.holder_duties(certification, clock.localdate())
    counts = deadlines.DutyCounts()
    for duty in duties.values():
        counts.add(duty)
    for rows in (new, declared, incomplete):
        for row in rows:
            row.duty = duties.get(row.award.pk)
    for rows in (new, incomplete):
        rows.sort(key=lambda row: row.duty.sort_key[:2] if row.duty else (len(deadlines.URGENCY),))
    return counts


def _holder_form(request, new, declared) -> HolderSelectionForm:
    """The holders to declare: every new one ticked; the declared ones may be sent again."""
    return HolderSelectionForm(
        request.POST if request.method == "POST" else None,
        new_ids=[row.award.pk for row in new],
        declared_ids=[row.award.pk for row in declared],
        initial={"awards": [row.award.pk for row in new]},
    )


def _invalid_flux_page(request, certification, error: declarations.FluxInvalid):
    """The flux the schema refused: nothing is stored, the page says which rules it broke."""
    return render(
        request,
        "declarations/invalid.html",
        {"certification": certification, "errors": error.errors},
        status=500,
    )


def _ticked(form, new) -> dict:
    """The boxes ticked: as posted when the page comes back refused, else every new holder."""
    selected = set(form["awards"].value() or []) if form.is_bound else {row.award.pk for row in new}
    selected_resend = set(form["resend"].value() or []) if form.is_bound else set()
    return {"selected": {str(pk) for pk in selected}, "selected_resend": {str(pk) for pk in selected_resend}}


def _declared_message(declaration) -> str:
    count = declaration.lines.count()
    return (
        f"Flux {declaration.flux_id} produit et validé par le schéma de la Caisse des Dépôts : "
        f"{count} titulaire{plural_suffix(count)}. Téléchargez le fichier pour le déposer."
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
        done, _ = apply_service(
            form,
            lambda: declarations.declarant_settings_save(
                certification=certification, actor=request.user, **form.cleaned_data
            ),
        )
        if done:
            messages.success(request, "Identifiants auprès de la Caisse des Dépôts enregistrés.")
            return redirect("declarations:declare", rncp_code=rncp_code)
    declare_url = reverse("declarations:declare", kwargs={"rncp_code": rncp_code})
    return form_page(
        request,
        title="Identifiants auprès de la Caisse des Dépôts",
        intro="Les identifiants que la Caisse des Dépôts a communiqués à l'IRUP pour le dépôt des fichiers "
        "de déclaration des titulaires (Passeport de compétences). Ils figurent dans chaque fichier produit.",
        form=form,
        cancel_url=declare_url,
        breadcrumb=[(declare_url, "Déclaration des titulaires")],
    )


@declare_holders_required
def history(request, rncp_code):
    certification = get_object_or_404(Certification, rncp_code=rncp_code)
    declarations_list = (
        HolderDeclaration.objects.filter(certification=certification)
        .select_related("created_by")
        .select_related("receipt")
        .annotate(
            holder_count=Count("lines", distinct=True),
            resend_count=Count("lines", filter=Q(lines__is_resend=True), distinct=True),
            rejected_count=Count("lines", filter=Q(lines__outcome__accepted=False), distinct=True),
        )
        .defer("xml", "receipt__report")
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
    return _detail_page(request, declaration, ReceiptForm())


def _detail_page(request, declaration, receipt_form, status=200):
    lines = list(
        declaration.lines.select_related("award__candidate", "outcome").order_by(
            *person_order("award__candidate__"), "pk"
        )
    )
    for line in lines:
        try:
            line.cdc_outcome = line.outcome
        except HolderDeclarationOutcome.DoesNotExist:
            line.cdc_outcome = None
    receipt = declaration.receipt if hasattr(declaration, "receipt") else None  # reverse one-to-one, maybe none
    return render(
        request,
        "declarations/detail.html",
        {
            "declaration": declaration,
            "certification": declaration.certification,
            "lines": lines,
            "receipt": receipt,
            "receipt_form": receipt_form,
            "accepted_count": sum(1 for line in lines if line.cdc_outcome and line.cdc_outcome.accepted),
            "rejected_count": sum(1 for line in lines if line.cdc_outcome and not line.cdc_outcome.accepted),
        },
        status=status,
    )


@declare_holders_required
def receipt_upload(request, pk):
    """The CDC's processing report for this flux: each holder accepted or rejected, with the CDC's reason."""
    declaration = _declaration(pk)
    if request.method != "POST":
        return redirect("declarations:detail", pk=declaration.pk)
    form = ReceiptForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["report"]
        if upload.size > receipts.MAX_REPORT_BYTES:
            form.add_error("report", "Le fichier déposé est trop volumineux pour un accusé de traitement.")
        else:
            done, receipt = apply_service(
                form,
                lambda: receipts.receipt_record(declaration=declaration, report=upload.read(), actor=request.user),
            )
            if done:
                answers = receipt.outcomes.all()
                rejected = sum(1 for outcome in answers if not outcome.accepted)
                messages.success(
                    request,
                    f"Accusé de traitement du flux {declaration.flux_id} enregistré : "
                    f"{len(answers) - rejected} titulaire{plural_suffix(len(answers) - rejected)} accepté"
                    f"{plural_suffix(len(answers) - rejected)}, {rejected} rejeté{plural_suffix(rejected)}.",
                )
                return redirect("declarations:detail", pk=declaration.pk)
    return _detail_page(request, _declaration(pk), form, status=400)


@declare_holders_required
def download(request, pk):
    """The stored file, byte for byte as validated and recorded."""
    declaration = _declaration(pk)
    response = HttpResponse(bytes(declaration.xml), content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{declaration.flux_id}.xml"'
    return response
