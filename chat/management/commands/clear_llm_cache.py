"""Clear the response cache: the whole namespace, one model's or one user's entries."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from chat.cache.backends import backend_name
from chat.cache.invalidation import cache_clear


class Command(BaseCommand):
    help = (
        "Clear the LLM response cache: everything, or only entries of --model "
        "and/or --user (id or username)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--model", help="Only entries of this model name.")
        parser.add_argument("--user", help="Only entries of this user (id or name).")

    def handle(self, *args, model=None, user=None, **options):
        name = backend_name()
        if name == "off":
            self.stdout.write("The response cache is off (CHAT_CACHE_BACKEND=off).")
            return
        user_id = self._user_id(user) if user else None
        removed = cache_clear(model=model, user_id=user_id)
        what = " and ".join(
            part
            for part in (
                f"model {model!r}" if model else "",
                f"user {user!r}" if user else "",
            )
            if part
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Removed {removed} cached repl{'y' if removed == 1 else 'ies'}"
                f"{' of ' + what if what else ''} from the {name} store."
            )
        )
        if name == "memory":
            self.stdout.write(
                self.style.WARNING(
                    "The memory store lives inside each server process: this cleared "
                    "only this command's own. Use the admin actions, or a shared "
                    "store (sqlite, redis), to clear a running server's cache."
                )
            )

    def _user_id(self, value: str) -> int:
        users = get_user_model()
        lookup = (
            {"pk": int(value)} if value.isdigit() else {users.USERNAME_FIELD: value}
        )
        try:
            return users.objects.only("pk").get(**lookup).pk
        except users.DoesNotExist:
            raise CommandError(f"No user {value!r}.") from None
