"""Routes of the Server-Sent Events endpoint (chat/sse.py); included at the site
root by chatproject/urls.py."""

from django.urls import path

from chat import sse

app_name = "sse"

urlpatterns = [
    path("api/chat/stream", sse.stream_send, name="send"),
    path("api/chat/stream/<uuid:message_id>", sse.stream_follow, name="follow"),
    path("api/chat/stream/<uuid:message_id>/stop", sse.stream_stop, name="stop"),
]
