from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from certif import services
from certif.forms import BlockThresholdForm, CompetenceForm, NewCompetenceForm, RegistrationForm, ScaleLevelFormSet
from certif.models import Block, Certification, RatingScale, Registration
from certif.selectors import certifications_with_registrations, correspondence_table
from certif.validation import apply_service

manage_referential_required = permission_required("certif.manage_referential", raise_exception=True)


def certification_list(request):
    today = timezone.localdate()
    certifications = [
        (certification, certification.in_force_on(today), certification.force_label(today))
        for certification in certifications_with_registrations()
    ]
    return render(request, "certif/certification_list.html", {"certifications": certifications})


def _related_fiches(codes: list[str], installed: dict[str, str]) -> list[tuple[str, str | None]]:
    """Each predecessor or successor code, with the installed fiche's code when there is one (to link to)."""
    return [(code, installed.get(code.removeprefix("RNCP"))) for code in codes]


def _certification_for_fiche(rncp_code: str) -> Certification:
    queryset = Certification.objects.prefetch_related(
        "rome_codes",
        "preparation_places",
        "registrations",
        Prefetch("pathways", to_attr="pathway_list"),
        Prefetch("rating_scales", queryset=RatingScale.objects.prefetch_related("levels"), to_attr="scale_versions"),
    ).select_related("jury_rule")
    return get_object_or_404(queryset, rncp_code=rncp_code)


def fiche(request, rncp_code):
    certification = _certification_for_fiche(rncp_code)
    blocks = Block.objects.filter(certification=certification).select_related("certification").with_current_grid()
    scale = certification.scale_versions[0]  # type: ignore[attr-defined]  # prefetched above (to_attr)
    today = timezone.localdate()
    registrations = list(certification.registrations.all())
    jury_rule = getattr(certification, "jury_rule", None)
    related = [code.removeprefix("RNCP") for code in certification.previous_rncp_codes + certification.next_rncp_codes]
    installed = (
        {code: code for code in Certification.objects.filter(rncp_code__in=related).values_list("rncp_code", flat=True)}
        if related
        else {}
    )
    return render(
        request,
        "certif/fiche.html",
        {
            "certification": certification,
            "blocks": [(block, block.current_grid, block.threshold.describe(scale.floor_label)) for block in blocks],
            "scale": scale,
            "registrations": registrations,
            "today": today,
            "registration_today": certification.registration_on(today),
            "last_registration": max(registrations, key=lambda r: r.in_force_until) if registrations else None,
            "jury_rule": jury_rule,
            "jury_rule_pathways": set(jury_rule.pathways.values_list("pk", flat=True)) if jury_rule else set(),
            "in_force_today": certification.in_force_on(today),
            "force_label": certification.force_label(today),
            "previous_fiches": _related_fiches(certification.previous_rncp_codes, installed),
            "next_fiches": _related_fiches(certification.next_rncp_codes, installed),
            "correspondence_table": correspondence_table(certification),
        },
    )


def _block(rncp_code, number) -> Block:
    return get_object_or_404(
        Block.objects.select_related("certification").with_current_grid(),
        certification__rncp_code=rncp_code,
        number=number,
    )


def _existing_position(block: Block, position: int) -> int:
    """A competence's rank in the block's current grid, or 404: a rank from an old page or a forged URL."""
    if not any(competence.position == position for competence in block.current_grid.competences.all()):
        raise Http404(f"Aucune compétence au rang {position} dans la grille du bloc {block.number}.")
    return position


def _render_block_edit(request, block, *, add_form=None, threshold_form=None, invalid_rename=None, status=200):
    """The grid editor; `invalid_rename` is (position, bound form) when a rename was refused."""
    grid = block.current_grid
    rename_forms = []
    for competence in grid.competences.all():
        if invalid_rename and invalid_rename[0] == competence.position:
            rename_forms.append((competence, invalid_rename[1]))
        else:
            initial = {"label": competence.label}
            rename_forms.append((competence, CompetenceForm(initial=initial, prefix=f"c{competence.position}")))
    context = {
        "bloc": block,
        "grid": grid,
        "rename_forms": rename_forms,
        "add_form": add_form or NewCompetenceForm(prefix="add"),
        "threshold_form": threshold_form or BlockThresholdForm(instance=block, prefix="threshold"),
        "rule_is_frozen": block.rule_is_frozen,
    }
    return render(request, "certif/block_edit.html", context, status=status)


@manage_referential_required
def block_edit(request, rncp_code, number):
    block = _block(rncp_code, number)
    return _render_block_edit(request, block)


@require_POST
@manage_referential_required
def competence_add(request, rncp_code, number):
    block = _block(rncp_code, number)
    form = NewCompetenceForm(request.POST, prefix="add")
    if form.is_valid():
        done, _ = apply_service(
            form, lambda: services.competence_add(block=block, label=form.cleaned_data["label"], actor=request.user)
        )
        if done:
            messages.success(request, "Compétence ajoutée à la grille.")
            return redirect("certif:block_edit", rncp_code=rncp_code, number=number)
    return _render_block_edit(request, block, add_form=form, status=400)


@require_POST
@manage_referential_required
def competence_rename(request, rncp_code, number, position):
    block = _block(rncp_code, number)
    _existing_position(block, position)
    form = CompetenceForm(request.POST, prefix=f"c{position}")
    if form.is_valid():
        done, _ = apply_service(
            form,
            lambda: services.competence_rename(
                block=block, position=position, label=form.cleaned_data["label"], actor=request.user
            ),
        )
        if done:
            messages.success(request, "Compétence renommée.")
            return redirect("certif:block_edit", rncp_code=rncp_code, number=number)
    return _render_block_edit(request, block, invalid_rename=(position, form), status=400)


@require_POST
@manage_referential_required
def threshold_update(request, rncp_code, number):
    block = _block(rncp_code, number)
    form = BlockThresholdForm(request.POST, instance=Block.objects.get(pk=block.pk), prefix="threshold")
    if form.is_valid():
        done, _ = apply_service(
            form, lambda: services.block_threshold_update(block=block, actor=request.user, **form.cleaned_data)
        )
        if done:
            messages.success(request, "Seuil du bloc enregistré.")
            return redirect("certif:block_edit", rncp_code=rncp_code, number=number)
    return _render_block_edit(request, block, threshold_form=form, status=400)


@require_POST
@manage_referential_required
def competence_move(request, rncp_code, number, position):
    block = _block(rncp_code, number)
    _existing_position(block, position)
    offset = -1 if request.POST.get("direction") == "up" else 1
    if services.competence_move(block=block, position=position, offset=offset, actor=request.user):
        messages.success(request, "Ordre des compétences enregistré.")
    else:
        messages.info(request, "Cette compétence est déjà à cette extrémité de la grille : rien n'a changé.")
    return redirect("certif:block_edit", rncp_code=rncp_code, number=number)


@require_POST
@manage_referential_required
def competence_remove(request, rncp_code, number, position):
    block = _block(rncp_code, number)
    get_object_or_404(block.current_grid.competences.all(), position=position)
    services.competence_remove(block=block, position=position, actor=request.user)
    messages.success(request, "Compétence retirée de la grille.")
    return redirect("certif:block_edit", rncp_code=rncp_code, number=number)


@manage_referential_required
def registration_add(request, rncp_code):
    certification = get_object_or_404(Certification, rncp_code=rncp_code)
    form = RegistrationForm(request.POST or None, instance=Registration(certification=certification))
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form, lambda: services.registration_create(registration=form.instance, actor=request.user)
        )
        if done:
            messages.success(request, "Enregistrement au RNCP ajouté.")
            return redirect("certif:fiche", rncp_code=rncp_code)
    return render(request, "certif/registration_form.html", {"certification": certification, "form": form})


@manage_referential_required
def scale_edit(request, rncp_code):
    certification = get_object_or_404(Certification, rncp_code=rncp_code)
    scale: RatingScale = certification.rating_scales.order_by("-version").first()  # type: ignore[assignment]  # a certification has a scale from its installation
    if request.method == "POST" and "new_version" in request.POST:
        services.rating_scale_new_version(certification=certification, actor=request.user)
        messages.success(request, "Nouvelle version de l'échelle créée : elle s'appliquera aux prochaines évaluations.")
        return redirect("certif:scale_edit", rncp_code=rncp_code)
    formset = ScaleLevelFormSet(request.POST or None, queryset=scale.levels.order_by("position"))
    if request.method == "POST" and not scale.is_in_use and formset.is_valid():
        levels = [
            form.cleaned_data for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            services.rating_scale_update(scale=scale, levels=levels, actor=request.user)
        except ValidationError as error:
            formset._non_form_errors = formset.error_class(error.messages)  # type: ignore[attr-defined]  # private, absent from the stubs
        else:
            messages.success(request, "Échelle de niveaux enregistrée.")
            return redirect("certif:fiche", rncp_code=rncp_code)
    return render(
        request, "certif/scale_form.html", {"certification": certification, "scale": scale, "formset": formset}
    )
