"""Create bench users with logged-in sessions in the app's database.

Run with the app's environment: python -m bench.app_users N OUT.json
Writes the session keys (one per user, cookie ``sessionid``) to OUT.json. Users get
unusable passwords: the sessions are made as django.contrib.auth.login would.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.app_settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import transaction  # noqa: E402

PREFIX = "bench"


def main() -> None:
    count, out = int(sys.argv[1]), sys.argv[2]
    user_model = get_user_model()
    names = [f"{PREFIX}{i:05d}" for i in range(count)]
    with transaction.atomic():
        have = set(
            user_model.objects.filter(username__in=names).values_list(
                "username", flat=True
            )
        )
        new = []
        for name in names:
            if name not in have:
                user = user_model(username=name)
                user.set_unusable_password()
                new.append(user)
        user_model.objects.bulk_create(new, batch_size=500)
        users = {u.username: u for u in user_model.objects.filter(username__in=names)}
        keys = []
        for name in names:
            user = users[name]
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            keys.append(session.session_key)
    with open(out, "w") as f:
        json.dump(keys, f)
    print(f"{len(keys)} sessions")


if __name__ == "__main__":
    main()
