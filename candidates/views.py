import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Case, OuterRef, Subquery, Value, When
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from candidates import cog, selectors, services, services_withdrawals
from candidates.filters import SEARCH_SESSION_KEY, filtered_candidates
from candidates.forms import (
    AcquiredBlockForm,
    AdmissibilityForm,
    CandidateForm,
    CohortForm,
    EnrolmentForm,
    EnrolmentUpdateForm,
    PreparationPlaceForm,
    WithdrawalForm,
)
from candidates.models import (
    Candidate,
    Cohort,
    Enrolment,
    EnrolmentStatus,
)
from candidates.selectors import candidate_personal_data as personal_data_of
from candidates.selectors import with_file, with_withdrawals
from certif.audit import AuditAction, audit_trail, record_audit
from certif.audit_display import describe_events
from certif.collation import french, person_order
from certif.models import PreparationPlace
from certif.permissions import may
from certif.security import check_signature_password
from certif.sorting import SortColumn, TableSort
from certif.text import plural_suffix
from certif.validation import apply_service
from certif.views_helpers import form_page, rule_required

PAGE_SIZE = 25
SEARCH_MAX_LENGTH = 100  # a few names, an email address


def _latest_enrolment(field: str) -> Subquery:
    """`field` of the enrolment the list shows for each candidate (their latest, as `candidate_list_rows` orders
    them)."""
    latest = Enrolment.objects.filter(candidate=OuterRef("pk")).order_by("-enrolled_on", "-pk")
    # A status sorts by the course of an enrolment (en cours, terminé, abandon), not by the alphabet of its codes.
    status_rank = Case(*(When(status=code, then=Value(rank)) for rank, code in enumerate(EnrolmentStatus.values)))
    return Subquery(latest.annotate(status_rank=status_rank).values(field)[:1])


CANDIDATE_COLUMNS = (
    SortColumn("nom", "Nom", person_order()),
    SortColumn("naissance", "Né(e) le", ("birth_date",)),
    SortColumn("promotion", "Promotion", (french(_latest_enrolment("cohort__name")).asc(nulls_last=True),)),
    SortColumn("voie", "Voie d'accès", (french(_latest_enrolment("cohort__pathway__label")).asc(nulls_last=True),)),
    SortColumn("statut", "Statut", (_latest_enrolment("status_rank").asc(nulls_last=True),)),
)
COHORT_COLUMNS = (
    SortColumn("promotion", "Promotion", (french("name"),)),
    SortColumn("certification", "Certification", ("certification__rncp_code",)),
    SortColumn("voie", "Voie d'accès", (french("pathway__label"),)),
    SortColumn("lieu", "Lieu de préparation", (french("preparation_place__name"),)),
    SortColumn("dates", "Dates", ("start_date", "end_date")),
)
BIRTH_PLACE_COLUMNS = (
    SortColumn("candidat", "Candidat", person_order()),
    SortColumn("pays", "Pays saisi", (french("birth_country"),)),
    SortColumn("commune", "Commune saisie", (french("birth_commune"),)),
)


@permission_required("candidates.view_candidate", raise_exception=True)
def candidate_list(request):
    if request.method == "POST":
        # The search words are names: kept in the session, never in the URL.
        search = "" if "clear" in request.POST else request.POST.get("q", "").strip()
        if len(search) > SEARCH_MAX_LENGTH:
            messages.error(request, f"La recherche compte {len(search)} caractères ; {SEARCH_MAX_LENGTH} au plus.")
        else:
            request.session[SEARCH_SESSION_KEY] = search
        kept = request.GET.copy()
        kept.pop("page", None)  # a new search starts at its first page; the filters and the sort stay
        return redirect(f"{reverse('candidates:list')}?{kept.urlencode()}" if kept else "candidates:list")
    visible = Candidate.objects.visible_to(request.user)
    filter_form, candidates = filtered_candidates(request, visible)
    sort = TableSort(request, CANDIDATE_COLUMNS, default="nom", tie_break=(*person_order(), "pk"))
    ordered = sort.order_by(candidates).values(*selectors.LISTED_CANDIDATE_COLUMNS)
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "candidates/candidate_list.html",
        {
            "page": page,
            "rows": selectors.candidate_list_rows(page.object_list),
            "detail_url": reverse("candidates:detail", args=[0]).removesuffix("0/"),
            "filter_form": filter_form,
            "search": request.session.get(SEARCH_SESSION_KEY, ""),
            "querystring": query_without_page.urlencode(),
            "sort": sort,
        },
    )


@permission_required("candidates.view_candidate", raise_exception=True)
def candidate_detail(request, pk):
    candidate = get_object_or_404(with_withdrawals(with_file(Candidate.objects.visible_to(request.user))), pk=pk)
    standings = selectors.candidate_certifications(candidate)
    carried = selectors.correspondence_sections(candidate)
    shown = {standing.certification.pk for standing in standings}
    return render(
        request,
        "candidates/candidate_detail.html",
        {
            "candidate": candidate,
            "enrolments": candidate.enrolments.all(),
            "standings": standings,
            "withdrawals": candidate.withdrawals.all(),
            "can_withdraw": may(request.user, "candidates.withdraw_candidate")
            and any(standing.has_results for standing in standings),
            "audit_events": _history(request.user, candidate),
            "can_edit": may(request.user, "candidates.edit_candidate"),
            "blocks_by_correspondence": carried,
            # Blocks of a fiche the candidate is not (yet) enrolled in, held through its correspondence table.
            "carried_elsewhere": [section for section in carried if section["certification"].pk not in shown],
            "carried_block_ids": {item.block.pk for section in carried for item in section["held"]},
        },
    )


def _history(user, candidate) -> list:
    """The candidate's last 50 audited events, for those who may read them."""
    return describe_events(audit_trail(candidate)[:50]) if may(user, "candidates.read_candidate_history") else []


@permission_required("candidates.add_candidate", raise_exception=True)
def candidate_create(request):
    form = CandidateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, candidate = apply_service(
            form, lambda: services.candidate_create(actor=request.user, **form.model_fields())
        )
        if done:
            messages.success(request, f"Candidat {candidate.full_name} créé.")
            return redirect("candidates:detail", pk=candidate.pk)
    return render(request, "candidates/candidate_form.html", {"form": form, "candidate": None})


@permission_required("candidates.change_candidate", raise_exception=True)
def candidate_edit(request, pk):
    candidate = get_object_or_404(Candidate, pk=pk)
    form = CandidateForm(request.POST or None, instance=Candidate.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form, lambda: services.candidate_update(candidate=candidate, actor=request.user, **form.model_fields())
        )
        if done:
            messages.success(request, "Fiche du candidat enregistrée.")
            return redirect("candidates:detail", pk=candidate.pk)
    return render(request, "candidates/candidate_form.html", {"form": form, "candidate": candidate})


@permission_required("candidates.change_candidate", raise_exception=True)
def candidate_personal_data(request, pk):
    """Everything the application holds about one person (droit d'accès, RGPD art. 15), as JSON."""
    candidate = get_object_or_404(with_file(Candidate.objects.all()), pk=pk)
    data = personal_data_of(candidate)
    record_audit(actor=request.user, action=AuditAction.CANDIDATE_PERSONAL_DATA_EXPORTED, target=candidate)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="candidat-{candidate.pk}.json"'
    return response


def _candidate_breadcrumb(candidate):
    return [
        (reverse("candidates:list"), "Candidats"),
        (reverse("candidates:detail", args=[candidate.pk]), candidate.full_name),
    ]


@permission_required("candidates.add_enrolment", raise_exception=True)
def enrolment_create(request, pk):
    candidate = get_object_or_404(Candidate, pk=pk)
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form, lambda: services.enrolment_create(candidate=candidate, actor=request.user, **form.cleaned_data)
        )
        if done:
            messages.success(request, f"Inscription dans la promotion « {form.cleaned_data['cohort']} » enregistrée.")
            return redirect("candidates:detail", pk=candidate.pk)
    return form_page(
        request,
        title=f"Inscrire {candidate.full_name} dans une promotion",
        form=form,
        breadcrumb=_candidate_breadcrumb(candidate),
        intro="Les blocs déjà acquis restent acquis : une nouvelle inscription ne les remet pas en jeu.",
        submit="Inscrire",
        cancel_url=reverse("candidates:detail", args=[candidate.pk]),
    )


@permission_required("candidates.change_enrolment", raise_exception=True)
def enrolment_edit(request, pk):
    enrolment = get_object_or_404(Enrolment.objects.select_related("candidate", "cohort__pathway"), pk=pk)
    form = EnrolmentUpdateForm(request.POST or None, instance=Enrolment.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form, lambda: services.enrolment_update(enrolment=enrolment, actor=request.user, **form.cleaned_data)
        )
        if done:
            messages.success(request, "Inscription enregistrée.")
            return redirect("candidates:detail", pk=enrolment.candidate_id)
    return form_page(
        request,
        title=f"Inscription de {enrolment.candidate.full_name} — {enrolment.cohort.name}",
        form=form,
        breadcrumb=_candidate_breadcrumb(enrolment.candidate),
        cancel_url=reverse("candidates:detail", args=[enrolment.candidate_id]),
    )


@permission_required("candidates.change_enrolment", raise_exception=True)
def admissibility_decide(request, pk):
    enrolment = get_object_or_404(Enrolment.objects.select_related("candidate", "cohort__pathway"), pk=pk)
    if not enrolment.is_vae:
        messages.error(request, "La recevabilité ne concerne que les candidats en VAE.")
        return redirect("candidates:detail", pk=enrolment.candidate_id)
    form = AdmissibilityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form, lambda: services.admissibility_record(enrolment=enrolment, actor=request.user, **form.cleaned_data)
        )
        if done:
            messages.success(request, "Décision de recevabilité enregistrée.")
            return redirect("candidates:detail", pk=enrolment.candidate_id)
    return form_page(
        request,
        title=f"Recevabilité VAE de {enrolment.candidate.full_name}",
        form=form,
        breadcrumb=_candidate_breadcrumb(enrolment.candidate),
        intro="Un candidat en VAE n'est évalué qu'après une décision de recevabilité favorable.",
        cancel_url=reverse("candidates:detail", args=[enrolment.candidate_id]),
    )


@permission_required("candidates.add_acquiredblock", raise_exception=True)
def acquired_block_add(request, pk):
    candidate = get_object_or_404(Candidate, pk=pk)
    form = AcquiredBlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form, lambda: services.acquired_block_import(candidate=candidate, actor=request.user, **form.cleaned_data)
        )
        if done:
            messages.success(request, f"Bloc {form.cleaned_data['block'].number} ajouté aux blocs acquis.")
            return redirect("candidates:detail", pk=candidate.pk)
    return form_page(
        request,
        title=f"Reprendre un bloc acquis avant l'application — {candidate.full_name}",
        form=form,
        breadcrumb=_candidate_breadcrumb(candidate),
        intro="Pour l'historique antérieur à l'application : indiquez la source (procès-verbal, attestation). "
        "Les blocs acquis sont valables sans limite de durée.",
        cancel_url=reverse("candidates:detail", args=[candidate.pk]),
    )


@rule_required("candidates.withdraw_candidate")
def withdrawal_create(request, pk):
    """Withdraw a certificate and/or blocks obtained by fraud (staff only): a deliberate act, signed with the staff
    member's password and confirmed, with the decision's reference and the reason."""
    candidate = get_object_or_404(with_file(Candidate.objects.all()), pk=pk)
    # The certification withdrawn from: the one the candidate holds results in, or the one chosen among several.
    choices = [
        standing.certification for standing in selectors.candidate_certifications(candidate) if standing.has_results
    ]
    code = request.GET.get("certification", "").removeprefix("RNCP")
    if code:
        certification = next((item for item in choices if item.rncp_code == code), None)
        if certification is None:
            raise Http404("Ce candidat ne détient aucun résultat de cette certification.")
    else:
        certification = choices[0] if len(choices) == 1 else None
    options = (
        selectors.withdrawal_options(candidate=candidate, certification=certification)
        if certification
        else selectors.WithdrawalOptions(award=None, blocks=[])
    )
    form = WithdrawalForm(request.POST or None, options=options)
    if request.method == "POST" and certification and form.is_valid():
        done, withdrawal = apply_service(
            form,
            lambda: _withdrawal_signed(
                request, candidate=candidate, certification=certification, data=form.cleaned_data
            ),
        )
        if done:
            messages.success(request, _withdrawal_message(withdrawal))
            return redirect(reverse("candidates:detail", args=[candidate.pk]) + "#retraits")
    return render(
        request,
        "candidates/withdrawal_form.html",
        {
            "candidate": candidate,
            "form": form,
            "options": options,
            "certification": certification,
            "certification_choices": choices if len(choices) > 1 else [],
        },
        status=400 if request.method == "POST" else 200,
    )


def _withdrawal_signed(request, *, candidate, certification, data):
    """The withdrawal, once the staff member's password (throttled like the login) proves it is them."""
    check_signature_password(request=request, user=request.user, password=data["password"])
    return services_withdrawals.withdrawal_record(
        candidate=candidate,
        certification=certification,
        withdraw_award=data.get("award", False),
        acquired_block_ids=data["blocks"],
        reference=data["reference"],
        decided_on=data["decided_on"],
        reason=data["reason"],
        actor=request.user,
    )


def _withdrawal_message(withdrawal) -> str:
    revoked = withdrawal.documents.count()
    if not revoked:
        return f"Retrait enregistré ({withdrawal.reference}). Aucun document émis n'était à révoquer."
    plural = plural_suffix(revoked)
    return (
        f"Retrait enregistré ({withdrawal.reference}). {revoked} document{plural} révoqué{plural} : "
        "la page publique de vérification répond « retiré »."
    )


@permission_required("candidates.view_cohort", raise_exception=True)
def cohort_list(request):
    sort = TableSort(request, COHORT_COLUMNS, default="-dates", tie_break=(french("name"), "pk"))
    cohorts = sort.order_by(
        Cohort.objects.select_related("certification", "pathway", "preparation_place").prefetch_related("trainers")
    )
    return render(request, "candidates/cohort_list.html", {"cohorts": cohorts, "sort": sort})


def _cohortform_page(request, form, cohort=None):
    return form_page(
        request,
        title=f"Promotion « {cohort.name} »" if cohort else "Nouvelle promotion",
        form=form,
        breadcrumb=[(reverse("candidates:cohort_list"), "Promotions")],
        intro="Une promotion prépare une certification : elle suit une voie d'accès ouverte par sa fiche, dans un "
        "lieu de préparation de cette certification.",
        cancel_url=reverse("candidates:cohort_list"),
    )


@permission_required("candidates.add_cohort", raise_exception=True)
def cohort_create(request):
    form = CohortForm(request.POST or None, instance=Cohort())
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form,
            lambda: services.cohort_save(
                cohort=form.instance, trainers=form.cleaned_data["trainers"], actor=request.user
            ),
        )
        if done:
            messages.success(request, f"Promotion « {form.instance.name} » créée.")
            return redirect("candidates:cohort_list")
    return _cohortform_page(request, form)


@permission_required("candidates.change_cohort", raise_exception=True)
def cohort_edit(request, pk):
    cohort = get_object_or_404(Cohort, pk=pk)
    # The form writes into its own copy: a refused name must not become the page's title.
    form = CohortForm(request.POST or None, instance=Cohort.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form,
            lambda: services.cohort_save(
                cohort=form.instance, trainers=form.cleaned_data["trainers"], actor=request.user
            ),
        )
        if done:
            messages.success(request, "Promotion enregistrée.")
            return redirect("candidates:cohort_list")
    return _cohortform_page(request, form, cohort)


@permission_required("certif.manage_referential", raise_exception=True)
def preparation_place_create(request):
    form = PreparationPlaceForm(request.POST or None, instance=PreparationPlace())
    if request.method == "POST" and form.is_valid():
        done, place = apply_service(
            form, lambda: services.preparation_place_create(place=form.instance, actor=request.user)
        )
        if done:
            messages.success(request, f"Lieu de préparation « {place.name} » ajouté.")
            return redirect("candidates:cohort_list")
    return form_page(
        request,
        title="Nouveau lieu de préparation",
        form=form,
        breadcrumb=[(reverse("candidates:cohort_list"), "Promotions")],
        intro="Chaque fiche déclare ses lieux de préparation ; ajoutez ici un autre lieu à la certification choisie.",
        cancel_url=reverse("candidates:cohort_list"),
    )


def _place_search(request, found) -> JsonResponse:
    query = request.GET.get("q", "")[:SEARCH_MAX_LENGTH]
    return JsonResponse({"results": found(query)})


@rule_required("candidates.edit_candidate")
def birth_commune_search(request):
    """The COG's communes matching `q` (accents, case and hyphens ignored), at most `cog.SEARCH_LIMIT`, for the
    candidate form's search as you type; read from memory, no query."""
    return _place_search(
        request,
        lambda query: [
            {"code": item.code, "name": item.name, "postal": list(item.postal_codes), "label": item.label}
            for item in cog.search_communes(query)
        ],
    )


@rule_required("candidates.edit_candidate")
def birth_country_search(request):
    """The COG's countries matching `q` (France 99100 included), at most `cog.SEARCH_LIMIT`."""
    return _place_search(
        request,
        lambda query: [
            {"code": item.code, "name": item.name, "label": item.label} for item in cog.search_countries(query)
        ],
    )


@rule_required("candidates.edit_candidate")
def birth_places_to_check(request):
    """« Fiches à vérifier »: birth places the code lists could not read, each with a link to its file."""
    sort = TableSort(request, BIRTH_PLACE_COLUMNS, default="candidat", tie_break=(*person_order(), "pk"))
    candidates = list(sort.order_by(selectors.birth_places_to_check())[:500])
    return render(
        request,
        "candidates/birth_places_to_check.html",
        {"candidates": candidates, "lists_version": cog.lists_version(), "sort": sort},
    )
