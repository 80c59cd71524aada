import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.urls import reverse

PASSWORD = "pw-carol-123!"


@pytest.fixture
def carol(db):
    """An account with a verified email, as sign-up or an administrator makes one."""
    user = get_user_model().objects.create_user(
        "carol", email="carol@example.com", password=PASSWORD
    )
    EmailAddress.objects.create(
        user=user, email=user.email, primary=True, verified=True
    )
    return user


def log_in(client, login: str, password: str, **extra):
    """Post the login form as the page does."""
    return client.post(
        reverse("account_login"), {"login": login, "password": password}, **extra
    )


def form_errors(response) -> str:
    """The page's alert text (the form's non-field errors)."""
    form = response.context["form"]
    return " ".join(form.non_field_errors())
