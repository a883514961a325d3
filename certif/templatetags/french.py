from django import template

from certif.rules import format_decimal
from certif.text import de_name, french_date, french_dates_in, lower_first, plural_suffix

register = template.Library()

register.filter("fr_plural", plural_suffix)
register.filter("fr_decimal", format_decimal)
# « 9 avril 2018 », « 1er juin 2026 »: Django's `date:"j F Y"` writes « 1 juin ».
register.filter("fr_date", french_date)
# The dates of a text recorded elsewhere (an act's name from the RNCP export: « Arrêté du 9 avril 2018 »).
register.filter("fr_dates", french_dates_in)
register.filter("de_name", de_name)
register.filter("lower_first", lower_first)
