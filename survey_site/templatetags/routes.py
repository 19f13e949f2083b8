"""``{% fixed_url 'name' %}``: the URL of a route that takes no arguments, worked out once.

For the links every page carries (the footer's, the respondent's sign-out, keep-alive and
task list): Django's ``{% url %}`` reverses the name on every render, about 30 µs each, and
a respondent's page has seven. A route without arguments has one URL for the life of the
process, given the script prefix it is served under, which is part of the cache's key.
Loaded as a template builtin (settings.TEMPLATES); ``{% fixed_url 'name' as variable %}``
works as ``{% url %}``'s does. Anything with arguments uses ``{% url %}``.
"""

from __future__ import annotations

import functools

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()


@register.simple_tag
def fixed_url(name: str) -> str:
    return _reversed(name, get_script_prefix())


@functools.lru_cache(maxsize=64)
def _reversed(name: str, prefix: str) -> str:
    return reverse(name)
