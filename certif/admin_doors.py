"""The two kinds of admin page the application allows: read-only, or writing through a service.

The admin is one more door to the data, and it keeps the same rules as the application's own pages: a model that a
service writes is either read-only here or saved (and deleted) through that service, with its validation and its
audit trace. `tests/test_consistency.py` holds the table of what each model's admin does, and checks it.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

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

    `service_writes` names what the services behind the admin do; the other operations are refused here.
    """

    actions = None
    service_writes: frozenset[str] = frozenset({"add", "change", "delete"})

    def has_add_permission(self, request):
        return "add" in self.service_writes and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return "change" in self.service_writes and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return "delete" in self.service_writes and super().has_delete_permission(request, obj)

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


def audit_trail_html(obj):
    """The object's audit trail as a small table: date, author, action, before, after (fields' labels, values)."""
    from certif.audit_display import describe_events, lines_html

    if obj is None or obj.pk is None:
        return "—"
    events = describe_events(audit_trail(obj)[:100])
    if not events:
        return "Aucune trace."
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((event.when, event.actor, event.label, lines_html(event.before), lines_html(event.after)) for event in events),
    )
    return format_html(
        '<table class="audit-trail"><thead><tr><th>Date</th><th>Auteur</th><th>Action</th><th>Avant</th>'
        "<th>Après</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )
