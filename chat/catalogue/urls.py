from django.urls import path

from chat.catalogue import views

urlpatterns = [
    path("api/presets/", views.presets, name="presets"),
    path("api/instructions/", views.instructions, name="instructions"),
    path(
        "api/conversations/<uuid:pk>/settings/",
        views.conversation_settings,
        name="conversation-settings",
    ),
]
