from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dev/outbox/", views.dev_outbox, name="dev_outbox"),
    path("", views.home, name="home"),
    # Everything inside a district; keep last so fixed prefixes above win.
    path("<slug:district_slug>/", include("schools.urls")),
]
