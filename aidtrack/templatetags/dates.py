"""`{{ "2020-11-01"|iso_date|date:"F Y" }}`: an ISO date string (as the API gives it) as a date for the page."""

import datetime

from django import template

register = template.Library()


@register.filter
def iso_date(value: str):
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return value
