"""Settings for the daphne processes the resilience tests start: production settings
from the environment, as deployed, with static files served without a collectstatic
manifest (as chatproject/settings_test.py does in-process)."""

import os

from chatproject.settings import *  # noqa: F403
from chatproject.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test's users start at id 1 in a fresh database: keep their limit counters
# apart from other runs sharing the same Redis.
CHAT_LIMITS_KEY_PREFIX = os.environ.get("CHAT_LIMITS_KEY_PREFIX", "chat:limits")
