from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from chat import views as chat_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", chat_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", chat_views.signup, name="signup"),
    path("healthz", chat_views.healthz, name="healthz"),
    path("", include("chat.observability.urls")),
    path("", include("chat.sse_urls")),
    path("", include("api.urls")),
    path("", include("chat.urls")),
]
