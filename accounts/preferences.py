"""A person's preferences for the page, stored with the account (one row each,
made on first change): the theme is rendered into the page, so it shows from the
first paint in every browser they sign in from."""

from __future__ import annotations

from accounts.models import Preferences
from chat.errors import InvalidInput

Theme = Preferences.Theme


def theme_of(user) -> str:
    """The user's theme: `light`, `dark`, or `system` (the browser's preference,
    also for a user who never chose); "" for an anonymous visitor."""
    if not user.is_authenticated:
        return ""
    chosen = (
        Preferences.objects.filter(user=user).values_list("theme", flat=True).first()
    )
    return chosen or Theme.SYSTEM


async def theme_set(*, user, theme) -> str:
    """Store the user's theme; a value other than the three is refused."""
    if theme not in Theme.values:
        choices = ", ".join(f'"{value}"' for value in Theme.values)
        raise InvalidInput(f"The theme must be one of {choices}.")
    await Preferences.objects.aupdate_or_create(user=user, defaults={"theme": theme})
    return theme


async def preferences_get(*, user) -> dict:
    row = await Preferences.objects.filter(user=user).afirst()
    return {"theme": row.theme if row else Theme.SYSTEM}
