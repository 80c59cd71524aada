from django.urls import path

from chat.tools import views

urlpatterns = [
    path(
        "api/conversations/<uuid:pk>/tools/",
        views.conversation_tools,
        name="conversation-tools",
    ),
    path("api/artefacts/<uuid:pk>/", views.artefact, name="tool-artefact"),
]
