from django import forms

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
