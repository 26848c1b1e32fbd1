from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts.forms import AdminLoginForm

from . import views

admin.site.login_form = AdminLoginForm  # the site's sign-in limits (accounts.signin) on the admin's too
admin.site.site_header = _("НМО Portal administration")
admin.site.site_title = _("НМО Portal")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("me/", include("accounts.urls")),
    # before the apps' root-level includes, which every path would otherwise be tried against first
    path("api/", include(("nmo_portal.api", "api"), namespace="api")),
    path("", include("events.urls")),
    path("", include("modules.urls")),
    path("", include("review.urls")),
    path("", include("codes.urls")),
    path("", include("learning_plan.urls")),
    path("", include("societies.urls")),
    path("", include("statuses.urls")),
    path("", include("ministry_sync.urls")),
    path("admin/", admin.site.urls),
]

if settings.MINISTRY_MOCK_MOUNTED:
    # Development only (DEBUG, or MINISTRY_MOCK_MOUNTED=1 for the tests): production talks to the mock, or the
    # real Ministry portal, at MINISTRY_API_URL, and /ministry-mock/ is a 404 here.
    urlpatterns.append(path("ministry-mock/", include("ministry_mock.urls")))

# Nothing is served under MEDIA_URL: generated files are private and go out through views that check who asks.
