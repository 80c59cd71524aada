"""Limits that hold across every process: per-user rate, concurrency and budgets,
and per-endpoint upstream capacity with a FIFO queue and 429 pauses.

The turn calls `admit` before the model and `Admission.settle` after it; see
docs/limits.md. Nothing here imports chat.models at import time, since chat.models
imports the Quota model from this package.
"""

from chat.limits.admission import Admission, admit
from chat.limits.budgets import BudgetStatus, budget_reset, budget_status
from chat.limits.exceptions import LimitsUnavailable
from chat.limits.policies import Policy, policy_for
from chat.limits.upstream import note_provider_429, retry_after_seconds
from chat.rate_rules import RateRule

__all__ = [
    "Admission",
    "BudgetStatus",
    "LimitsUnavailable",
    "Policy",
    "RateRule",
    "admit",
    "budget_reset",
    "budget_status",
    "note_provider_429",
    "policy_for",
    "retry_after_seconds",
]
