"""Operational endpoints; included at the site root (see docs/observability.md)."""

from django.urls import path

from chat.observability import views

app_name = "observability"

urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
    path("readyz", views.readyz, name="readyz"),
]
