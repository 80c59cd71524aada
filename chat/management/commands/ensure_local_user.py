import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "local"


def box(lines: list[str]) -> str:
    """The lines framed, so they stand out as the last thing printed."""
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


class Command(BaseCommand):
    help = (
        "In DEBUG with no users yet, create a local account (staff, so the admin "
        "works too) and print its credentials once, in a box; later, print who to "
        "log in as and how to reset the password (it is never stored to reprint)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, url: str, **options):
        if not settings.DEBUG:
            raise CommandError("Refusing to create a local account with DEBUG off.")
        User = get_user_model()
        reset = f".venv/bin/python manage.py changepassword {USERNAME}"
        if not User.objects.exists():
            password = secrets.token_urlsafe(12)
            user = User.objects.create_superuser(
                USERNAME, "local@example.invalid", password
            )
            # Verified, so the account may chat and reset its password like any other.
            EmailAddress.objects.create(
                user=user, email=user.email, primary=True, verified=True
            )
            lines = [
                f"Open {url}",
                f"username: {USERNAME}",
                f"password: {password}",
                "(shown this once; to reset it later:",
                f" {reset})",
            ]
        elif User.objects.filter(username=USERNAME).exists():
            lines = [
                f"Open {url}",
                f"username: {USERNAME}",
                f"forgot the password? {reset}",
            ]
        else:
            lines = [f"Open {url}", "Log in with your account."]
        self.stdout.write(box(lines))
