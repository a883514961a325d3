from django import template

from certif.rules import format_decimal
from certif.text import plural_suffix

register = template.Library()

register.filter("fr_plural", plural_suffix)
register.filter("fr_decimal", format_decimal)
