from django.contrib import admin

from certif import admin_accounts  # noqa: F401 (the accounts' administration)
from certif.models import (
    AuditEvent,
    Block,
    Certification,
    Competence,
    Grid,
    PreparationPlace,
    RatingScale,
    Registration,
    RomeCode,
    ScaleLevel,
)


class RomeCodeInline(admin.TabularInline):
    model = RomeCode
    extra = 0


class PreparationPlaceInline(admin.TabularInline):
    model = PreparationPlace
    extra = 0


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["rncp_code", "title", "level_eqf"]
    inlines = [RomeCodeInline, PreparationPlaceInline]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["act", "certification", "in_force_from", "in_force_until"]
    list_filter = ["certification"]


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ["number", "certification", "threshold_kind", "threshold_value", "declared_competence_count"]
    list_filter = ["certification"]


class CompetenceInline(admin.TabularInline):
    model = Competence
    extra = 0


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["block", "version", "created_at", "frozen_at"]
    inlines = [CompetenceInline]

    def has_change_permission(self, request, obj=None):
        # A frozen grid is the record of signed results: nobody edits it, not even here.
        if obj is not None and obj.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class ScaleLevelInline(admin.TabularInline):
    model = ScaleLevel
    extra = 0


@admin.register(RatingScale)
class RatingScaleAdmin(admin.ModelAdmin):
    list_display = ["certification", "version", "first_used_at"]
    inlines = [ScaleLevelInline]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_in_use:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "actor", "action", "target_repr"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_repr", "action"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
