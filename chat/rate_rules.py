"""Per-user rate rules: "10/1m" means at most 10 requests in any 60 seconds
(a sliding window, exact at every instant, so a burst of 10 is allowed but never 11)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_RULE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


@dataclass(frozen=True)
class RateRule:
    limit: int
    window: float  # seconds

    def __str__(self) -> str:
        return f"{self.limit}/{self.window:g}s"


def parse_rate_rules(value: str | Iterable[str | tuple[int, float]]) -> tuple:
    """Rules from "10/1m, 200/1d", a list of such strings, or (limit, seconds) pairs;
    ValueError names the bad one."""
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    rules = []
    for item in value:
        if isinstance(item, str):
            match = _RULE.match(item)
            if not match:
                raise ValueError(
                    f"Rate rule {item.strip()!r} should look like 10/60, 10/1m or "
                    "200/1d (requests/window)."
                )
            limit, amount, unit = match.groups()
            rule = RateRule(int(limit), float(amount) * _UNITS[unit])
        else:
            limit, seconds = item
            rule = RateRule(int(limit), float(seconds))
        if rule.window <= 0 or rule.limit < 0:
            raise ValueError(f"Rate rule {item!r} needs a positive window.")
        rules.append(rule)
    return tuple(rules)


def validate_rate_limits(value: str) -> None:
    """Model field validator for a Quota's rate rules."""
    try:
        parse_rate_rules(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
