"""`{{ amount|money }}`: a cost with significant digits, as the admin shows it."""

from django import template

from chat.observability.charts import money as money_text

register = template.Library()


@register.filter
def money(value) -> str:
    return "—" if value is None else money_text(value)
