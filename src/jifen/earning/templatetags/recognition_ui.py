"""Template helpers for thank-yous: the message with its @mentions as links, and the
avatar colour of a person without a photo."""

from __future__ import annotations

import re

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from jifen.earning.models import Recognition
from jifen.people.models import Employee
from jifen.people.selectors import avatar_colour

register = template.Library()


@register.filter
def with_mentions(recognition: Recognition) -> SafeString:
    """The message, escaped, with each "@name" of a mentioned colleague a link to the
    thank-yous about them. Nothing the writer typed becomes HTML."""
    message = recognition.message
    people = {f"@{p.name}": p for p in recognition.mentions.all()}
    if not people:
        return escape(message)
    feed = reverse("portal:recognition")
    # Longest first, so that "@张伟明" is not taken as "@张伟" followed by "明".
    pattern = re.compile("|".join(re.escape(t) for t in sorted(people, key=len, reverse=True)))
    parts, last = [], 0
    for found in pattern.finditer(message):
        person = people[found.group(0)]
        parts.append(escape(message[last:found.start()]))
        parts.append(format_html(
            '<a class="jf-mention" href="{}?{}" data-employee-no="{}">{}</a>', feed,
            urlencode({"person": person.employee_no}), person.employee_no, found.group(0)))
        last = found.end()
    parts.append(escape(message[last:]))
    return mark_safe("".join(parts))  # every part escaped above


@register.filter
def avatar_class(employee: Employee) -> str:
    return f"jf-av-{avatar_colour(employee)}"
