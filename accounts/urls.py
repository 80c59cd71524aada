from allauth.account import views as allauth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views

urlpatterns = [
    # The names the page and older links use, on allauth's views.
    path("accounts/login/", allauth_views.login, name="login"),
    path("accounts/logout/", allauth_views.logout, name="logout"),
    path("accounts/signup/", allauth_views.signup, name="signup"),
    path("accounts/invite/<str:token>/", views.invitation, name="invitation"),
    path("api/preferences/", views.preferences, name="preferences"),
    path("accounts/", include("allauth.urls")),
    # The admin's own login would skip the throttle and the second factor.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
    ),
]
