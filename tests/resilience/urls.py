"""The site's routes plus the SSE routes, unless the site already includes them."""

from django.urls import include, path

import chat.sse_urls
from chatproject.urls import urlpatterns as site_urlpatterns

urlpatterns = list(site_urlpatterns)
if not any(getattr(p, "urlconf_name", None) is chat.sse_urls for p in urlpatterns):
    urlpatterns.append(path("", include("chat.sse_urls")))
