from django.contrib import admin

from candidates.models import AccessPathway


@admin.register(AccessPathway)
class AccessPathwayAdmin(admin.ModelAdmin):
    list_display = ["label", "certification", "is_open"]
