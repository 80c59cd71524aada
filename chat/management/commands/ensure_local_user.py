import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "In DEBUG with no users yet, create a local account (staff, so the admin "
        "works too) and print its credentials. Never with DEBUG off."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Refusing to create a local account with DEBUG off.")
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write("Users exist already; no local account created.")
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser("local", "local@example.invalid", password)
        # Verified, so the account may chat and reset its password like any other.
        EmailAddress.objects.create(
            user=user, email=user.email, primary=True, verified=True
        )
        bar = "=" * 60
        self.stdout.write(
            f"{bar}\nLocal account created. Log in at http://127.0.0.1:8000/\n"
            f"  username: local\n  password: {password}\n"
            f"(shown once; reset with `manage.py changepassword local`)\n{bar}"
        )
