"""The two kinds of admin page the application allows: read-only, or writing through a service.

The admin is one more door to the data, and it keeps the same rules as the application's own pages: a model that a
service writes is either read-only here or saved (and deleted) through that service, with its validation and its
audit trace. `tests/test_consistency.py` holds the table of what each model's admin does, and checks it.
"""

import contextlib
import datetime

from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from certif.audit import audit_trail


class ReadOnlyInline(admin.TabularInline):
    """Rows shown inside another object's page; changed on their own page or through a service, never here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyModelAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceModelAdmin(admin.ModelAdmin):
    """Subclasses save in `save_model` (and delete in `delete_model`) by calling a service.

    The form's validation runs the model's rules first (field errors next to the field). A service may still
    refuse at save time, on what the form could not see (another person's change in between): the admin's own
    transaction is then rolled back, and the refusal is shown in French on the page the person was on.
    No bulk action: a bulk delete would bypass `delete_model`.
    """

    actions = None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id]))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


def adopt(obj, saved):
    """Copy onto the admin's instance what a service saved, so that the admin goes on with a saved object."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


# — The audit trail shown on an object's admin page —


AUDIT_ACTION_LABELS = {
    "candidate.created": "Création de la fiche",
    "candidate.updated": "Modification de la fiche",
    "referential.threshold_changed": "Modification de la règle du bloc",
    "referential.registration_added": "Ajout de l'enregistrement",
    "referential.registration_changed": "Correction de l'enregistrement",
    "referential.certification_changed": "Modification de la description",
}


def _display_value(model, name, value):
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return str(name), value
    if field.choices and value not in (None, ""):
        value = dict(field.flatchoices).get(value, value)
    elif isinstance(field, models.DateField) and isinstance(value, str) and value:
        with contextlib.suppress(ValueError):
            value = date_format(datetime.date.fromisoformat(value), "d/m/Y")
    return str(field.verbose_name), value


def _changes_html(model, values, *, skip_empty=False):
    """One line per field: its label and value. `skip_empty` leaves out blank fields (a creation)."""
    if not values:
        return "—"
    rows = []
    for name, value in values.items():
        if skip_empty and value in (None, ""):
            continue
        label, shown = _display_value(model, name, value)
        if shown is None:
            shown = "—"
        elif shown == "":
            shown = "(vide)"
        elif isinstance(shown, list):
            shown = ", ".join(str(item) for item in shown) or "(aucun)"
        rows.append((label, shown))
    return format_html_join(mark_safe("<br>"), "{} : {}", rows)


def audit_trail_html(obj):
    """The object's audit trail as a small table: date, author, action, before, after."""
    if obj is None or obj.pk is None:
        return "—"
    events = list(audit_trail(obj)[:100])
    if not events:
        return "Aucune trace."
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                date_format(timezone.localtime(event.occurred_at), "d/m/Y H:i"),
                (event.actor.get_full_name() or event.actor.get_username()) if event.actor else "—",
                AUDIT_ACTION_LABELS.get(event.action, event.action),
                _changes_html(type(obj), event.before),
                _changes_html(type(obj), event.after, skip_empty=event.before is None),
            )
            for event in events
        ),
    )
    return format_html(
        '<table class="audit-trail"><thead><tr><th>Date</th><th>Auteur</th><th>Action</th><th>Avant</th>'
        "<th>Après</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )
