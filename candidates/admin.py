"""The admin of candidates' files. Every write goes through `candidates.services`, as in the application's own
pages, so that the audit trace records who changed what, when, from what to what.

What no service covers is not offered here: deleting a candidate, a promotion or an enrolment; changing or
deleting an acquired block (the ledger is for good); anything on an awarded certification.
"""

from django import forms
from django.contrib import admin
from django.utils import timezone

from candidates import selectors, services
from candidates.forms import CandidateForm
from candidates.models import (
    VAE_PATHWAY_CODE,
    AcquiredBlock,
    Candidate,
    CertificationAward,
    Cohort,
    Enrolment,
    Withdrawal,
    WithdrawnBlock,
)
from certif.admin_doors import ReadOnlyInline, ReadOnlyModelAdmin, ServiceModelAdmin, audit_trail_html
from certif.admin_doors import adopt as _adopt
from certif.collation import user_order
from certif.models import AccessPathway
from certif.roles import Role, holders_of


class EnrolmentInline(ReadOnlyInline):
    """Read-only: an enrolment is created and changed on its own admin page, through the services."""

    model = Enrolment
    show_change_link = True
    fields = ["cohort", "enrolled_on", "status", "tutor_name", "vae_accompanist", "admissibility"]
    readonly_fields = fields

    @admin.display(description="recevabilité")
    def admissibility(self, enrolment):
        return enrolment.admissibility_label or "—"


@admin.register(Candidate)
class CandidateAdmin(ServiceModelAdmin):
    service_writes = frozenset({"add", "change"})
    form = CandidateForm
    list_display = ["full_name", "birth_date", "email", "employer_name", "employer_kind", "job_title"]
    list_filter = ["sex", "employer_kind"]
    search_fields = ["birth_name", "usage_name", "first_name", "email"]
    inlines = [EnrolmentInline]
    readonly_fields = ["audit_trail_table", "created_at", "updated_at"]
    fieldsets = [
        (
            "État civil",
            {
                "fields": [
                    ("birth_name", "usage_name"),
                    ("first_name", "second_first_name", "third_first_name"),
                    "sex",
                    "birth_date",
                    "birth_commune",
                    ("birth_insee_code", "birth_postal_code", "birth_country_code"),
                ]
            },
        ),
        ("Coordonnées", {"fields": ["email", "phone", "address", ("postal_code", "city")]}),
        ("Emploi", {"fields": ["employer_name", "employer_kind", "job_title"]}),
        (
            "Contrôle des doublons",
            {
                "fields": ["confirm_not_duplicate"],
                "description": "À cocher seulement si l'application signale un doublon probable.",
            },
        ),
        ("Historique", {"fields": ["audit_trail_table", "created_at", "updated_at"]}),
    ]

    @admin.display(description="Traces d'audit")
    def audit_trail_table(self, obj):
        return audit_trail_html(obj)

    def save_model(self, request, obj, form, change):
        # Not form.model_fields(): the admin's form class also lists confirm_not_duplicate in its Meta.fields.
        fields = {
            name: form.cleaned_data[name] for name in selectors.CANDIDATE_AUDITED_FIELDS if name in form.cleaned_data
        }
        if change:
            saved = services.candidate_update(candidate=obj, actor=request.user, **fields)
        else:
            saved = services.candidate_create(actor=request.user, **fields)
        _adopt(obj, saved)


class CohortAdminForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = ["certification", "name", "pathway", "preparation_place", "start_date", "end_date", "trainers"]


@admin.register(Cohort)
class CohortAdmin(ServiceModelAdmin):
    service_writes = frozenset({"add", "change"})
    form = CohortAdminForm
    list_display = ["name", "pathway", "preparation_place", "start_date", "end_date"]
    list_filter = ["pathway", "preparation_place"]
    search_fields = ["name"]
    filter_horizontal = ["trainers"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "pathway":
            kwargs["queryset"] = AccessPathway.objects.filter(is_open=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "trainers":
            kwargs["queryset"] = holders_of(Role.TRAINER).order_by(*user_order())
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # The trainers are set here, in the same transaction and the same audit event as the other fields.
        services.cohort_save(cohort=obj, trainers=form.cleaned_data["trainers"], actor=request.user)

    def save_related(self, request, form, formsets, change):
        # Not form.save_m2m(): cohort_save has set (and audited) the trainers already.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class EnrolmentAdminForm(forms.ModelForm):
    class Meta:
        model = Enrolment
        fields = ["candidate", "cohort", "enrolled_on", "status", "tutor_name", "vae_accompanist"]

    def clean(self):
        cleaned = super().clean()
        cohort = cleaned.get("cohort") or (self.instance.cohort if self.instance.pk else None)
        if cohort and cleaned.get("vae_accompanist", "").strip() and cohort.pathway.code != VAE_PATHWAY_CODE:
            self.add_error("vae_accompanist", "Un accompagnateur VAE ne se désigne que sur la voie VAE.")
        return cleaned


@admin.register(Enrolment)
class EnrolmentAdmin(ServiceModelAdmin):
    """Created with `enrolment_create`, changed with `enrolment_update`. The VAE admissibility decision is recorded on the
    application's own page (it must be dated and, when unfavourable, reasoned)."""

    service_writes = frozenset({"add", "change"})

    form = EnrolmentAdminForm
    list_display = ["candidate", "cohort", "enrolled_on", "status"]
    list_filter = ["status", "cohort"]
    search_fields = ["candidate__birth_name", "candidate__usage_name", "candidate__first_name", "cohort__name"]
    autocomplete_fields = ["candidate"]
    admissibility_fields = ["admissibility_date", "admissibility_favourable", "admissibility_reason"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["candidate", "cohort", "enrolled_on", "tutor_name", "vae_accompanist"]
        return ["candidate", "cohort", "enrolled_on", "status", "tutor_name", "vae_accompanist"] + (
            self.admissibility_fields
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["candidate", "cohort", "enrolled_on", *self.admissibility_fields]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "cohort":
            kwargs["queryset"] = Cohort.objects.filter(pathway__is_open=True).select_related("pathway")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.enrolment_update(
                enrolment=obj,
                actor=request.user,
                status=data["status"],
                tutor_name=data["tutor_name"],
                vae_accompanist=data["vae_accompanist"],
            )
        else:
            saved = services.enrolment_create(
                candidate=data["candidate"],
                cohort=data["cohort"],
                actor=request.user,
                enrolled_on=data["enrolled_on"],
                tutor_name=data["tutor_name"],
                vae_accompanist=data["vae_accompanist"],
            )
        _adopt(obj, saved)


class AcquiredBlockAdminForm(forms.ModelForm):
    class Meta:
        model = AcquiredBlock
        fields = ["candidate", "block", "acquired_on", "import_source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "import_source" in self.fields:
            self.fields["import_source"].required = True
            self.fields["import_source"].help_text = "Par exemple « Procès-verbal du jury du 14 juin 2022 »."

    def clean_acquired_on(self):
        acquired_on = self.cleaned_data["acquired_on"]
        if acquired_on and acquired_on > timezone.localdate():
            raise forms.ValidationError("La date d'acquisition ne peut pas être dans le futur.")
        return acquired_on


@admin.register(AcquiredBlock)
class AcquiredBlockAdmin(ServiceModelAdmin):
    """Here staff only record history (blocks acquired before the application, `acquired_block_import`); blocks
    validated by a jury join the ledger at sign-off. Once recorded, a block is neither changed nor deleted."""

    service_writes = frozenset({"add"})

    form = AcquiredBlockAdminForm
    list_display = ["candidate", "block", "acquired_on", "source", "import_source", "recorded_by"]
    list_filter = ["source", "block"]
    search_fields = ["candidate__birth_name", "candidate__usage_name", "candidate__first_name", "import_source"]
    autocomplete_fields = ["candidate"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["candidate", "block", "acquired_on", "import_source"]
        return ["candidate", "block", "acquired_on", "source", "import_source", "recorded_by", "recorded_at"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.acquired_block_import(
            candidate=data["candidate"],
            block=data["block"],
            acquired_on=data["acquired_on"],
            import_source=data["import_source"],
            actor=request.user,
        )
        _adopt(obj, saved)


@admin.register(CertificationAward)
class CertificationAwardAdmin(ReadOnlyModelAdmin):
    """Awarded at a jury's sign-off, with its unique certificate number: read-only everywhere."""

    list_display = ["number", "candidate", "certification", "awarded_on"]
    search_fields = ["number", "candidate__birth_name", "candidate__usage_name", "candidate__first_name"]
    date_hierarchy = "awarded_on"


class WithdrawnBlockInline(ReadOnlyInline):
    model = WithdrawnBlock
    fields = readonly_fields = ["acquired_block"]


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyModelAdmin):
    """A withdrawal is a signed act recorded from the candidate's file (password and confirmation): read-only here,
    with the blocks it withdrew and the documents it revoked."""

    list_display = ["decided_on", "candidate", "reference", "award", "recorded_by", "recorded_at"]
    search_fields = ["reference", "candidate__birth_name", "candidate__usage_name", "candidate__first_name"]
    date_hierarchy = "decided_on"
    fields = readonly_fields = [
        "candidate",
        "certification",
        "award",
        "reference",
        "decided_on",
        "reason",
        "recorded_by",
        "recorded_at",
    ]
    inlines = [WithdrawnBlockInline]
