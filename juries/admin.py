from django.contrib import admin

from juries.models import JuryCompositionRule


@admin.register(JuryCompositionRule)
class JuryCompositionRuleAdmin(admin.ModelAdmin):
    list_display = ["certification", "professionals_percent", "trainers_percent"]
