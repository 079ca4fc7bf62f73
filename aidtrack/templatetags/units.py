"""`{{ code|unit_symbol }}`: a cargo unit code ("pcs", "t") as the page's language writes it after a number."""

from django import template

from shipments.models import CargoType

register = template.Library()


@register.filter
def unit_symbol(code: str) -> str:
    return str(CargoType.UNIT_SYMBOLS.get(code, code))
