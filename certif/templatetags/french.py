from django import template

from certif.text import plural_suffix

register = template.Library()

register.filter("fr_plural", plural_suffix)
