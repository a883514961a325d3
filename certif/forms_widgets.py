from django import forms

# The browser's date picker sends and reads ISO dates (YYYY-MM-DD), whatever the page's locale shows.
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
