from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from chat import views, webapp
from chat.catalogue.urls import urlpatterns as catalogue_urls
from chat.tools.urls import urlpatterns as tools_urls

app_name = "chat"

urlpatterns = [
    path("", views.index, name="index"),
    path("api/conversations/", views.conversation_list, name="conversation-list"),
    path(
        "api/conversations/<uuid:pk>/",
        views.conversation_detail,
        name="conversation-detail",
    ),
    path(
        "api/conversations/<uuid:pk>/active/",
        views.active_branch,
        name="conversation-active",
    ),
    path("api/usage/", views.usage_summary, name="usage"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="jsi18n"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("manifest.webmanifest", webapp.manifest, name="manifest"),
    path("sw.js", webapp.service_worker, name="service-worker"),
    path("offline/", webapp.offline, name="offline"),
    *catalogue_urls,
    *tools_urls,
]
