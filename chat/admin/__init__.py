"""Admin: what the service costs, who uses it, how fast it is and what fails; one
module per model, registered when Django imports this package.

Records (messages, model calls, errors) are read-only: editing them would falsify
history. Their lists filter by date with list_filter rather than date_hierarchy,
whose SELECT DISTINCT over every row takes seconds on SQLite at 100,000 rows.

Message text stays off the ordinary pages; staff read a conversation on its
"investigate" page, which asks why and records the access in the admin log.
Actions call services (chat.cache.invalidation, chat.limits, chat.blocking); HTML
lives in templates/admin/chat/.
"""

from chat.admin import (  # noqa: F401  (each registers its models)
    conversations,
    errors,
    model_calls,
    quotas,
    users,
)
from chat.catalogue import admin as catalogue_admin  # noqa: F401, E402
from chat.tools import admin as tools_admin  # noqa: F401, E402
