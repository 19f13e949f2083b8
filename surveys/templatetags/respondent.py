"""Template filters of the respondent journey."""

from django import template

from surveys.forms import choice_options

register = template.Library()
register.filter("choice_options", choice_options)
