from django.urls import path

from chat import views
from chat.catalogue.urls import urlpatterns as catalogue_urls

app_name = "chat"

urlpatterns = [
    path("", views.index, name="index"),
    path("api/conversations/", views.conversation_list, name="conversation-list"),
    path(
        "api/conversations/<uuid:pk>/",
        views.conversation_detail,
        name="conversation-detail",
    ),
    path("api/usage/", views.usage_summary, name="usage"),
    *catalogue_urls,
]
