from django import forms
from django.utils.html import format_html
from django.utils.safestring import mark_safe

# The browser's date picker sends and reads ISO dates (YYYY-MM-DD), whatever the page's locale shows.
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ShortChoiceIterator(forms.models.ModelChoiceIterator):
    """The choices of a short list (a few dozen rows) read by one plain query.

    Django's iterator reads them through `QuerySet.iterator()`, which on PostgreSQL declares a server-side cursor held
    past the commit: three round trips and a materialised result for a filter's handful of options."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class QuickSelect(forms.Select):
    """A menu written out in one pass. Django renders a menu through templates, one per option: the five menus of
    a list's filters cost more than its rows. Same markup, same attributes (those the bound field adds included);
    a menu with option groups goes through Django's rendering."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        options, chosen = [], False
        # Iterated, not list()-ed: a model field's choices would first be counted by a query of their own.
        for option_value, label in iter(self.choices):
            if isinstance(label, list | tuple):
                return super().render(name, value, attrs, renderer)
            option = "" if option_value is None else str(option_value)
            is_selected = not chosen and option in selected
            chosen = chosen or is_selected
            options.append(
                format_html('<option value="{}"{}>{}</option>', option, " selected" if is_selected else "", label)
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            _attributes(self.build_attrs(self.attrs, attrs)),
            mark_safe("".join(options)),  # each option escaped by format_html above
        )


def _attributes(attrs: dict) -> str:
    """As Django's attrs.html writes them: in their order, a true one by its name alone, a false one left out."""
    return mark_safe(  # each value escaped by format_html
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not None and value is not False
        )
    )
