"""The API key settings page and the OpenAI-compatible API (/v1); included at the
site root by chatproject/urls.py."""

from django.urls import path

from api import pages, views

app_name = "api"

urlpatterns = [
    path("settings/api-keys/", pages.api_keys, name="keys"),
    path("settings/api-keys/<int:pk>/revoke", pages.api_key_revoke, name="revoke"),
    path("v1/chat/completions", views.chat_completions, name="chat-completions"),
    path("v1/models", views.models_list, name="models"),
    path("v1/models/<path:model>", views.model_detail, name="model"),
]
