from django.urls import path

from chat.catalogue import pages, views

urlpatterns = [
    path("settings/", pages.settings_page, name="settings"),
    path("settings/presets/<int:pk>/delete", pages.preset_delete, name="preset-delete"),
    path("api/models/", views.models, name="models"),
    path("api/presets/", views.presets, name="presets"),
    path("api/instructions/", views.instructions, name="instructions"),
    path(
        "api/conversations/<uuid:pk>/settings/",
        views.conversation_settings,
        name="conversation-settings",
    ),
]
