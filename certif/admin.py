"""The referential in the admin: what a service writes is saved through it (validated, audited) or shown read-only.

Grids and the rating scale are edited on the referential pages (versions, audit), so they are read-only here; a
block's rule, a registration and a certification's description are saved through `certif.services`. Nothing of
the referential is deleted here, except a registration recorded by mistake on which no signed jury rests.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from certif import (
    admin_accounts,  # noqa: F401 (the accounts' administration)
    services,
)
from certif.admin_doors import ReadOnlyInline, ReadOnlyModelAdmin, ServiceModelAdmin, adopt, audit_trail_html
from certif.audit_display import describe_event, lines_html
from certif.models import (
    AccessPathway,
    AuditEvent,
    BackgroundJob,
    Block,
    BlockCorrespondence,
    Certification,
    Competence,
    Grid,
    JuryCompositionRule,
    PreparationPlace,
    RatingScale,
    Registration,
    RomeCode,
    ScaleLevel,
)


class AuditTrailMixin:
    @admin.display(description="Traces d'audit")
    def audit_trail_table(self, obj):
        return audit_trail_html(obj)


class RomeCodeInline(ReadOnlyInline):
    model = RomeCode
    fields = ("code", "label")
    readonly_fields = fields


class PreparationPlaceInline(ReadOnlyInline):
    """A place is added on the application's page (/candidats/lieux/nouveau/), through its service."""

    model = PreparationPlace
    fields = ("name", "address")
    readonly_fields = fields


CERTIFICATION_FICHE_FIELDS = (
    "rncp_code",
    "title",
    "acronym",
    "level_1969",
    "level_eqf",
    "nsf_code",
    "nsf_label",
    "certifier_name",
    "certifier_acronym",
    "signatory_title",
    "certification_place",
    "acquired_blocks_validity",
)


@admin.register(Certification)
class CertificationAdmin(AuditTrailMixin, ServiceModelAdmin):
    """A certification is installed from its fiche (`load_fiche`); what the fiche registers and the documents print
    is read-only, its description is saved through `certification_update`."""

    service_writes = frozenset({"change"})

    list_display = ["rncp_code", "title", "level_eqf"]
    inlines = [RomeCodeInline, PreparationPlaceInline]
    readonly_fields = [*CERTIFICATION_FICHE_FIELDS, "audit_trail_table"]
    fieldsets = [
        (
            "Fiche RNCP",
            {
                "fields": CERTIFICATION_FICHE_FIELDS,
                "description": "Telle que France Compétences la publie : une autre fiche s'installe avec "
                "« python manage.py load_fiche », sous son propre code RNCP.",
            },
        ),
        ("Description", {"fields": tuple(services.CERTIFICATION_EDITABLE_FIELDS)}),
        ("Historique", {"fields": ["audit_trail_table"]}),
    ]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.CERTIFICATION_EDITABLE_FIELDS}
        adopt(obj, services.certification_update(certification=obj, actor=request.user, **fields))


@admin.register(Registration)
class RegistrationAdmin(AuditTrailMixin, ServiceModelAdmin):
    """Added with `registration_create`, corrected with `registration_update` (a signed jury stays inside its
    period), deleted with `registration_delete` (refused once a signed jury rests on it)."""

    list_display = ["act", "certification", "in_force_from", "in_force_until"]
    list_filter = ["certification"]

    def get_fields(self, request, obj=None):
        fields = ["certification", *services.REGISTRATION_FIELDS]
        return [*fields, "audit_trail_table"] if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        return ["certification", "audit_trail_table"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            fields = {name: form.cleaned_data[name] for name in services.REGISTRATION_FIELDS}
            saved = services.registration_update(registration=obj, actor=request.user, **fields)
        else:
            saved = services.registration_create(registration=obj, actor=request.user)
        adopt(obj, saved)

    def delete_model(self, request, obj):
        services.registration_delete(registration=obj, actor=request.user)


@admin.register(Block)
class BlockAdmin(AuditTrailMixin, ServiceModelAdmin):
    """Blocks come with the fiche. Their rule is saved through `block_threshold_update`: frozen once an evaluation
    has opened on the block, never below the competences its grid defines."""

    service_writes = frozenset({"change"})

    list_display = ["number", "certification", "threshold_kind", "threshold_value", "declared_competence_count"]
    list_filter = ["certification"]
    fields = [
        "certification",
        "number",
        "title",
        "evaluation_modality",
        "threshold_kind",
        "threshold_value",
        "declared_competence_count",
        "grid_page",
        "audit_trail_table",
    ]
    readonly_fields = ["certification", "number", "title", "evaluation_modality", "grid_page", "audit_trail_table"]

    @admin.display(description="grille d'évaluation")
    def grid_page(self, block):
        return format_html(
            '<a href="{}">Les compétences se modifient sur la page du bloc</a>',
            reverse("certif:block_edit", kwargs={"rncp_code": block.certification.rncp_code, "number": block.number}),
        )

    def save_model(self, request, obj, form, change):
        saved = services.block_threshold_update(
            block=obj,
            actor=request.user,
            threshold_kind=form.cleaned_data["threshold_kind"],
            threshold_value=form.cleaned_data["threshold_value"],
            declared_competence_count=form.cleaned_data["declared_competence_count"],
        )
        adopt(obj, saved)


class CompetenceInline(ReadOnlyInline):
    model = Competence
    fields = ("position", "label")
    readonly_fields = fields


@admin.register(Grid)
class GridAdmin(ReadOnlyModelAdmin):
    """Read-only: competences are added, renamed, moved and removed on the block's page, which makes a new version
    of a frozen grid and leaves an audit trace."""

    list_display = ["block", "version", "created_at", "frozen_at"]
    list_select_related = ["block"]
    fields = ("block", "version", "created_at", "frozen_at", "grid_page")
    readonly_fields = fields
    inlines = [CompetenceInline]

    @admin.display(description="modifier")
    def grid_page(self, grid):
        block = grid.block
        return format_html(
            '<a href="{}">Page du bloc {}</a>',
            reverse("certif:block_edit", kwargs={"rncp_code": block.certification.rncp_code, "number": block.number}),
            block.number,
        )


class ScaleLevelInline(ReadOnlyInline):
    model = ScaleLevel
    fields = ("position", "code", "label", "validates")
    readonly_fields = fields


@admin.register(RatingScale)
class RatingScaleAdmin(ReadOnlyModelAdmin):
    """Read-only: the scale is edited on its page (its levels checked as a whole, a used one versioned)."""

    list_display = ["certification", "version", "first_used_at"]
    fields = ("certification", "version", "created_at", "first_used_at", "scale_page")
    readonly_fields = fields
    inlines = [ScaleLevelInline]

    @admin.display(description="modifier")
    def scale_page(self, scale):
        return format_html(
            '<a href="{}">Page de l\'échelle de niveaux</a>',
            reverse("certif:scale_edit", kwargs={"rncp_code": scale.certification.rncp_code}),
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """The journal: each action under its French label, its before and after as the fields' labels and values."""

    list_display = ["occurred_at", "actor", "action", "target_repr"]
    list_filter = ["action", "target_type"]
    list_select_related = ["actor"]
    search_fields = ["target_repr", "action"]
    date_hierarchy = "occurred_at"
    fields = (
        "occurred_at",
        "actor",
        "action",
        "target_type",
        "target_repr",
        "changes",
        "readable_before",
        "readable_after",
    )
    readonly_fields = fields

    @admin.display(description="modifications")
    def changes(self, event):
        return lines_html(_readable(event).changes)

    @admin.display(description="avant")
    def readable_before(self, event):
        return lines_html(_readable(event).before)

    @admin.display(description="après")
    def readable_after(self, event):
        return lines_html(_readable(event).after)


def _readable(event):
    """The event's readable form, computed once for the three fields of its page."""
    if not hasattr(event, "_readable"):
        event._readable = describe_event(event)
    return event._readable


@admin.register(AccessPathway)
class AccessPathwayAdmin(ReadOnlyModelAdmin):
    """Read-only: the pathways are the fiche's table (OUI / NON), installed with it; cohorts and the jury
    composition rule rest on them."""

    list_display = ["label", "certification", "is_open"]


@admin.register(JuryCompositionRule)
class JuryCompositionRuleAdmin(ReadOnlyModelAdmin):
    """The fiche's rule, installed with it (`load_fiche`); the sessions composed under it rest on it."""

    list_display = ["certification", "professionals_percent", "trainers_percent"]


@admin.register(BlockCorrespondence)
class BlockCorrespondenceAdmin(ReadOnlyModelAdmin):
    """Recorded on the successor fiche's page, where each change is audited; frozen once a block was acquired
    through it."""

    list_display = ["previous_block", "block", "recorded_at", "first_used_at"]
    list_select_related = ["block__certification", "previous_block__certification"]


@admin.register(BackgroundJob)
class BackgroundJobAdmin(ReadOnlyModelAdmin):
    """Background jobs, read-only: asked for from their pages, run by `manage.py db_worker`. The file is downloaded
    by the person who asked only, from the job's page."""

    list_display = ["title", "kind", "status", "done", "total", "requested_by", "requested_at", "finished_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["requested_by"]
    exclude = ["file"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("file")
