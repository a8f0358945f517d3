from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from config import views
from schools.views.invitations import invitation_accept_view

# The admin signs in through allauth: same rate limits, verification and MFA as everyone;
# the site (schools/admin_site.py) sends staff without an authenticator to set one up.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Trellis platform administration"

# 400 and 404 use Django's handlers with templates/400.html and 404.html.
handler403 = "config.views.permission_denied"
# 500.html, or 503.html with Retry-After when the database could not be reached.
handler500 = "config.views.server_error"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dev/outbox/", views.dev_outbox, name="dev_outbox"),
    # The emailed invitation link: outside any district, the signed token names it.
    path("invitations/<str:token>/", invitation_accept_view, name="invitation_accept"),
    path("p/", include("partnerships.public_urls")),
    path("r/", include("referrals.public_urls")),
    path("", views.home, name="home"),
    # Everything inside a district; keep last so fixed prefixes above win.
    path("<slug:district_slug>/", include("schools.urls")),
    path("<slug:district_slug>/", include("partnerships.urls")),
    path("<slug:district_slug>/", include("referrals.urls")),
]
