"""`{% site_budget_banner %}`: the admin's warning when the site nears its caps."""

from asgiref.sync import async_to_sync
from django import template

from chat.observability.site_budget import banner_lines, refresh_site_metrics

register = template.Library()


@register.inclusion_tag("admin/site_budget_banner.html", takes_context=True)
def site_budget_banner(context) -> dict:
    request = context.get("request")
    if request is None or not request.user.is_staff:
        return {"lines": []}
    return {"lines": banner_lines(async_to_sync(refresh_site_metrics)())}
