from django.contrib import admin
from django.urls import include, path

from chat import views as chat_views

urlpatterns = [
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", chat_views.healthz, name="healthz"),
    path("", include("chat.observability.urls")),
    path("", include("chat.sse_urls")),
    path("", include("api.urls")),
    path("", include("chat.urls")),
]
