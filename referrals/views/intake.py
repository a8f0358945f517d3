"""The partner contact's pages behind the emailed link (no account): the summary, accept or
decline, the one-time code, then the loop's steps."""

from __future__ import annotations

from django.http import Http404
from django.urls import path


def intake_view(request, token):
    raise Http404


urlpatterns: list = []
public_urlpatterns: list = [
    path("intake/<str:token>/", intake_view, name="intake"),
]
