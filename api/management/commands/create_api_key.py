"""`manage.py create_api_key USERNAME [--name N]`: print a new key, once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.keys import key_create


class Command(BaseCommand):
    help = "Make an API key for a user and print it (it is shown only this once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="manage.py create_api_key")

    def handle(self, *args, username: str, name: str, **options) -> None:
        users = get_user_model()._default_manager
        try:
            user = users.get_by_natural_key(username)
        except users.model.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"{username!r} is blocked; its keys would not work.")
        _, key = key_create(user=user, name=name)
        self.stdout.write(key)
