"""The site's URLs plus the observability endpoints, as the lead will include them."""

from django.urls import include, path

from chatproject.urls import urlpatterns as site

urlpatterns = [path("", include("chat.observability.urls")), *site]
