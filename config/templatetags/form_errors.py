"""The top of every form: the legend of the required marks and, after a refused submission, the summary of its
errors, each linked to its field (RGAA 11.10, 11.11; DSFR's error summary). `{{ form|crispy }}` renders it through
templates/bootstrap5/errors.html; a hand-written form calls `{% form_top form %}` above its fields."""

from dataclasses import dataclass

from django import forms, template

register = template.Library()


@dataclass(frozen=True)
class ErrorItem:
    message: str
    label: str = ""
    anchor: str = ""  # the id of the field's input, without "#": the link moves focus there


def _field_anchor(field: forms.BoundField) -> str:
    # A group of radios or checkboxes has no single input: the link goes to its first one.
    return field.id_for_label or (f"{field.auto_id}_0" if field.auto_id else "")


def _form_items(form: forms.BaseForm, row: int | None = None) -> list[ErrorItem]:
    prefix = f"Ligne {row} — " if row else ""
    items = [ErrorItem(message=str(error), label=prefix.removesuffix(" — ")) for error in form.non_field_errors()]
    for field in form:
        for error in field.errors:
            if field.is_hidden:
                items.append(ErrorItem(message=str(error), label=prefix.removesuffix(" — ")))
            else:
                items.append(ErrorItem(message=str(error), label=f"{prefix}{field.label}", anchor=_field_anchor(field)))
    return items


def error_items(form) -> list[ErrorItem]:
    """Every error of a form or a formset, in the order of the page."""
    if isinstance(form, forms.BaseFormSet):
        if not form.is_bound:
            return []
        items = [ErrorItem(message=str(error)) for error in form.non_form_errors()]
        for number, member in enumerate(form.forms, start=1):
            items.extend(_form_items(member, row=number))
        return items
    if not form.is_bound:
        return []
    return _form_items(form)


def has_required_field(form) -> bool:
    members = form.forms if isinstance(form, forms.BaseFormSet) else [form]
    return any(field.field.required and not field.is_hidden for member in members for field in member)


@register.inclusion_tag("includes/form_top.html")
def form_top(form, legend: bool = True):
    """The required marks' legend (when a field is required) and the error summary (when the form was refused)."""
    items = error_items(form) if form is not None else []
    prefix = getattr(form, "prefix", None) or "formulaire"
    return {
        "items": items,
        "summary_id": f"{prefix}-erreurs",
        "show_legend": legend and form is not None and has_required_field(form),
    }
